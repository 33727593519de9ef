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

var mdPairsCmd = &cobra.Command{
	Use:   "pairs DEV...",
	Short: "Find which devices are the two halves of a mirror, from their content",
	Long: `pairs finds raid1 members and raid10 near-2 pairs among DEVs from what
they hold, not from their superblocks (which may have been re-created in
another order). It samples the same 4 KiB blocks of every device's md data
area (aligned on each member's data offset; the whole device when there is
no superblock, or with --raw), pairs devices whose samples agree, then confirms each pair
with one full comparison: first difference, differing bytes, and a
confidence with its reasons. Devices in no pair are listed as unpaired.`,
	Args: cobra.MinimumNArgs(2),
	RunE: runMdPairs,
}

var mdPairsFlags struct {
	samples int
	minSame float64
	raw     bool
}

func init() {
	f := mdPairsCmd.Flags()
	f.IntVar(&mdPairsFlags.samples, "samples", compare.DefaultSamples, "4 KiB blocks sampled per device")
	f.BoolVar(&mdPairsFlags.raw, "raw", false, "ignore md superblocks: sample and compare whole devices")
	f.Float64Var(&mdPairsFlags.minSame, "min-same", compare.DefaultMinSame, "fraction of sampled blocks two devices must share to be paired")
	mdCmd.AddCommand(mdPairsCmd)
}

func runMdPairs(cmd *cobra.Command, args []string) error {
	if mdPairsFlags.samples < 1 || mdPairsFlags.minSame <= 0 || mdPairsFlags.minSame > 1 {
		return usageError{fmt.Errorf("--samples must be at least 1 and --min-same in (0, 1]")}
	}
	devs, err := openDevices(args)
	if err != nil {
		return err
	}
	defer closeAll(devs)
	locate := compare.MD
	if mdPairsFlags.raw {
		locate = nil
	}
	progress := newProgress(cmd, "confirming pairs:")
	rep, err := compare.Pairs(devs, compare.PairOptions{
		Locate: locate, Samples: mdPairsFlags.samples, MinSame: mdPairsFlags.minSame,
		Options: compare.Options{Progress: progress.update},
	})
	progress.done()
	if err != nil {
		return err
	}
	return emit(cmd, rep, func(w io.Writer) error { return printPairs(w, rep) })
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
