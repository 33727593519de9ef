package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/compare"
	"holmes/render"
)

// MdPairsOptions are holmes md pairs' arguments and flags.
type MdPairsOptions struct {
	*Factory
	Devices []string
	JSON    bool
	Samples int
	MinSame float64
	Raw     bool
}

// NewCmdMdPairs builds holmes md pairs; runF replaces the run (tests).
func NewCmdMdPairs(f *Factory, runF func(*MdPairsOptions) error) *cobra.Command {
	opts := &MdPairsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "pairs DEV...",
		Short: "Find which devices are the two halves of a mirror, from their content",
		Long: `pairs finds raid1 members and raid10 near-2 pairs among DEVs from what
they hold, not from their superblocks (which may have been re-created in
another order). It samples the same 4 KiB blocks of every device's md data
area (aligned on each member's data offset; the whole device when there is
no superblock, or with --raw), pairs devices whose samples agree, then confirms each pair
with one full comparison: first difference, differing bytes, and a
confidence with its reasons. Devices in no pair are listed as unpaired.
A DEV that cannot be opened is named after the report (exit 1).`,
		Example: `  holmes md pairs disk0.img disk1.img disk2.img disk3.img`,
		Args:    minArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Devices = args
			if runF != nil {
				return runF(opts)
			}
			return mdPairsRun(opts)
		},
	}
	fl := cmd.Flags()
	addJSONFlag(cmd, &opts.JSON)
	fl.IntVar(&opts.Samples, "samples", compare.DefaultSamples, "`COUNT` of 4 KiB blocks sampled per device")
	fl.BoolVar(&opts.Raw, "raw", false, "ignore md superblocks: sample and compare whole devices")
	fl.Float64Var(&opts.MinSame, "min-same", compare.DefaultMinSame, "`FRACTION` of sampled blocks two devices must share to be paired")
	return cmd
}

func mdPairsRun(opts *MdPairsOptions) error {
	if opts.Samples < 1 || opts.MinSame <= 0 || opts.MinSame > 1 {
		return usagef("--samples must be at least 1 and --min-same in (0, 1]")
	}
	devs, fails := opts.OpenEach(opts.Devices)
	defer closeAll(devs)
	if len(devs) < 2 {
		return fails.err()
	}
	locate := compare.MD
	if opts.Raw {
		locate = nil
	}
	progress := newProgress(opts.ErrOut, "confirming pairs:")
	rep, err := compare.Pairs(devs, compare.PairOptions{
		Locate: locate, Samples: opts.Samples, MinSame: opts.MinSame,
		Options: compare.Options{Progress: progress.update},
	})
	progress.done()
	if err != nil {
		return err
	}
	if err := emit(opts.Out, opts.JSON, rep, func(w io.Writer) error { return printPairs(w, rep) }); err != nil {
		return err
	}
	return fails.err()
}

func printPairs(w io.Writer, rep *compare.PairsReport) error {
	rows := make([][]string, 0, len(rep.Pairs))
	for _, p := range rep.Pairs {
		first := "none"
		if p.FirstDiff != nil {
			first = strconv.FormatInt(*p.FirstDiff, 10)
		}
		rows = append(rows, []string{p.Members[0], p.Members[1], fmt.Sprintf("%.1f%% of %d", 100*p.SameFraction, p.Sampled),
			first, strconv.FormatInt(p.DiffBytes, 10), p.Confidence})
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "no mirror pairs found")
	} else if err := render.Table(w, []string{"A", "B", "same samples", "first diff", "diff bytes", "confidence"}, rows); err != nil {
		return err
	}
	for _, p := range rep.Pairs {
		fmt.Fprintf(w, "\n%s + %s (%s):\n", p.Members[0], p.Members[1], p.Confidence)
		for _, r := range p.Reasons {
			fmt.Fprintln(w, "  -", r)
		}
	}
	if len(rep.Unpaired) > 0 {
		fmt.Fprintf(w, "\nunpaired: %s\n", strings.Join(rep.Unpaired, " "))
	}
	return printTableAndNotes(w, nil, nil, rep.Notes)
}
