package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"holmes/casefile"
	"holmes/plan"
)

// PlanOptions are holmes plan's flags.
type PlanOptions struct {
	*Factory
	JSON                 bool
	OverlayDir, MountDir string
}

// NewCmdPlan builds holmes plan; runF replaces the run (tests).
func NewCmdPlan(f *Factory, runF func(*PlanOptions) error) *cobra.Command {
	opts := &PlanOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "The shell steps that rebuild the --case file's stack on copy-on-write overlays",
		Long: `plan prints the commands that rebuild what the case file (--case FILE)
records, on a rescue system, without writing to any disk or image: each is
attached read-only, each member gets a copy-on-write overlay (a sparse file
behind a device-mapper snapshot) before anything writes, then mdadm --create
--assume-clean --readonly re-creates each array on the overlays (missing
members as "missing"), pvcreate --restorefile and vgcfgrestore put each VG
back, vgchange -ay activates it, and each filesystem the case file lists is
checked with e2fsck -f -n and mounted read-only. Each step is preceded by
what it writes and how to undo it; the plan runs as printed (sh -e).
holmes only prints it (docs/plan.md).`,
		Example: `  holmes --case case.json plan > plan.sh`,
		Args:    exactArgs(0),
		RunE: func(_ *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return planRun(opts)
		},
	}
	addJSONFlag(cmd, &opts.JSON)
	cmd.Flags().StringVar(&opts.OverlayDir, "overlay-dir", "/tmp/holmes-overlays", "`DIR` for the sparse copy-on-write files")
	cmd.Flags().StringVar(&opts.MountDir, "mount-dir", "/mnt/holmes", "`DIR` under which the filesystems are mounted")
	return cmd
}

func planRun(opts *PlanOptions) error {
	if opts.CaseFile == "" {
		return usagef("plan needs --case FILE")
	}
	c, err := casefile.Load(opts.CaseFile)
	if err != nil {
		return err
	}
	p, err := plan.FromCase(c, plan.Options{OverlayDir: opts.OverlayDir, MountDir: opts.MountDir})
	if err != nil {
		return err
	}
	return emit(opts.Out, opts.JSON, p, func(w io.Writer) error { return printPlan(w, p) })
}

func printPlan(w io.Writer, p *plan.Plan) error {
	for _, l := range p.Lines() {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}
