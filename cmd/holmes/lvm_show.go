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

// LVMShowOptions are holmes lvm show's arguments and flags.
type LVMShowOptions struct {
	*Factory
	Source string
	JSON   bool
}

// NewCmdLVMShow builds holmes lvm show; runF replaces the run (tests).
func NewCmdLVMShow(f *Factory, runF func(*LVMShowOptions) error) *cobra.Command {
	opts := &LVMShowOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "show FILE_OR_DEV",
		Short: "a VG from a metadata file or a PV's current text: PVs, LVs, segments with byte offsets",
		Long: `show prints a volume group: from a metadata file in LVM text format (as
lvm carve --out or /etc/lvm/backup hold), or from the committed metadata of a
PV given as a DEV. It lists the PVs with their device hints and sizes, and
every LV's segments with the PV and byte offset each one starts at, so a
logical volume can be found on the disks by hand.`,
		Example: `  holmes lvm show meta/guests_12.vg`,
		Args:    exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Source = args[0]
			if runF != nil {
				return runF(opts)
			}
			return lvmShowRun(opts)
		},
	}
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

func lvmShowRun(opts *LVMShowOptions) error {
	d, err := opts.OpenDevice(opts.Source)
	if err != nil {
		return err
	}
	defer d.Close()
	vg, err := lvmmeta.ReadVG(d, d.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", opts.Source, err)
	}
	return emit(opts.Out, opts.JSON, vg, func(w io.Writer) error { return printVG(w, vg) })
}

func printVG(w io.Writer, vg *lvmmeta.VG) error {
	if err := render.KeyValues(w, [][2]string{
		{"VG", vg.Name},
		{"VG UUID", vg.ID},
		{"Seqno", strconv.FormatInt(vg.Seqno, 10)},
		{"Extent size", strconv.FormatInt(vg.ExtentSize, 10)},
		{"Status", strings.Join(vg.Status, ",")},
		{"Description", vg.Description},
	}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	var rows [][]string
	for _, pv := range vg.PVs {
		rows = append(rows, []string{pv.Name, pv.ID, pv.Device, strconv.FormatInt(pv.DevSize, 10), strconv.FormatInt(pv.PEStart, 10), strconv.FormatInt(pv.PECount, 10)})
	}
	if err := render.Table(w, []string{"PV", "PV UUID", "DEVICE HINT", "DEV SIZE", "PE START", "PE COUNT"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w)
	rows = nil
	for _, lv := range vg.LVs {
		name := lv.Name
		if !lv.Visible {
			name = "[" + name + "]"
		}
		for i, s := range lv.Segments {
			rows = append(rows, []string{name, strconv.Itoa(i + 1), s.Type,
				strconv.FormatInt(s.Offset, 10), strconv.FormatInt(s.Length, 10),
				segmentWhere(s)})
		}
	}
	return render.Table(w, []string{"LV", "SEG", "TYPE", "LV OFFSET", "LENGTH", "WHERE (PV@BYTE OFFSET)"}, rows)
}

func segmentWhere(s *lvmmeta.Segment) string {
	var parts []string
	for _, st := range s.Stripes {
		parts = append(parts, fmt.Sprintf("%s@%d", st.PV, st.Offset))
	}
	if len(parts) > 1 {
		return fmt.Sprintf("%s (stripe %d)", strings.Join(parts, " "), s.StripeSize)
	}
	parts = append(parts, s.Legs...)
	for _, k := range []string{"thin_pool", "pool", "metadata", "origin", "external_origin", "cow"} {
		if v, ok := s.Refs[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	switch s.Type {
	case "thin":
		parts = append(parts, fmt.Sprintf("device_id=%d transaction_id=%d", s.DeviceID, s.TransactionID))
	case "thin-pool":
		parts = append(parts, fmt.Sprintf("transaction_id=%d chunk_size=%d", s.TransactionID, s.ChunkSize))
	}
	return strings.Join(parts, " ")
}
