package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/render"
	"holmes/smart"
)

// SmartScoreOptions are holmes smart score's arguments and flags.
type SmartScoreOptions struct {
	*Factory
	ctx   context.Context // stops a live smartctl run
	Files []string
	JSON  bool
	Pairs []string
}

// smartScoreReport is the --json document when --pair is given; without
// pairs the document is the bare list of results (docs/cli.md).
type smartScoreReport struct {
	Drives []smart.Result `json:"drives"`
	Pairs  []smart.Pair   `json:"pairs"`
}

// NewCmdSmartScore builds holmes smart score; runF replaces the run (tests).
func NewCmdSmartScore(f *Factory, runF func(*SmartScoreOptions) error) *cobra.Command {
	opts := &SmartScoreOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "score FILE...",
		Short: "Score smartctl reports 0-100 (ok/watch/fail) and choose the sound half of each mirror",
		Long: `score reads smartctl output saved from -a, -x, -H -A (text) or -j (JSON)
for ATA/SATA, NVMe and SCSI/SAS drives, and scores each drive from the
evidence that predicts failure: reallocated, pending and uncorrectable
sectors (attributes 5, 187, 188, 197, 198, weighed by Backblaze's observed
failure rates), error logs, failed or stale self-tests, NVMe critical
warnings, media errors and spare, SCSI grown defects and uncorrected errors.

A FILE that is a device node (/dev/sda, /dev/nvme0) is queried live with
"smartctl -j -x DEV", which only reads.

--pair A,B (repeatable) names the two halves of a mirror; the report says
which one to trust, or null when both are equally sound. Pair members not
given as FILE are scored too. Every FILE that can be read is scored; those
that cannot are named afterwards (exit 1).`,
		Example: `  holmes smart score --pair sda.txt,sdb.txt sda.txt sdb.txt`,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files, opts.ctx = args, cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return smartScoreRun(opts)
		},
	}
	addJSONFlag(cmd, &opts.JSON)
	cmd.Flags().StringArrayVar(&opts.Pairs, "pair", nil, "`A,B`: two reports of one mirror's halves (repeatable)")
	return cmd
}

func smartScoreRun(opts *SmartScoreOptions) error {
	files := slices.Clone(opts.Files)
	var pairs [][2]string
	for _, p := range opts.Pairs {
		a, b, ok := strings.Cut(p, ",")
		if !ok || a == "" || b == "" || strings.Contains(b, ",") || a == b {
			return usagef("--pair %q: want two different files A,B", p)
		}
		pairs = append(pairs, [2]string{a, b})
		for _, f := range []string{a, b} {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return usagef("needs a FILE")
	}

	results := make([]smart.Result, 0, len(files))
	byFile := map[string]smart.Result{}
	fails := &failures{}
	for _, f := range files {
		if _, dup := byFile[f]; dup {
			continue
		}
		r, err := smart.Load(opts.ctx, f, opts.Smartctl)
		if err != nil {
			fails.add(err)
			continue
		}
		res := smart.Score(r)
		results = append(results, res)
		byFile[f] = res
	}
	if len(results) == 0 || (len(pairs) > 0 && fails.err() != nil) {
		return fails.err() // a pair needs both halves scored
	}
	if len(pairs) == 0 {
		if err := emit(opts.Out, opts.JSON, results, func(w io.Writer) error { return renderSmartResults(w, results) }); err != nil {
			return err
		}
		return fails.err()
	}
	report := smartScoreReport{Drives: results}
	for _, p := range pairs {
		report.Pairs = append(report.Pairs, smart.Choose(byFile[p[0]], byFile[p[1]]))
	}
	return emit(opts.Out, opts.JSON, report, func(w io.Writer) error {
		if err := renderSmartResults(w, results); err != nil {
			return err
		}
		for _, p := range report.Pairs {
			trust := "either (equally sound)"
			if p.Trust != nil {
				trust = *p.Trust
			}
			if _, err := fmt.Fprintf(w, "\npair %s + %s: trust %s\n  %s\n", p.Members[0], p.Members[1], trust, p.Why); err != nil {
				return err
			}
		}
		return nil
	})
}

// renderSmartResults prints one table row per drive, then each drive's
// reasons, heaviest first.
func renderSmartResults(w io.Writer, results []smart.Result) error {
	rows := make([][]string, len(results))
	for i, r := range results {
		hours := "-"
		if r.PowerOnHours != nil {
			hours = strconv.FormatInt(*r.PowerOnHours, 10)
		}
		rows[i] = []string{r.File, r.Model, r.Serial, r.Protocol, hours, r.Health, strconv.Itoa(r.Score)}
	}
	if err := render.Table(w, []string{"FILE", "MODEL", "SERIAL", "PROTOCOL", "POWER-ON H", "HEALTH", "SCORE"}, rows); err != nil {
		return err
	}
	for _, r := range results {
		if len(r.Reasons) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%s, %d):\n", r.File, r.Health, r.Score)
		reasons := slices.Clone(r.Reasons)
		slices.SortStableFunc(reasons, func(a, b smart.Reason) int { return b.Penalty - a.Penalty })
		for _, reason := range reasons {
			fmt.Fprintf(w, "  %-5s -%-3d %s %s = %s: %s\n", reason.Severity, reason.Penalty, reason.Attr, reason.Name, reason.Raw, reason.Why)
		}
	}
	return nil
}
