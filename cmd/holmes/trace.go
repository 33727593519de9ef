package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/render"
	"holmes/trace"
)

// TraceOptions are holmes trace's arguments and flags.
type TraceOptions struct {
	*Factory
	Device      string
	Range       string // OFFSET or OFFSET+LEN; "" lists the unreadable ranges of Devices
	Devices     []string
	Superblocks []string
	JSON        bool
}

// NewCmdTrace builds holmes trace; runF replaces the run (tests).
func NewCmdTrace(f *Factory, runF func(*TraceOptions) error) *cobra.Command {
	opts := &TraceOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "trace DEV OFFSET[+LEN] | trace DEV...",
		Short: "Say what a byte range of a member, array or LV is, up the stack to the file",
		Long: `trace maps LEN bytes (default 1) at OFFSET of DEV up through the stack the
case file describes (docs/trace.md): a member's bytes to its array (or to md
metadata or parity), an array's bytes to the logical volume and offset
holding them (or to the PV label, metadata area or free extents), a
partition table inside an LV to its partition, and a filesystem's bytes to
what it keeps there: superblock, group descriptors, bitmaps, inode table
(with the inode numbers), journal, a file or directory by path and offset,
free space. Sizes take K M G T (binary) or s (sectors).

Without OFFSET, trace takes each range DEV cannot read (the gaps of its
ddrescue mapfile, --map) up the stack the same way: an array says whether
it still reads those bytes from another copy or parity (routed around) or
has lost them, and the lost bytes go on to the LV, the filesystem
structure or the file and its offsets.`,
		Example: `  holmes --case case.json trace disks/d4.img:p2 265728+1024
  holmes --case case.json trace --superblock md0=8193 md0 9024512+512 --json
  holmes --case case.json --map d0.img=d0.map --map d1.img=d1.map trace d0.img d1.img`,
		Args: minArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device, opts.Devices = args[0], args
			if len(args) == 2 && isTraceRange(args[1]) {
				opts.Range, opts.Devices = args[1], nil
			}
			if runF != nil {
				return runF(opts)
			}
			return traceRun(opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Superblocks, "superblock", nil, "read the filesystem on `DEV=BLOCK` with the backup superblock at BLOCK (repeatable)")
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

// isTraceRange says whether an argument is meant as OFFSET or OFFSET+LEN
// (it starts with a digit) rather than as a DEV.
func isTraceRange(arg string) bool {
	return arg != "" && arg[0] >= '0' && arg[0] <= '9'
}

func traceRun(opts *TraceOptions) error {
	stack, err := traceStack(opts)
	if err != nil {
		return err
	}
	if opts.Range == "" {
		return traceHoles(opts, stack)
	}
	offStr, lenStr, hasLen := strings.Cut(opts.Range, "+")
	off, err := blockdev.ParseSize(offStr)
	if err != nil {
		return usagef("OFFSET: %v", err)
	}
	length := int64(1)
	if hasLen {
		if length, err = blockdev.ParseSize(lenStr); err != nil || length == 0 {
			return usagef("LEN: want a size above 0, not %q", lenStr)
		}
	}
	steps, err := stack.Trace(opts.Device, off, length)
	if err != nil {
		return err
	}
	for i := range steps {
		steps[i].Dev = relativeDev(steps[i].Dev)
	}
	if opts.JSON {
		return render.JSON(opts.Out, steps)
	}
	return render.Table(opts.Out, []string{"layer", "dev", "offset", "length", "what"}, stepRows(steps))
}

// traceHoles traces every unreadable range of the DEVs.
func traceHoles(opts *TraceOptions, stack *trace.Stack) error {
	holes, err := stack.Holes(opts.Devices)
	if err != nil && len(opts.Devices) == 2 {
		return fmt.Errorf("%w (%s is no OFFSET[+LEN]: read as a second DEV)", err, opts.Devices[1])
	}
	if err != nil {
		return err
	}
	for i := range holes {
		for j := range holes[i].Steps {
			holes[i].Steps[j].Dev = relativeDev(holes[i].Steps[j].Dev)
		}
	}
	if opts.JSON {
		return render.JSON(opts.Out, holes)
	}
	if len(holes) == 0 {
		_, err := fmt.Fprintf(opts.Out, "no unreadable ranges on %s (a ddrescue mapfile is given with --map IMAGE=MAPFILE)\n", strings.Join(opts.Devices, ", "))
		return err
	}
	for _, h := range holes {
		fmt.Fprintf(opts.Out, "%s: bytes %d-%d unreadable (%s)\n", h.Dev, h.Offset, h.Offset+h.Length-1, h.Why)
		if err := render.Table(opts.Out, []string{"layer", "dev", "offset", "length", "what"}, stepRows(h.Steps)); err != nil {
			return err
		}
	}
	return nil
}

// traceStack is the stack trace walks: the case file's, or the DEVs alone.
func traceStack(opts *TraceOptions) (*trace.Stack, error) {
	stack := &trace.Stack{Open: func(name string) (blockdev.Device, error) { return opts.OpenDevice(name) }}
	if opts.CaseFile != "" {
		c, err := opts.LoadCase()
		if err != nil {
			return nil, err
		}
		if stack, err = trace.FromCase(c); err != nil {
			return nil, err
		}
	}
	stack.Superblocks = map[string]int64{}
	for _, s := range opts.Superblocks {
		dev, block, ok := strings.Cut(s, "=")
		n, err := ext.ParseSuperblockChoice(block)
		if !ok || dev == "" || err != nil {
			return nil, usagef("--superblock %q: want DEV=BLOCK (or DEV=primary)", s)
		}
		stack.Superblocks[dev] = n
	}
	return stack, nil
}

// stepRows are the table rows of trace steps.
func stepRows(steps []trace.Step) [][]string {
	rows := make([][]string, 0, len(steps))
	for _, s := range steps {
		what := s.What
		if s.Path != "" {
			what += " " + s.Path
			if s.Layer == "ext" && isFileData(s.What) {
				what += fmt.Sprintf(" @ %d", s.FileOffset)
			}
		} else if s.Inode != 0 {
			what += " (inode " + strconv.FormatUint(uint64(s.Inode), 10) + ")"
		}
		rows = append(rows, []string{s.Layer, s.Dev, strconv.FormatInt(s.Offset, 10), strconv.FormatInt(s.Length, 10), what})
	}
	return rows
}

// relativeDev shows a DEV trace made absolute (to compare names) the way
// it was most likely typed: relative to the working directory when it lies
// below it.
func relativeDev(dev string) string {
	if !filepath.IsAbs(dev) {
		return dev
	}
	wd, err := os.Getwd()
	if err != nil {
		return dev
	}
	if rel, err := filepath.Rel(wd, dev); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return dev
}

// isFileData says whether a step's What is file contents, whose offset in
// the file is worth printing.
func isFileData(what string) bool {
	return what == "file" || what == "directory" || what == "journal" || what == "symlink"
}
