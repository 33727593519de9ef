package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/lvmmeta"
	"holmes/render"
)

var (
	lvmCarveOut  string
	lvmCarveCase string
	lvmPlanPVs   []string
)

func init() {
	scan := &cobra.Command{
		Use:   "scan DEV...",
		Short: "PV label, metadata area headers and every metadata version still in the circular buffer",
		Args:  cobra.MinimumNArgs(1),
		RunE:  runLVMScan,
	}
	show := &cobra.Command{
		Use:   "show FILE_OR_DEV",
		Short: "a VG from a metadata file or a PV's current text: PVs, LVs, segments with byte offsets",
		Args:  cobra.ExactArgs(1),
		RunE:  runLVMShow,
	}
	carve := &cobra.Command{
		Use:   "carve DEV...",
		Short: "find every LVM metadata text in the raw bytes, newest first; --out writes vgcfgrestore files",
		Args:  cobra.MinimumNArgs(1),
		RunE:  runLVMCarve,
	}
	carve.Flags().StringVar(&lvmCarveOut, "out", "", "write each complete text as `DIR`/VG_SEQNO.vg")
	carve.Flags().StringVar(&lvmCarveCase, "write-case", "", "record the newest complete version of each VG, with its PVs mapped to the DEVs given, in case `FILE` (needs --out)")
	plan := &cobra.Command{
		Use:   "plan FILE",
		Short: "the pvcreate and vgcfgrestore commands that put FILE's VG back, with size checks and warnings",
		Args:  cobra.ExactArgs(1),
		RunE:  runLVMPlan,
	}
	plan.Flags().StringArrayVar(&lvmPlanPVs, "pv", nil, "recreate PV `NAME=DEV` (e.g. pv0=/dev/md1); repeatable; default: the metadata's device hint")
	lvmCmd.AddCommand(scan, show, carve, plan)
}

