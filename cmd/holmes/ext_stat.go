package main

import (
	"io"

	"github.com/spf13/cobra"

	"holmes/ext"
)

// ExtStatOptions are holmes ext stat's arguments and flags.
type ExtStatOptions struct {
	extSource
	Path string
	JSON bool
}

// NewCmdExtStat builds holmes ext stat; runF replaces the run (tests).
func NewCmdExtStat(f *Factory, runF func(*ExtStatOptions) error) *cobra.Command {
	opts := &ExtStatOptions{extSource: extSource{Factory: f}}
	cmd := &cobra.Command{
		Use:   "stat DEV PATH",
		Short: "an inode's fields, like debugfs stat",
		Long: `stat prints the inode PATH names, in the layout of debugfs stat: type, mode,
owner, size, link count, flags, times, extended attributes and the blocks or
extents that hold its data. PATH may start with #INODE (as find prints it).`,
		Example: `  holmes ext stat disk.img:p2 /etc/fstab`,
		Args:    exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device, opts.Path = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return extStatRun(opts)
		},
	}
	opts.addFlags(cmd)
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

func extStatRun(opts *ExtStatOptions) error {
	return opts.lookup(opts.Path, func(fs *ext.FS, in *ext.Inode) error {
		return emit(opts.Out, opts.JSON, fs.StatInode(in), func(w io.Writer) error { return fs.WriteDebugfsStat(w, in) })
	})
}
