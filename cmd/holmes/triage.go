package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"holmes/triage"
)

// TriageOptions are holmes triage's arguments and flags.
type TriageOptions struct {
	*Factory
	Devices   []string
	JSON      bool
	SMART     []string // DEV=FILE
	WriteCase string
	Report    string
}

// NewCmdTriage builds holmes triage; runF replaces the run (tests).
func NewCmdTriage(f *Factory, runF func(*TriageOptions) error) *cobra.Command {
	opts := &TriageOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "triage DEV...",
		Short: "Carry whole disks through every layer to a case file, a plan and a report",
		Long: `triage takes whole disks or images and nothing else, and does what an
operator would do by hand with scan, md pairs, md solve, smart score, lvm
carve, lvm plan and ext: it reads every partition, groups md members by
their superblocks (or by content where the superblocks are foreign, stale
or gone), decides each array's geometry, compares mirror halves and picks
the one to read, finds every LVM volume group (on PV labels and carved from
other filesystems) and the version to restore, and checks every filesystem.

Nothing is written but the files named with --write-case and --report.
Exit status 0: every layer was decided; 3: something stays ambiguous (the
report says what, and the plan leaves it out); 1: errors.`,
		Example: `  holmes triage --write-case case/case.json --report case/report.html d0.img d1.img d2.img d3.img`,
		Args:    minArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Devices = args
			if runF != nil {
				return runF(opts)
			}
			return triageRun(opts)
		},
	}
	fl := cmd.Flags()
	addJSONFlag(cmd, &opts.JSON)
	fl.StringArrayVar(&opts.SMART, "smart", nil, "`DEV=FILE`: a saved smartctl report (-x, -a or -j) for disk DEV (repeatable)")
	fl.StringVar(&opts.WriteCase, "write-case", "", "write the case `FILE` (and each VG's metadata file beside it)")
	fl.StringVar(&opts.Report, "report", "", "write the report to `FILE` (.md or .html)")
	return cmd
}

func triageRun(opts *TriageOptions) error {
	smartFiles := map[string]string{}
	for _, s := range opts.SMART {
		dev, file, ok := strings.Cut(s, "=")
		if !ok || dev == "" || file == "" {
			return usagef("--smart wants DEV=FILE, got %q", s)
		}
		smartFiles[dev] = file
	}
	t, err := triage.Run(context.Background(), opts.Devices, opts.OpenDevice, triage.Options{
		SMART: smartFiles, Smartctl: opts.Smartctl, Progress: stageProgress(opts.ErrOut),
	})
	if t != nil {
		defer t.Close()
	}
	if err != nil {
		return err
	}
	res := &t.Result
	if opts.WriteCase != "" {
		if err := t.WriteCase(opts.WriteCase, opts.Devices); err != nil {
			return err
		}
	}
	if err := emit(opts.Out, opts.JSON, res, func(w io.Writer) error { return printTriage(w, res) }); err != nil {
		return err
	}
	var unread []string
	for _, d := range res.Devices {
		if d.Error != "" {
			unread = append(unread, d.Error)
		}
	}
	if len(unread) > 0 { // like mdadm --examine: the rest was reported, then the failures
		return fmt.Errorf("triage: %s", strings.Join(unread, "; "))
	}
	if res.Ambiguous {
		return exitStatus{3, fmt.Errorf("triage: ambiguous: %s", strings.Join(ambiguousArrays(res), "; "))}
	}
	return nil
}

func ambiguousArrays(r *triage.Result) []string {
	var s []string
	for _, a := range r.Arrays {
		if a.Ambiguous {
			s = append(s, fmt.Sprintf("%s (%s): %s", a.Name, strings.Join(a.Members, " "), strings.Join(a.Why, ", ")))
		}
	}
	return s
}

func printTriage(w io.Writer, r *triage.Result) error {
	for _, a := range r.Arrays {
		fmt.Fprintf(w, "%s: %s %s chunk %d data offset %d metadata %s (%s, confidence %.3f)\n", a.Name, a.Level, a.Layout, a.ChunkBytes, a.DataOffset, a.Metadata, a.Source, a.Confidence)
		fmt.Fprintf(w, "  members: %s\n  trusted: %s\n", strings.Join(a.Members, " "), strings.Join(a.Trusted, " "))
		for _, h := range a.Halves {
			if h.Trust != "" {
				fmt.Fprintf(w, "  halves %s: read %s (%s)\n", strings.Join(h.Members, " "), h.Trust, strings.Join(h.Why, "; "))
			}
		}
		if a.Ambiguous {
			fmt.Fprintf(w, "  AMBIGUOUS: %s\n", strings.Join(a.Why, "; "))
		}
	}
	for _, g := range r.VolumeGroups {
		fmt.Fprintf(w, "VG %s seqno %d (%s): %s\n", g.VG, g.Seqno, g.Source, strings.Join(g.LVs, " "))
		for _, x := range g.Rejected {
			fmt.Fprintf(w, "  rejected seqno %d %s: %s\n", x.Seqno, x.VGUUID, x.Why)
		}
	}
	for _, f := range r.Filesystems {
		fmt.Fprintf(w, "fs %s: %s %q %s root_ok=%v files=%d %s\n", f.Dev, f.Type, f.Label, f.Superblock, f.RootOK, f.Files, f.Note)
	}
	for _, x := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
	return nil
}

// stageProgress names each stage on stderr when it is a terminal.
func stageProgress(stderr io.Writer) func(string) {
	if newProgress(stderr, "") == nil {
		return nil
	}
	return func(stage string) { fmt.Fprintf(stderr, "\rtriage: %s...\033[K", stage) }
}