func runLVMScan(cmd *cobra.Command, args []string) error {
	devs, err := openDevices(args)
	if err != nil {
		return err
	}
	defer closeAll(devs)
	// A device that is no PV must not hide the others: report every PV,
	// then fail naming the rest (as md examine does).
	scans := []*lvmmeta.PVScan{}
	var failed []string
	for _, d := range devs {
		s, err := lvmmeta.Scan(d, d.Size(), d.Name())
		if err != nil {
			failed = append(failed, err.Error())
			continue
		}
		scans = append(scans, s)
	}
	if len(scans) == 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	err = emit(cmd, scans, func(w io.Writer) error {
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
	if err == nil && len(failed) > 0 {
		err = errors.New(strings.Join(failed, "; "))
	}
	return err
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

// maxTextFile bounds a metadata file read whole by show and plan.
const maxTextFile = 16 << 20

func runLVMShow(cmd *cobra.Command, args []string) error {
	vg, err := loadVG(args[0])
	if err != nil {
		return err
	}
	return emit(cmd, vg, func(w io.Writer) error { return printVG(w, vg) })
}

// loadVG reads a VG from a metadata text file, or from the committed text
// of a PV's metadata area when the argument is a PV (labelled, or with its
// label wiped but its metadata area in place).
func loadVG(spec string) (*lvmmeta.VG, error) {
	d, err := openDevice(spec)
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

func runLVMCarve(cmd *cobra.Command, args []string) error {
	devs, err := openDevices(args)
	if err != nil {
		return err
	}
	defer closeAll(devs)
	c := lvmmeta.NewCarver()
	for _, d := range devs {
		if err := c.Scan(d, d.Size(), d.Name()); err != nil {
			return err
		}
	}
	res := c.Results()
	if c.Dropped > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "holmes: warning: %d text heads of further metadata versions not examined: the carver holds %d versions at most\n", c.Dropped, len(res))
	}
	if lvmCarveCase != "" && lvmCarveOut == "" {
		return usageError{fmt.Errorf("--write-case needs --out: the case file names the metadata files carve writes")}
	}
	if lvmCarveOut != "" {
		if err := writeCarved(lvmCarveOut, res); err != nil {
			return err
		}
	}
	if lvmCarveCase != "" {
		if err := recordCarvedVGs(cmd, lvmCarveCase, res, args, devs); err != nil {
			return err
		}
	}
	return emit(cmd, res, func(w io.Writer) error {
		rows := [][]string{}
		for _, r := range res {
			var at []string
			for _, l := range r.FoundAt {
				at = append(at, fmt.Sprintf("%s@%d", l.Device, l.Offset))
			}
			state := "complete"
			if !r.Complete {
				state = "incomplete: " + r.Error
			}
			rows = append(rows, []string{r.VG, strconv.FormatInt(r.Seqno, 10), r.VGUUID, strconv.Itoa(len(r.LVs)), state, strings.Join(at, " "), r.File, r.Description})
		}
		return render.Table(w, []string{"VG", "SEQNO", "VG UUID", "LVS", "STATE", "FOUND AT", "FILE", "DESCRIPTION"}, rows)
	})
}

// writeCarved writes each complete text as DIR/VG_SEQNO.vg; a second VG
// with the same name and seqno (an installer's new VG) gets its uuid's
// first characters added.
func writeCarved(dir string, res []*lvmmeta.Carved) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	used := map[string]bool{}
	for _, r := range res {
		if !r.Complete {
			continue
		}
		name := fmt.Sprintf("%s_%d.vg", r.VG, r.Seqno)
		if used[name] {
			name = fmt.Sprintf("%s_%d_%s.vg", r.VG, r.Seqno, r.VGUUID[:6])
		}
		used[name] = true
		path := filepath.Join(dir, name)
		if err := writeNew(path, r.RestoreFile()); err != nil {
			return err
		}
		r.File = path
	}
	return nil
}

// writeNew writes data to a new file at path. An existing file is left as
// it is: identical content is a re-run, anything else may be evidence.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		if old, rerr := os.ReadFile(path); rerr == nil && bytes.Equal(old, data) {
			return nil
		}
		return fmt.Errorf("%s exists with other content; not overwriting it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// recordCarvedVGs writes the newest complete version of each VG name into
// the case file, so that "vg/lv" can be read at once; how each PV was mapped
// goes to stderr as notes.
func recordCarvedVGs(cmd *cobra.Command, caseFile string, res []*lvmmeta.Carved, specs []string, devs []blockdev.Device) error {
	pvDevs := make([]lvmmeta.PVDevice, len(devs))
	for i, d := range devs {
		pvDevs[i].Name = specs[i]
		if l, err := lvmmeta.ReadLabel(d, d.Size()); err == nil {
			pvDevs[i].PVUUID = l.PVUUID
		}
	}
	done := map[string]bool{}
	for _, r := range res { // newest first
		if !r.Complete || done[r.VG] {
			continue
		}
		done[r.VG] = true
		vg, err := lvmmeta.ParseText(r.RestoreFile())
		if err != nil {
			return fmt.Errorf("%s: %w", r.File, err)
		}
		// Carve names devices as opened; the case file wants the DEVs as given.
		found := make([]lvmmeta.Location, len(r.FoundAt))
		for i, l := range r.FoundAt {
			found[i] = l
			for j, d := range devs {
				if d.Name() == l.Device {
					found[i].Device = specs[j]
				}
			}
		}
		pvs, notes := lvmmeta.AssignPVs(vg, found, pvDevs)
		if err := casefile.SetVolumeGroup(caseFile, vg.Name, casefile.VolumeGroup{Metadata: r.File, PVs: pvs}); err != nil {
			return err
		}
		for _, n := range notes {
			fmt.Fprintf(cmd.ErrOrStderr(), "note: %s seqno %d: %s\n", vg.Name, r.Seqno, n)
		}
	}
	return nil
}

func runLVMPlan(cmd *cobra.Command, args []string) error {
	file := args[0]
	text, err := readTextFile(file)
	if err != nil {
		return err
	}
	vg, err := lvmmeta.ParseText(text)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	targets := map[string]lvmmeta.Target{}
	for _, spec := range lvmPlanPVs {
		name, dev, ok := strings.Cut(spec, "=")
		if !ok || vg.PV(name) == nil {
			return usageError{fmt.Errorf("--pv %q: want NAME=DEV with NAME one of the PVs in %s", spec, file)}
		}
		targets[name] = planTarget(dev)
	}
	p := lvmmeta.MakePlan(vg, file, targets)
	return emit(cmd, p, func(w io.Writer) error {
		for _, pv := range p.PVs {
			check := "size not checked (device not accessible here)"
			if pv.SizeOK != nil {
				check = fmt.Sprintf("has %d bytes, needs %d: ", *pv.Size, pv.Need)
				if *pv.SizeOK {
					check += "ok"
				} else {
					check += "TOO SMALL"
				}
			}
			fmt.Fprintf(w, "# %s (%s) -> %s: %s\n", pv.Name, pv.ID, pv.Device, check)
		}
		for _, warn := range p.Warnings {
			fmt.Fprintf(w, "# warning: %s\n", warn)
		}
		for _, c := range p.Commands {
			fmt.Fprintln(w, c)
		}
		return nil
	})
}

// planTarget opens a target device read-only to learn its size and any
// label; a device that is not accessible here (a /dev name on another
// machine) is planned with its size unknown.
func planTarget(spec string) lvmmeta.Target {
	d, err := openDevice(spec)
	if err != nil {
		return lvmmeta.Target{Path: spec, Size: -1}
	}
	defer d.Close()
	t := lvmmeta.Target{Path: spec, Size: d.Size()}
	if l, err := lvmmeta.ReadLabel(d, d.Size()); err == nil {
		t.Label = l
	}
	return t
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
