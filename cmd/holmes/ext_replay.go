package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"holmes/ext"
	"holmes/render"
)

// ExtReplayOptions are holmes ext replay's arguments and flags.
type ExtReplayOptions struct {
	extSource
	JSON bool
}

// NewCmdExtReplay builds holmes ext replay; runF replaces the run (tests).
func NewCmdExtReplay(f *Factory, runF func(*ExtReplayOptions) error) *cobra.Command {
	opts := &ExtReplayOptions{extSource: extSource{Factory: f}}
	cmd := &cobra.Command{
		Use:   "replay DEV",
		Short: "what replaying the journal in memory changes: transactions, blocks, inodes and their paths",
		Long: `replay says what the journal of a filesystem that was not cleanly unmounted
holds, and what replaying it changes, as a kernel mount or e2fsck would:
the transactions, each block replayed (and the revoked ones that are not),
and each inode that changes, with its paths and its state on disk and after
replay. The replay is done in memory; the device is never written. Every
other ext command reads the replayed state unless --no-journal is given.`,
		Example: `  holmes ext replay disk.img:p2`,
		Args:    exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device = args[0]
			if runF != nil {
				return runF(opts)
			}
			return extReplayRun(opts)
		},
	}
	opts.addFlags(cmd)
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

func extReplayRun(opts *ExtReplayOptions) error {
	dev, fs, err := opts.open()
	if err != nil {
		return err
	}
	defer dev.Close()
	if fs.Replay == nil {
		return fmt.Errorf("%s: nothing replayed: %s", dev.Name(), fs.JournalState())
	}
	rp, err := fs.ReplayChanges()
	if err != nil {
		return err
	}
	return emit(opts.Out, opts.JSON, rp, func(w io.Writer) error { return printReplay(w, fs, rp) })
}

func printReplay(w io.Writer, fs *ext.FS, rp *ext.Replay) error {
	fmt.Fprintln(w, fs.JournalState())
	rows := [][]string{}
	for _, b := range rp.Blocks {
		rows = append(rows, []string{fmt.Sprint(b.Block), fmt.Sprint(b.Sequence), b.What})
	}
	if err := render.Table(w, []string{"block", "transaction", "holds"}, rows); err != nil {
		return err
	}
	if len(rp.Revoked) > 0 {
		fmt.Fprintln(w, "revoked (logged, not replayed):", strings.Trim(fmt.Sprint(rp.Revoked), "[]"))
	}
	for _, s := range rp.Skipped {
		fmt.Fprintln(w, "skipped:", s)
	}
	rows = rows[:0]
	for _, in := range rp.Inodes {
		where := strings.Join(in.Paths, " ")
		if where == "" && in.OldPath != "" {
			where = "(was " + in.OldPath + ")"
		}
		rows = append(rows, []string{fmt.Sprint(in.Inode), where, in.Before, in.After})
	}
	fmt.Fprintln(w)
	return render.Table(w, []string{"inode", "path", "on disk", "after replay"}, rows)
}
