package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/casefile"
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
logical volume can be found on the disks by hand. For raid and mirror LVs it
prints the md geometry holmes reads them with and each image's state (checked
against the dm-raid superblocks when --case maps the VG's PVs); for cache,
writecache and vdo LVs what they are and which sub-LV holds the volume.`,
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
	rep, err := opts.layers(vg)
	if err != nil {
		return err
	}
	return emit(opts.Out, opts.JSON, rep, func(w io.Writer) error { return printShow(w, rep) })
}

// ShowReport is what holmes lvm show prints (docs/cli.md): the VG and, for
// its raid, mirror, cache, writecache and vdo LVs, how holmes reads them.
type ShowReport struct {
	*lvmmeta.VG
	Raid   []*lvmmeta.RaidLayout `json:"raid,omitempty"`
	Cached []*lvmmeta.Cached     `json:"cached,omitempty"`
}

// layers describes the VG's raid and cache LVs. The raid geometry is
// checked against the dm-raid superblocks when the case file maps this
// VG's PVs; otherwise it is the VG text's alone.
func (opts *LVMShowOptions) layers(vg *lvmmeta.VG) (*ShowReport, error) {
	rep := &ShowReport{VG: vg}
	var pvs map[string]blockdev.Device
	if opts.CaseFile != "" {
		c, err := casefile.Load(opts.CaseFile)
		if err != nil {
			return nil, err
		}
		if _, err := c.VG(vg.Name); err == nil {
			_, m, closer, err := c.OpenPVs(vg.Name)
			if err != nil {
				return nil, err
			}
			defer closer.Close()
			pvs = m
		}
	}
	for _, lv := range vg.LVs {
		if len(lv.Segments) != 1 {
			continue
		}
		switch seg := lv.Segments[0]; {
		case seg.IsRaid():
			r, err := vg.Raid(lv.Name, pvs)
			if err != nil {
				return nil, err
			}
			rep.Raid = append(rep.Raid, r)
		case seg.IsCached():
			c, err := vg.Cache(lv.Name, pvs)
			if err != nil {
				return nil, err
			}
			rep.Cached = append(rep.Cached, c)
		}
	}
	return rep, nil
}

func printShow(w io.Writer, rep *ShowReport) error {
	if err := printVG(w, rep.VG); err != nil {
		return err
	}
	for _, r := range rep.Raid {
		fmt.Fprintln(w)
		if err := printRaid(w, r); err != nil {
			return err
		}
	}
	for _, c := range rep.Cached {
		fmt.Fprintf(w, "\n%s (%s): %s\n", c.LV, c.Type, c.Why)
	}
	return nil
}

// printRaid says how a raid LV is read: the md geometry, then each role.
func printRaid(w io.Writer, r *lvmmeta.RaidLayout) error {
	g := r.Geometry
	geo := g.Level
	if g.Layout != "" {
		geo += " " + g.Layout
	}
	if g.ChunkBytes != 0 {
		geo += fmt.Sprintf(", chunk %d", g.ChunkBytes)
	}
	geo += fmt.Sprintf(", %d images", g.RaidDisks)
	if g.DataSize != 0 {
		geo += fmt.Sprintf(" of %d bytes", g.DataSize)
	}
	from := "the VG text alone (give --case with the VG's PVs to check it against the dm-raid superblocks)"
	if r.Events != 0 {
		from = fmt.Sprintf("the VG text and the dm-raid superblocks (freshest: events %d)", r.Events)
	} else if r.Images[0].Meta == "" {
		from = "the VG text (" + r.Type + " keeps no superblocks)"
	}
	fmt.Fprintf(w, "%s (%s) is read as md %s, from %s\n", r.LV, r.Type, geo, from)
	var rows [][]string
	for _, im := range r.Images {
		meta, offset, state := im.Meta, strconv.FormatInt(im.DataOffset, 10), "read"
		if meta == "" {
			meta = "-"
		}
		if im.Missing != "" {
			offset, state = "-", "not read: "+im.Missing
		}
		rows = append(rows, []string{strconv.Itoa(im.Role), im.Data, meta, offset, state})
	}
	if err := render.Table(w, []string{"ROLE", "DATA", "META", "DATA OFFSET", "STATE"}, rows); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
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
