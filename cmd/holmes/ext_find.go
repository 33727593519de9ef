package main

import (
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/spf13/cobra"
)

// ExtFindOptions are holmes ext find's arguments and flags.
type ExtFindOptions struct {
	extSource
	Path string
	JSON bool
	Name string
	Lost bool
}

// NewCmdExtFind builds holmes ext find; runF replaces the run (tests).
func NewCmdExtFind(f *Factory, runF func(*ExtFindOptions) error) *cobra.Command {
	opts := &ExtFindOptions{extSource: extSource{Factory: f}}
	cmd := &cobra.Command{
		Use:   "find DEV [PATH]",
		Short: "paths whose name matches --name, including under directories whose own name is lost (#INODE)",
		Long: `find prints the path of every file under PATH (default /) whose base name
matches --name. When a directory is damaged, or with --lost, it also scans
the inode table and walks every directory whose own name is lost; those
paths start with #INODE (e.g. #12/lvm/backup/guests), which ls, stat, cat
and extract accept.`,
		Example: `  holmes ext find disk.img:p2 --name '*.vg'`,
		Args:    argsBetween(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device = args[0]
			if len(args) > 1 {
				opts.Path = args[1]
			}
			if runF != nil {
				return runF(opts)
			}
			return extFindRun(opts)
		},
	}
	opts.addFlags(cmd)
	addJSONFlag(cmd, &opts.JSON)
	cmd.Flags().StringVar(&opts.Name, "name", "*", "shell `GLOB` the base name must match")
	cmd.Flags().BoolVar(&opts.Lost, "lost", false, "always scan the inode table for directories whose name is lost (done anyway when a directory is damaged)")
	return cmd
}

func extFindRun(opts *ExtFindOptions) error {
	dev, fs, err := opts.open()
	if err != nil {
		return err
	}
	defer dev.Close()
	res, err := fs.FindAll(opts.Path, opts.Name, opts.Lost)
	if errors.Is(err, path.ErrBadPattern) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	err = emit(opts.Out, opts.JSON, res, func(w io.Writer) error {
		for _, m := range res.Matches {
			if _, err := fmt.Fprintln(w, m.Path); err != nil {
				return err
			}
		}
		return nil
	})
	if !opts.JSON {
		for _, p := range res.Problems {
			fmt.Fprintln(opts.ErrOut, "holmes: warning:", p)
		}
	}
	return err
}
