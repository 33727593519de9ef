package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"os"

	"holmes/internal/safewrite"
)

// ExtExtractOptions are holmes ext extract's arguments and flags.
type ExtExtractOptions struct {
	extSource
	Source, DestDir string
	JSON            bool
}

// NewCmdExtExtract builds holmes ext extract; runF replaces the run (tests).
func NewCmdExtExtract(f *Factory, runF func(*ExtExtractOptions) error) *cobra.Command {
	opts := &ExtExtractOptions{extSource: extSource{Factory: f}}
	cmd := &cobra.Command{
		Use:   "extract DEV SRC DESTDIR",
		Short: "copy a file or tree out, with modes and times, writing only under DESTDIR",
		Long: `extract copies the file or directory tree SRC out of the filesystem into
DESTDIR, like cp -r: SRC's last name is created inside DESTDIR (/ as root,
#12 as inode12), with modes and times. Only DESTDIR is written; a DESTDIR
that is the input or inside it is refused. What cannot be read is listed as
skipped.`,
		Example: `  holmes ext extract vg/home /guests out/ --case case.json`,
		Args:    exactArgs(3),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device, opts.Source, opts.DestDir = args[0], args[1], args[2]
			if runF != nil {
				return runF(opts)
			}
			return extExtractRun(opts)
		},
	}
	opts.addFlags(cmd)
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

func extExtractRun(opts *ExtExtractOptions) error {
	dest := opts.DestDir
	if err := safewrite.Check(dest, []string{opts.Device}, safewrite.Kind{}); err != nil {
		return usageError{err}
	}
	dev, fs, err := opts.open()
	if err != nil {
		return err
	}
	defer dev.Close()
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	res, err := fs.Extract(opts.Source, dest)
	if err != nil {
		return err
	}
	return emit(opts.Out, opts.JSON, res, func(w io.Writer) error {
		fmt.Fprintf(w, "extracted %d files (%d bytes), %d directories, %d symlinks into %s\n", res.Files, res.Bytes, res.Dirs, res.Symlinks, dest)
		for _, s := range res.Skipped {
			fmt.Fprintln(w, "skipped:", s)
		}
		return nil
	})
}
