package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"strings"

	"holmes/render"
)

// ExtOrphansOptions are holmes ext orphans's arguments and flags.
type ExtOrphansOptions struct {
	extSource
	JSON bool
}

// NewCmdExtOrphans builds holmes ext orphans; runF replaces the run (tests).
func NewCmdExtOrphans(f *Factory, runF func(*ExtOrphansOptions) error) *cobra.Command {
	opts := &ExtOrphansOptions{extSource: extSource{Factory: f}}
	cmd := &cobra.Command{
		Use:   "orphans DEV",
		Short: "directories whose name is lost, with rebuilt paths, and regular files no directory names",
		Long: `orphans scans the inode table for directories whose own name is lost (their
parent's entry is gone or damaged) and regular files that no directory
names. Each lost directory is shown with the path rebuilt from its ".."
chain, what it holds, and its old name when the journal still has it.`,
		Example: `  holmes ext orphans disk.img:p2`,
		Args:    exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device = args[0]
			if runF != nil {
				return runF(opts)
			}
			return extOrphansRun(opts)
		},
	}
	opts.addFlags(cmd)
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

func extOrphansRun(opts *ExtOrphansOptions) error {
	dev, fs, err := opts.open()
	if err != nil {
		return err
	}
	defer dev.Close()
	res, err := fs.Orphans()
	if err != nil {
		return err
	}
	return emit(opts.Out, opts.JSON, res, func(w io.Writer) error {
		rows := [][]string{}
		for _, x := range res.LostDirs {
			hint := ""
			if x.JournalName != "" {
				hint = fmt.Sprintf("%s (transaction %d)", x.JournalName, x.JournalSequence)
			}
			rows = append(rows, []string{"directory", x.Path, fmt.Sprint(x.Parent), fmt.Sprint(x.Entries),
				strings.Join(x.Sample, " "), hint, fmt.Sprint(x.Size), rfc3339(x.Mtime)})
		}
		for _, x := range res.Unreferenced {
			hint := ""
			if x.JournalName != "" {
				hint = fmt.Sprintf("%s (transaction %d)", x.JournalName, x.JournalSequence)
			}
			rows = append(rows, []string{"file", x.Path, "", "", "", hint, fmt.Sprint(x.Size), x.Mtime})
		}
		if len(rows) == 0 {
			fmt.Fprintln(w, "no lost directories or unreferenced files")
		} else if err := render.Table(w, []string{"kind", "path", "parent (..)", "entries", "holds", "name in journal", "size", "mtime"}, rows); err != nil {
			return err
		}
		if len(res.Foreign) > 0 {
			fmt.Fprintf(w, "not this filesystem's: %d inodes of the filesystem written over it (UUID %s): %s\n", len(res.Foreign), res.Foreign[0].UUID, foreignList(res.Foreign))
		}
		if res.JournalProblem != "" && len(rows) > 0 {
			fmt.Fprintf(w, "no names from the journal: %s\n", res.JournalProblem)
		}
		return nil
	})
}
