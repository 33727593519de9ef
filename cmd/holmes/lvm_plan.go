package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"holmes/casefile"
	"holmes/lvmmeta"
	"holmes/plan"
)

// LVMPlanOptions are holmes lvm plan's arguments and flags.
type LVMPlanOptions struct {
	*Factory
	File string
	JSON bool
	PVs  []string
}

// NewCmdLVMPlan builds holmes lvm plan; runF replaces the run (tests).
func NewCmdLVMPlan(f *Factory, runF func(*LVMPlanOptions) error) *cobra.Command {
	opts := &LVMPlanOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "plan FILE",
		Short: "the pvcreate and vgcfgrestore commands that put FILE's VG back, with size checks and warnings",
		Long: `plan prints, one per line, the pvcreate --uuid ... --restorefile and
vgcfgrestore -f commands that put the volume group in metadata FILE back on
its PVs. Each target device is opened read-only to check that it is large
enough and to warn when it already carries another PV's label. holmes only
prints these commands; it never runs them.`,
		Example: `  holmes lvm plan meta/guests_12.vg --pv pv0=/dev/md1`,
		Args:    exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return lvmPlanRun(opts)
		},
	}
	addJSONFlag(cmd, &opts.JSON)
	cmd.Flags().StringArrayVar(&opts.PVs, "pv", nil, "recreate PV `NAME=DEV` (e.g. pv0=/dev/md1); repeatable; default: the metadata's device hint")
	return cmd
}

func lvmPlanRun(opts *LVMPlanOptions) error {
	file := opts.File
	vg, err := lvmmeta.ReadVGFile(file)
	if err != nil {
		return err
	}
	targets := map[string]lvmmeta.Target{}
	for _, spec := range opts.PVs {
		name, dev, ok := strings.Cut(spec, "=")
		if !ok || vg.PV(name) == nil {
			return usagef("--pv %q: want NAME=DEV with NAME one of the PVs in %s", spec, file)
		}
		t := planTarget(opts.Factory, dev)
		if t.Dev != nil {
			defer t.Dev.Close()
		}
		targets[name] = t
	}
	p := lvmmeta.MakePlan(vg, file, targets)
	return emit(opts.Out, opts.JSON, p, func(w io.Writer) error {
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
		return printLVMPlan(w, vg, file, p, opts.PVs)
	})
}

// printLVMPlan prints the restore as a plan that runs as printed
// (docs/plan.md): the target devices attached read-only and overlaid, the
// PVs and VG restored on the overlays, the VG activated. The size and
// label checks the plan does not repeat come first; a target the plan
// cannot name leaves the bare commands, with why.
func printLVMPlan(w io.Writer, vg *lvmmeta.VG, file string, lp *lvmmeta.Plan, pvs []string) error {
	g := casefile.VolumeGroup{Metadata: file, PVs: map[string]string{}}
	for _, spec := range pvs {
		name, dev, _ := strings.Cut(spec, "=")
		g.PVs[name] = dev
	}
	p, err := plan.FromCase(&casefile.Case{VolumeGroups: []casefile.VolumeGroup{g}}, plan.Options{})
	for _, warn := range lp.Warnings {
		if err != nil || !slices.Contains(p.Warnings, vg.Name+": "+warn) && !strings.Contains(warn, "no target given") {
			fmt.Fprintf(w, "# warning: %s\n", warn)
		}
	}
	if err != nil {
		fmt.Fprintf(w, "# no runnable plan: %v\n", err)
		for _, c := range lp.Commands {
			fmt.Fprintln(w, c)
		}
		return nil
	}
	return printPlan(w, p)
}

// planTarget opens a target device read-only to learn its size and any
// label, and leaves it open for the plan's checks (the caller closes it); a
// device that is not accessible here (a /dev name on another machine) is
// planned with its size unknown.
func planTarget(f *Factory, spec string) lvmmeta.Target {
	d, err := f.OpenDevice(spec)
	if err != nil {
		return lvmmeta.Target{Path: spec, Size: -1}
	}
	t := lvmmeta.Target{Path: spec, Size: d.Size(), Dev: d}
	if l, err := lvmmeta.ReadLabel(d, d.Size()); err == nil {
		t.Label = l
	}
	return t
}
