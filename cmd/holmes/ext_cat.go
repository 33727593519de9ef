package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"holmes/ext"
)

// ExtCatOptions are holmes ext cat's arguments and flags.
type ExtCatOptions struct {
	extSource
	Path string
}

// NewCmdExtCat builds holmes ext cat; runF replaces the run (tests).
func NewCmdExtCat(f *Factory, runF func(*ExtCatOptions) error) *cobra.Command {
	opts := &ExtCatOptions{extSource: extSource{Factory: f}}
	cmd := &cobra.Command{
		Use:   "cat DEV PATH",
		Short: "a file's bytes to stdout",
		Long: `cat writes the bytes of the file PATH to stdout, holes as zeros, like
debugfs cat. PATH may start with #INODE (as find prints it) to start from
that inode.`,
		Example: `  holmes ext cat vg/root /etc/fstab --case case.json`,
		Args:    exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device, opts.Path = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return extCatRun(opts)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

func extCatRun(opts *ExtCatOptions) error {
	return opts.lookup(opts.Path, func(fs *ext.FS, in *ext.Inode) error {
		if in.IsDir() {
			return fmt.Errorf("%s: is a directory", opts.Path)
		}
		r, err := fs.Reader(in)
		if err != nil {
			return err
		}
		_, err = io.Copy(opts.Out, io.NewSectionReader(r, 0, r.Size()))
		return err
	})
}
