package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/lvmmeta"
	"holmes/render"
)

// LVMScanOptions are holmes lvm scan's arguments and flags.
type LVMScanOptions struct {
	*Factory
	Devices []string
	JSON    bool
}

// NewCmdLVMScan builds holmes lvm scan; runF replaces the run (tests).
func NewCmdLVMScan(f *Factory, runF func(*LVMScanOptions) error) *cobra.Command {
	opts := &LVMScanOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "scan DEV...",
		Short: "PV label, metadata area headers and every metadata version still in the circular buffer",
		Long: `scan reads each DEV's LVM2 PV label (in one of the first four sectors), its
metadata area headers, and every version of the VG metadata text still held
in the circular buffer, oldest to newest, with offsets, checksums and which
one is committed. A PV whose label was wiped is still read when its metadata
area sits at lvm2's default offset. Every PV is reported; DEVs that cannot be
opened or hold no PV are named afterwards (exit 1).`,
		Example: `  holmes lvm scan md0 --case case.json --json`,
		Args:    minArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Devices = args
			if runF != nil {
				return runF(opts)
			}
			return lvmScanRun(opts)
		},
	}
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

func lvmScanRun(opts *LVMScanOptions) error {
	devs, fails := opts.OpenEach(opts.Devices)
	defer closeAll(devs)
	// A device that is no PV must not hide the others: report every PV,
	// then fail naming the rest (as md examine does).
	scans := []*lvmmeta.PVScan{}
	for _, d := range devs {
		s, err := lvmmeta.Scan(d, d.Size(), d.Name())
		if err != nil {
			fails.add(err)
			continue
		}
		scans = append(scans, s)
	}
	if len(scans) == 0 {
		return fails.err()
	}
	err := emit(opts.Out, opts.JSON, scans, func(w io.Writer) error {
		for i, s := range scans {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := printPVScan(w, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return fails.err()
}

func printPVScan(w io.Writer, s *lvmmeta.PVScan) error {
	pairs := [][2]string{{"Device", s.Device}}
	if l := s.Label; l != nil {
		pairs = append(pairs,
			[2]string{"Label sector", strconv.FormatInt(l.Sector, 10)},
			[2]string{"PV UUID", l.PVUUID},
			[2]string{"Device size", strconv.FormatInt(l.DeviceSize, 10)},
			[2]string{"Data areas", areas(l.DataAreas)},
			[2]string{"Metadata areas", areas(l.MetadataAreas)})
	} else {
		pairs = append(pairs, [2]string{"Label", "none (" + s.LabelError + "); metadata area found at lvm2's default offset"})
	}
	for _, h := range s.Headers {
		slot := "none"
		if len(h.Slots) > 0 {
			slot = fmt.Sprintf("text at %d+%d crc %08x", h.Offset+h.Slots[0].Offset, h.Slots[0].Size, h.Slots[0].Checksum)
		}
		pairs = append(pairs, [2]string{fmt.Sprintf("mda at %d", h.Offset), fmt.Sprintf("size %d, committed %s", h.Size, slot)})
	}
	if err := render.KeyValues(w, pairs); err != nil {
		return err
	}
	rows := [][]string{}
	for _, m := range s.Metadata {
		state := "old"
		if m.Current {
			state = "current"
			if m.ChecksumOK != nil && !*m.ChecksumOK {
				state = "current, BAD CHECKSUM"
			}
		}
		if !m.Complete {
			state += ", incomplete"
		}
		if m.Wrapped {
			state += ", wrapped"
		}
		rows = append(rows, []string{strconv.FormatInt(m.Offset, 10), strconv.FormatInt(m.Size, 10), m.Checksum, m.VG, strconv.FormatInt(m.Seqno, 10), m.VGUUID, state})
	}
	return render.Table(w, []string{"OFFSET", "SIZE", "CRC", "VG", "SEQNO", "VG UUID", "STATE"}, rows)
}

func areas(as []lvmmeta.Area) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("%d+%d", a.Offset, a.Size))
	}
	if parts == nil {
		return "none"
	}
	return strings.Join(parts, ", ")
}
