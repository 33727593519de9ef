package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/mdraid"
	"holmes/render"
	"holmes/scan"
)

var scanFlags struct {
	edge, step string
	full       bool
}

var scanCmd = &cobra.Command{
	Use:   "scan DEV...",
	Short: "Find partition tables, md superblocks, LVM labels, ext superblocks and DRBD metadata by signature",
	Long: `scan reports what each device holds: its partition table and partitions, then
every md superblock, LVM PV label, ext superblock (primary and backups) and
DRBD metadata block found, with byte offsets. It does not need the partition
table: every sector of the first and last --edge bytes (64 MiB) is searched,
which finds partitions made by any partitioning tool and the metadata kept at
the end of a device, and the positions the findings imply are read too
(partition starts and ends, md and PV data areas, ext backup superblocks).
--step 1M also probes every 1 MiB boundary of the whole device, for
partitions further in; --full searches every sector (reads everything).`,
	Args: cobra.MinimumNArgs(1),
	RunE: runScan,
}

func init() {
	scanCmd.Flags().StringVar(&scanFlags.edge, "edge", "64M", "`SIZE` searched at every sector at the start and at the end")
	scanCmd.Flags().StringVar(&scanFlags.step, "step", "", "also probe every `SIZE` boundary of the whole device (e.g. 1M)")
	scanCmd.Flags().BoolVar(&scanFlags.full, "full", false, "search every sector of the whole device")
	rootCmd.AddCommand(scanCmd)
}

func runScan(cmd *cobra.Command, args []string) error {
	var opts scan.Options
	var err error
	if opts.Edge, err = blockdev.ParseSize(scanFlags.edge); err != nil || opts.Edge < 512 {
		return usageError{fmt.Errorf("--edge %q: want a size of at least 512", scanFlags.edge)}
	}
	if scanFlags.step != "" {
		if opts.Step, err = blockdev.ParseSize(scanFlags.step); err != nil || opts.Step < 64<<10 {
			return usageError{fmt.Errorf("--step %q: want a size of at least 64K", scanFlags.step)}
		}
	}
	opts.Full = scanFlags.full
	devs, err := openDevices(args)
	if err != nil {
		return err
	}
	defer closeAll(devs)
	reports := make([]*scan.Report, 0, len(devs))
	for _, d := range devs {
		r, err := scan.Scan(d, opts)
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	return emit(cmd, reports, func(w io.Writer) error {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := printScan(w, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func printScan(w io.Writer, r *scan.Report) error {
	fmt.Fprintf(w, "%s (%d bytes)\n", r.Device, r.Size)
	if t := r.PartitionTable; t != nil {
		fmt.Fprintf(w, "partition table: %s", t.Kind)
		if t.DiskGUID != "" {
			fmt.Fprintf(w, " %s", t.DiskGUID)
		}
		fmt.Fprintln(w)
		for _, p := range t.Problems {
			fmt.Fprintf(w, "  problem: %s\n", p)
		}
	} else {
		fmt.Fprintf(w, "partition table: none (%s)\n", r.PartitionTableError)
	}
	if len(r.Partitions) > 0 {
		rows := make([][]string, 0, len(r.Partitions))
		for _, p := range r.Partitions {
			typ := p.Type
			if p.TypeName != "" {
				typ += " " + p.TypeName
			}
			rows = append(rows, []string{strconv.Itoa(p.Number), strconv.FormatInt(p.Start, 10),
				strconv.FormatInt(p.Start+p.Size, 10), bytesText(p.Size), typ, p.Name})
		}
		if err := render.Table(w, []string{"#", "start", "end", "size", "type", "name"}, rows); err != nil {
			return err
		}
	}
	if len(r.Signatures) == 0 {
		fmt.Fprintln(w, "signatures: none found")
	} else {
		rows := make([][]string, 0, len(r.Signatures))
		for _, s := range r.Signatures {
			start, part := "?", ""
			if s.Start != nil {
				start = strconv.FormatInt(*s.Start, 10)
			}
			if s.Partition > 0 {
				part = "p" + strconv.Itoa(s.Partition)
			}
			rows = append(rows, []string{s.Kind, strconv.FormatInt(s.Offset, 10), start, part, signatureText(s)})
		}
		if err := render.Table(w, []string{"kind", "offset", "start", "part", "what"}, rows); err != nil {
			return err
		}
	}
	var searched []string
	for _, s := range r.Searched {
		searched = append(searched, fmt.Sprintf("%d-%d (%s)", s.Start, s.End, s.Why))
	}
	fmt.Fprintf(w, "searched every sector of %s; probed %d more positions\n", strings.Join(searched, ", "), r.Probed)
	return nil
}

// signatureText is the one-line description of a finding.
func signatureText(s *scan.Signature) string {
	var t string
	switch {
	case s.MD != nil:
		m := s.MD
		t = fmt.Sprintf("md %s %s", m.Version, m.Level)
		if m.Layout != "" {
			t += " " + m.Layout
		}
		t += fmt.Sprintf(", %d devices, role %s, events %d, uuid %s", m.RaidDisks, mdraid.RoleName(m.Role), m.Events, m.ArrayUUID)
		if m.Name != "" {
			t += ", name " + m.Name
		}
		if !m.ChecksumOK {
			t += ", BAD CHECKSUM"
		}
	case s.LVM != nil:
		t = fmt.Sprintf("LVM PV %s, label in sector %d, device size %d", s.LVM.PVUUID, s.LVM.Sector, s.LVM.DeviceSize)
	case s.Ext != nil:
		e := s.Ext
		kind := "ext filesystem"
		if e.JournalDev {
			kind = "ext external journal"
		}
		copyOf := "primary superblock"
		switch {
		case e.Copy:
			copyOf = "copy inside the filesystem (journal or file)"
		case e.Group > 0:
			copyOf = fmt.Sprintf("backup superblock (group %d)", e.Group)
		}
		t = fmt.Sprintf("%s %s, %s, %d x %d-byte blocks", kind, e.UUID, copyOf, e.Blocks, e.BlockSize)
		if e.Label != "" {
			t += ", label " + e.Label
		}
		if e.PastEnd {
			t += ", runs past the end of the device"
		}
	case s.DRBD != nil:
		t = fmt.Sprintf("DRBD %s metadata, current uuid %s, device uuid %s, backing device ends at %d", s.DRBD.Version, s.DRBD.CurrentUUID, s.DRBD.DeviceUUID, s.DRBD.DeviceEnd)
	}
	if s.Error != "" {
		t = strings.TrimSpace(t + " INVALID: " + s.Error)
	}
	return t
}
