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

// LVMCarveOptions are holmes lvm carve's arguments and flags.
type LVMCarveOptions struct {
	*Factory
	Devices   []string
	JSON      bool
	OutDir    string
	WriteCase string
}

// NewCmdLVMCarve builds holmes lvm carve; runF replaces the run (tests).
func NewCmdLVMCarve(f *Factory, runF func(*LVMCarveOptions) error) *cobra.Command {
	opts := &LVMCarveOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "carve DEV...",
		Short: "find every LVM metadata text in the raw bytes, newest first; --out writes vgcfgrestore files",
		Long: `carve searches the raw bytes of every DEV for LVM metadata texts, wherever
they are (old versions in the circular buffer, copies left by an installer,
fragments beyond a wiped label), and lists each VG version once, newest
first, with every place it was found. --out DIR writes each complete text as
DIR/VG_SEQNO.vg, a file vgcfgrestore -f accepts; files already there are
never overwritten. --write-case FILE records the newest complete version of
each VG with its PVs mapped to the DEVs given.`,
		Example: `  holmes lvm carve md0 --case case.json --out meta --write-case case.json`,
		Args:    minArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Devices = args
			if runF != nil {
				return runF(opts)
			}
			return lvmCarveRun(opts)
		},
	}
	addJSONFlag(cmd, &opts.JSON)
	cmd.Flags().StringVar(&opts.OutDir, "out", "", "write each complete text as `DIR`/VG_SEQNO.vg")
	cmd.Flags().StringVar(&opts.WriteCase, "write-case", "", "record the newest complete version of each VG, with its PVs mapped to the DEVs given, in case `FILE` (needs --out)")
	return cmd
}

func lvmCarveRun(opts *LVMCarveOptions) error {
	args := opts.Devices
	devs, err := opts.OpenDevices(args)
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
	if opts.WriteCase != "" && opts.OutDir == "" {
		return usagef("--write-case needs --out: the case file names the metadata files carve writes")
	}
	if opts.OutDir != "" {
		if err := writeCarved(opts.OutDir, res); err != nil {
			return err
		}
	}
	if opts.WriteCase != "" {
		if err := recordCarvedVGs(opts.ErrOut, opts.WriteCase, res, args, devs); err != nil {
			return err
		}
	}
	return emit(opts.Out, opts.JSON, res, func(w io.Writer) error {
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
func recordCarvedVGs(stderr io.Writer, caseFile string, res []*lvmmeta.Carved, specs []string, devs []blockdev.Device) error {
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
			fmt.Fprintf(stderr, "note: %s seqno %d: %s\n", vg.Name, r.Seqno, n)
		}
	}
	return nil
}
