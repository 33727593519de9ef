package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/blockdev"
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
	vg, err := loadVG(opts.Factory, opts.Source)
	if err != nil {
		return err
	}
	return emit(opts.Out, opts.JSON, vg, func(w io.Writer) error { return printVG(w, vg) })
}

// maxTextFile bounds a metadata file read whole by show and plan.
const maxTextFile = 16 << 20

// loadVG reads a VG from a metadata text file, or from the committed text
// of a PV's metadata area when the argument is a PV (labelled, or with its
// label wiped but its metadata area in place).
func loadVG(f *Factory, spec string) (*lvmmeta.VG, error) {
	d, err := f.OpenDevice(spec)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	s, serr := lvmmeta.Scan(d, d.Size(), d.Name())
	if _, lerr := lvmmeta.ReadLabel(d, d.Size()); lerr == nil && serr != nil {
		return nil, serr // a PV whose metadata area is damaged: say so
	}
	if serr == nil {
		for _, m := range s.Metadata {
			if m.Current {
				if !m.Complete {
					return nil, fmt.Errorf("%s: current metadata at %d: %s", spec, m.Offset, m.Error)
				}
				return lvmmeta.ParseText(m.Text)
			}
		}
		return nil, fmt.Errorf("%s: the metadata area holds no committed text", spec)
	}
	text, err := readText(d)
	if err != nil {
		return nil, fmt.Errorf("%s: no PV label, and %w", spec, err)
	}
	vg, err := lvmmeta.ParseText(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	return vg, nil
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
	for _, k := range []string{"thin_pool", "pool", "metadata", "origin", "cow"} {
		if v, ok := s.Refs[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

func readTextFile(path string) ([]byte, error) {
	d, err := blockdev.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	text, err := readText(d)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return text, nil
}

// readText reads a whole metadata file, refusing anything too large to be one.
func readText(d blockdev.Device) ([]byte, error) {
	if d.Size() > maxTextFile {
		return nil, fmt.Errorf("%d bytes is too large for a metadata file", d.Size())
	}
	text := make([]byte, d.Size())
	if _, err := d.ReadAt(text, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return text, nil
}
