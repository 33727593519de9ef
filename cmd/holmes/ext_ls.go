package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"holmes/ext"
	"strings"
	"time"
)

// ExtLsOptions are holmes ext ls's arguments and flags.
type ExtLsOptions struct {
	extSource
	Path    string
	JSON    bool
	Deleted bool
}

// NewCmdExtLs builds holmes ext ls; runF replaces the run (tests).
func NewCmdExtLs(f *Factory, runF func(*ExtLsOptions) error) *cobra.Command {
	opts := &ExtLsOptions{extSource: extSource{Factory: f}}
	cmd := &cobra.Command{
		Use:   "ls DEV [PATH]",
		Short: "list a directory like debugfs ls -l (inode, mode, type, uid, gid, size, mtime, name)",
		Long: `ls lists the directory PATH (default /) in the layout of debugfs ls -l: inode,
mode, directory entry type, uid, gid, size, mtime and name, so the two can be
diffed. PATH may start with #INODE (as find prints it) to start from that
inode. --deleted also lists removed entries still readable in the directory
blocks, as <INODE> with the inode they last named.`,
		Example: `  holmes ext ls vg/root / --case case.json`,
		Args:    argsBetween(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device, opts.Path = args[0], "/"
			if len(args) > 1 {
				opts.Path = args[1]
			}
			if runF != nil {
				return runF(opts)
			}
			return extLsRun(opts)
		},
	}
	opts.addFlags(cmd)
	addJSONFlag(cmd, &opts.JSON)
	cmd.Flags().BoolVarP(&opts.Deleted, "deleted", "d", false, "also list removed entries still readable in the directory, as <INODE> (the inode they last named)")
	return cmd
}

func extLsRun(opts *ExtLsOptions) error {
	return opts.lookup(opts.Path, func(fs *ext.FS, dir *ext.Inode) error {
		return extLsPrint(opts, fs, dir)
	})
}

func extLsPrint(opts *ExtLsOptions, fs *ext.FS, dir *ext.Inode) error {
	list, dirErr := fs.List(dir, opts.Deleted)
	if dirErr != nil && len(list) == 0 {
		return dirErr
	}
	err := emit(opts.Out, opts.JSON, list, func(w io.Writer) error {
		for _, x := range list {
			// The layout of debugfs ls -l, so the two can be diffed.
			mt := ""
			if t, err := time.Parse(time.RFC3339, x.Mtime); err == nil {
				mt = fmt.Sprintf("%2d-%s", t.Day(), t.Format("Jan-2006 15:04"))
			}
			lbr, rbr := " ", " "
			if x.Deleted {
				lbr, rbr, mt = "<", ">", strings.Repeat(" ", 17) // as debugfs ls -d, but with the stale inode number
			}
			if _, err := fmt.Fprintf(w, "%s%6d%s %6o (%d)  %5d  %5d   %5d %s %s\n", lbr, x.Inode, rbr, x.Mode, x.FileType, x.UID, x.GID, x.Size, mt, x.Name); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && dirErr != nil {
		fmt.Fprintln(opts.ErrOut, "holmes: warning:", dirErr)
	}
	return err
}
