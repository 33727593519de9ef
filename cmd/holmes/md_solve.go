package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/mdsolve"
	"holmes/render"
)

var (
	solveLevel, solveLayout, solveChunk, solveDataOffset string
	solveWindow                                          string
	solveName, solveWriteCase                            string
	solveRaidDevices                                     int
)

var mdSolveCmd = &cobra.Command{
	Use:   "solve DEV...",
	Short: "Infer an md array's level, layout, chunk, data offset and member order from its data",
	Long: `Infer the geometry of an md array whose superblocks are lost or were
overwritten, from the data itself: mirror groups and parity from samples,
the data offset from where a PV label or ext superblock sits, then every
remaining order and chunk size scored by what a correct assembly shows (LVM
metadata that parses, ext superblocks and their backups where the primary
places them, directories, numbered text running across chunk boundaries,
copies and parity agreeing). Prints the winner with its evidence, its margin
over the runner-up, what the md superblocks on the members say against it,
and the mdadm --create line that would re-create it. Try that line on
overlays first. Reads samples only; never writes.`,
	Args: cobra.MinimumNArgs(2),
	RunE: runMdSolve,
}

func init() {
	fs := mdSolveCmd.Flags()
	fs.StringVar(&solveLevel, "level", "", "only consider this raid level")
	fs.StringVar(&solveLayout, "layout", "", "only consider this layout")
	fs.StringVar(&solveChunk, "chunk", "", "only consider this chunk size (bare number = KiB as in mdadm)")
	fs.StringVar(&solveDataOffset, "data-offset", "", "only consider this data offset (bare number = KiB as in mdadm)")
	fs.IntVar(&solveRaidDevices, "raid-devices", 0, "the array's member count, when members are missing (default: the number of DEVs)")
	fs.StringVar(&solveWindow, "window", "256M", "bytes at the start of each member scanned for PV labels and ext superblocks")
	fs.StringVar(&solveName, "name", "md0", "the array's name in the case file")
	fs.StringVar(&solveWriteCase, "write-case", "", "record the solved array in case `FILE` (created or updated)")
	mdCmd.AddCommand(mdSolveCmd)
}

func runMdSolve(cmd *cobra.Command, args []string) error {
	if solveRaidDevices != 0 && solveRaidDevices < len(args) {
		return usageError{fmt.Errorf("--raid-devices %d is fewer than the %d DEVs given", solveRaidDevices, len(args))}
	}
	opt := mdsolve.Options{Level: solveLevel, Layout: solveLayout, RaidDisks: solveRaidDevices}
	var err error
	if opt.ChunkBytes, err = mdadmSize("--chunk", solveChunk); err != nil {
		return err
	}
	if solveDataOffset != "" {
		if opt.DataOffset, err = mdadmSize("--data-offset", solveDataOffset); err != nil {
			return err
		}
		opt.DataOffsetSet = true
	}
	if opt.Window, err = mdadmSize("--window", solveWindow); err != nil {
		return err
	}
	devs, err := openDevices(args)
	if err != nil {
		return err
	}
	defer closeAll(devs)
	res, err := mdsolve.Solve(devs, opt)
	if err != nil {
		return err
	}
	// Report members as the user named them.
	byName := map[string]string{}
	for i, d := range devs {
		byName[d.Name()] = args[i]
	}
	for i, n := range res.Order {
		if a, ok := byName[n]; ok {
			res.Order[i] = a
		}
	}
	for i := range res.Candidates {
		for j, n := range res.Candidates[i].Order {
			if a, ok := byName[n]; ok {
				res.Candidates[i].Order[j] = a
			}
		}
	}
	res.MdadmCreate = res.Create("/dev/md0")
	if res.Ambiguous {
		if err := emit(cmd, res, func(w io.Writer) error { return printSolve(w, res) }); err != nil {
			return err
		}
		// Exit 3, and no case file: nothing may build on an undecided geometry.
		return exitStatus{3, fmt.Errorf("md solve: ambiguous, no mdadm --create line: %s", strings.Join(res.Why, "; "))}
	}
	if solveWriteCase != "" {
		specs := slices.Clone(res.Order)
		for i, o := range specs {
			if o == "missing" {
				specs[i] = ""
			}
		}
		if err := writeCaseArray(solveWriteCase, solveName, res.Geometry(), memberList(specs)); err != nil {
			return err
		}
	}
	return emit(cmd, res, func(w io.Writer) error { return printSolve(w, res) })
}

func printSolve(w io.Writer, r *mdsolve.Result) error {
	pairs := [][2]string{{"Level", r.Level}}
	if r.Layout != "" {
		pairs = append(pairs, [2]string{"Layout", r.Layout})
	}
	if r.ChunkBytes > 0 {
		pairs = append(pairs, [2]string{"Chunk", bytesText(r.ChunkBytes)})
	}
	pairs = append(pairs, [][2]string{
		{"Data offset", bytesText(r.DataOffset)}, {"Metadata", r.Metadata},
		{"Order", strings.Join(r.Order, " ")},
		{"Score", strconv.FormatFloat(r.Score, 'f', 1, 64)},
		{"Confidence", strconv.FormatFloat(r.Confidence, 'f', 3, 64)},
		{"Candidates scored", strconv.Itoa(r.Searched)},
	}...)
	if r.RunnerUp != nil {
		ru := r.RunnerUp
		pairs = append(pairs, [2]string{"Runner-up", fmt.Sprintf("%s %s chunk %d offset %d order %s (score %.1f)",
			ru.Level, ru.Layout, ru.ChunkBytes, ru.DataOffset, strings.Join(ru.Order, " "), ru.Score)})
	}
	if err := render.KeyValues(w, pairs); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nEvidence:")
	for _, e := range r.Evidence {
		fmt.Fprintln(w, "  "+e)
	}
	if len(r.Superblocks) > 0 {
		fmt.Fprintln(w, "\nmd superblocks on the members (evidence, not truth):")
		for _, s := range r.Superblocks {
			fmt.Fprintln(w, "  "+s)
		}
	}
	if r.Ambiguous {
		return printAmbiguous(w, r)
	}
	fmt.Fprintf(w, "\nWarning: %s\n%s\n", r.Warning, *r.MdadmCreate)
	return nil
}

// printAmbiguous lists what stays open instead of a create line.
func printAmbiguous(w io.Writer, r *mdsolve.Result) error {
	fmt.Fprintln(w, "\nAmbiguous: no mdadm --create line (the evidence does not decide):")
	for _, s := range r.Why {
		fmt.Fprintln(w, "  "+s)
	}
	fmt.Fprintln(w, "\nCandidates:")
	for _, c := range r.Candidates {
		fmt.Fprintf(w, "  %.1f  %s %s chunk %d offset %d order %s\n", c.Score, c.Level, c.Layout, c.ChunkBytes, c.DataOffset, strings.Join(c.Order, " "))
	}
	if len(r.Differences) > 0 {
		fmt.Fprintln(w, "\nWhat differs between the best two:")
		for _, s := range r.Differences {
			fmt.Fprintln(w, "  "+s)
		}
		fmt.Fprintln(w, "\nWhat would decide:")
		for _, s := range r.WouldDecide {
			fmt.Fprintln(w, "  "+s)
		}
	}
	return nil
}
