package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/internal/safewrite"
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
	args, err := opts.Expand(opts.Devices)
	if err != nil {
		return err
	}
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
	if c.Dropped > 0 {
		fmt.Fprintf(opts.ErrOut, "holmes: warning: %d text heads of further metadata versions not examined: the carver holds %d versions at most\n", c.Dropped, len(res))
	}
	if opts.WriteCase != "" && opts.OutDir == "" {
		return usagef("--write-case needs --out: the case file names the metadata files carve writes")
	}
	if opts.OutDir != "" {
		if err := writeCarved(opts.OutDir, res, opts.Devices); err != nil {
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

// writeCarved writes each complete text as DIR/VG_SEQNO.vg, never over an
// input or a different file already there.
func writeCarved(dir string, res []*lvmmeta.Carved, inputs []string) error {
	if err := safewrite.Check(dir, inputs, safewrite.Kind{}); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, name := range lvmmeta.RestoreFileNames(res) {
		if name == "" {
			continue
		}
		path := filepath.Join(dir, name)
		if err := safewrite.WriteFile(path, res[i].RestoreFile(), inputs, safewrite.Kind{}); err != nil {
			return err
		}
		res[i].File = path
	}
	return nil
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
	for _, r := range lvmmeta.NewestComplete(res) {
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
