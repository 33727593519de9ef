package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"holmes/internal/safewrite"
	"holmes/report"
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
	specs, err := opts.Expand(opts.Devices)
	if err != nil {
		return err
	}
	files, err := opts.Resolver()
	if err != nil {
		return err
	}
	progress := newProgress(opts.ErrOut, "triage:")
	t, err := triage.Run(context.Background(), specs, opts.OpenDevice, triage.Options{
		SMART: smartFiles, Smartctl: opts.Smartctl, Progress: progress.stage, Files: files, Maps: opts.mapPairs(),
		Absent: opts.absentDisks(), SMARTOutput: opts.archivedSMART(),
	})
	progress.done()
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
	if opts.Report != "" {
		if err := writeReport(opts.Report, res, opts.Devices); err != nil {
			return err
		}
	}
	if err := emit(opts.Out, opts.JSON, res, func(w io.Writer) error { return report.Markdown(w, res) }); err != nil {
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

// writeReport writes the report in the format its name asks for, never
// over an input or a file that is not an earlier report.
func writeReport(path string, res *triage.Result, inputs []string) error {
	var buf bytes.Buffer
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md":
		err = report.Markdown(&buf, res)
	case ".html", ".htm":
		err = report.HTML(&buf, res)
	default:
		return usagef("--report %s: the name must end in .md or .html", path)
	}
	if err != nil {
		return err
	}
	return safewrite.WriteFile(path, buf.Bytes(), inputs, reportKind)
}

// reportKind: a report of an earlier run may be replaced.
var reportKind = safewrite.Kind{Name: "a holmes triage report", Is: func(p []byte) bool {
	return bytes.HasPrefix(p, []byte("<!DOCTYPE html")) || bytes.HasPrefix(p, []byte("# holmes triage report"))
}}

func ambiguousArrays(r *triage.Result) []string {
	var s []string
	for _, a := range r.Arrays {
		if a.Ambiguous {
			s = append(s, fmt.Sprintf("%s (%s): %s", a.Name, strings.Join(a.Members, " "), strings.Join(a.Why, ", ")))
		}
	}
	return s
}
