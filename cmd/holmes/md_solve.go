package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/casefile"
	"holmes/mdraid"
	"holmes/mdsolve"
	"holmes/plan"
	"holmes/render"
)

// MdSolveOptions are holmes md solve's arguments and flags.
type MdSolveOptions struct {
	*Factory
	Devices                          []string
	JSON                             bool
	Level, Layout, Chunk, DataOffset string
	RaidDevices                      int
	Window                           string
	Name, WriteCase                  string
}

// NewCmdMdSolve builds holmes md solve; runF replaces the run (tests).
func NewCmdMdSolve(f *Factory, runF func(*MdSolveOptions) error) *cobra.Command {
	opts := &MdSolveOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "solve DEV...",
		Short: "Infer an md array's level, layout, chunk, data offset and member order from its data",
		Long: `Infer the geometry of an md array whose superblocks are lost or were
overwritten, from the data itself: mirror groups and parity from samples,
the data offset from where a PV label or ext superblock sits, then every
remaining order and chunk size scored by what a correct assembly shows (LVM
metadata that parses, ext superblocks and their backups where the primary
places them, directories, numbered text running across chunk boundaries,
copies and parity agreeing). Structures whose array position their content
tells (PV label, metadata area, ext superblock and descriptor table copies,
ext4 inode tables, partition tables) fix member roles first. Prints the winner with its evidence,
its margin over the runner-up, what the md superblocks on the members say
against it, and the mdadm --create line that would re-create it. When the evidence does not
decide (a tie, a thin lead, filesystems that do not read through, a subset
of an array's members) it prints the candidates instead, no line, and exits
3 (docs/md-solve.md). Try any line on overlays first. Reads samples only;
never writes.`,
		Example: `  holmes md solve --write-case case.json disk3.img disk1.img disk0.img disk2.img`,
		Args:    minArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Devices = args
			if runF != nil {
				return runF(opts)
			}
			return mdSolveRun(opts)
		},
	}
	fl := cmd.Flags()
	addJSONFlag(cmd, &opts.JSON)
	fl.StringVar(&opts.Level, "level", "", "only consider this raid `LEVEL`")
	fl.StringVar(&opts.Layout, "layout", "", "only consider this `LAYOUT`")
	fl.StringVar(&opts.Chunk, "chunk", "", "only consider this chunk `SIZE` (bare number = KiB as in mdadm)")
	fl.StringVar(&opts.DataOffset, "data-offset", "", "only consider this data offset, a `SIZE` (bare number = KiB as in mdadm)")
	fl.IntVar(&opts.RaidDevices, "raid-devices", 0, "the array's member `COUNT`, when members are missing (default: the number of DEVs)")
	fl.StringVar(&opts.Window, "window", "256M", "`SIZE` at the start of each member scanned for PV labels and ext superblocks")
	fl.StringVar(&opts.Name, "name", "md0", "the array's `NAME` in the case file")
	fl.StringVar(&opts.WriteCase, "write-case", "", "record the solved array in case `FILE` (created or updated)")
	return cmd
}

func mdSolveRun(opts *MdSolveOptions) error {
	if opts.RaidDevices != 0 && opts.RaidDevices < len(opts.Devices) {
		return usagef("--raid-devices %d is fewer than the %d DEVs given", opts.RaidDevices, len(opts.Devices))
	}
	so := mdsolve.Options{Level: opts.Level, Layout: opts.Layout, RaidDisks: opts.RaidDevices}
	var err error
	if so.ChunkBytes, err = mdadmSize("--chunk", opts.Chunk); err != nil {
		return err
	}
	if opts.DataOffset != "" {
		if so.DataOffset, err = mdadmSize("--data-offset", opts.DataOffset); err != nil {
			return err
		}
		so.DataOffsetSet = true
	}
	if so.Window, err = mdadmSize("--window", opts.Window); err != nil {
		return err
	}
	devs, err := opts.OpenDevices(opts.Devices)
	if err != nil {
		return err
	}
	defer closeAll(devs)
	res, err := mdsolve.Solve(devs, so)
	if err != nil {
		return err
	}
	// Members are named as the user named them: OpenDevice names each
	// device by its DEV argument, so res.Order, the candidates and the
	// mdadm line need no renaming.
	if res.Ambiguous {
		if err := emit(opts.Out, opts.JSON, res, func(w io.Writer) error { return printSolve(w, opts.Name, res) }); err != nil {
			return err
		}
		// Exit 3, and no case file: nothing may build on an undecided geometry.
		return exitStatus{3, fmt.Errorf("md solve: ambiguous, no mdadm --create line: %s", strings.Join(res.Why, "; "))}
	}
	if opts.WriteCase != "" {
		specs, _ := mdraid.RoleOrder(res.Order, "") // "missing" becomes ""
		if err := casefile.RecordArray(opts.WriteCase, opts.Name, res.Geometry(), res.Metadata, casefile.MemberList(specs)); err != nil {
			return err
		}
	}
	return emit(opts.Out, opts.JSON, res, func(w io.Writer) error { return printSolve(w, opts.Name, res) })
}

func printSolve(w io.Writer, name string, r *mdsolve.Result) error {
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
	fmt.Fprintf(w, "\nWarning: %s\n", r.Warning)
	return printSolvePlan(w, name, r)
}

// printSolvePlan prints the solved array's plan (docs/plan.md): its
// members attached read-only, overlaid, and the array re-created on the
// overlays, runnable as printed. Members the plan cannot name (a name
// from --case) leave the bare mdadm line, with why.
func printSolvePlan(w io.Writer, name string, r *mdsolve.Result) error {
	specs, _ := mdraid.RoleOrder(r.Order, "")
	a := casefile.Array{Name: name, Level: r.Level, Layout: r.Layout, ChunkBytes: r.ChunkBytes, DataOffset: r.DataOffset,
		DataSize: r.DataSize, Metadata: r.Metadata, Members: casefile.MemberList(specs)}
	p, err := plan.FromCase(&casefile.Case{Arrays: []casefile.Array{a}}, plan.Options{})
	if err != nil {
		fmt.Fprintf(w, "# no runnable plan: %v\n%s\n", err, *r.MdadmCreate)
		return nil
	}
	fmt.Fprintln(w, "\nThe plan (runs as printed on a rescue system; it writes only to overlays):")
	return printPlan(w, p)
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
