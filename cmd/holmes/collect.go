package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"holmes/collect"
	"holmes/internal/safewrite"
)

// CollectOptions are holmes collect's arguments and flags.
type CollectOptions struct {
	*Factory
	Devices []string
	Out     string
	Force   bool
	JSON    bool
}

// NewCmdCollect builds holmes collect; runF replaces the run (tests).
func NewCmdCollect(f *Factory, runF func(*CollectOptions) error) *cobra.Command {
	opts := &CollectOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "collect --out FILE.tar DEV...",
		Short: "Keep every metadata region of the disks in one archive, for the next rescue",
		Long: `collect reads whole disks (or images) and keeps, in one tar with a manifest,
what a rescue needs of them: partition tables (MBR and EBR chain, both GPT
headers and entry arrays), md superblocks at every place they may lie and
bitmap headers, LVM labels and whole metadata areas, ext superblocks (primary
and backups), group descriptor tables and directory trees — of the
filesystems inside the arrays and logical volumes too, mapped down to the
disks — the first and last MiB of every partition and disk (DRBD internal
metadata), where mirror halves differ, and smartctl -x -j of every block
device when smartctl is installed. A few MiB per disk. Nothing is written to
a DEV.

The archive stands for the disks: scan, md examine, lvm scan, lvm carve,
ext info and triage accept it where DEVs are expected, and read every byte
that was not kept as an error "not collected". An existing FILE is replaced
only with --force, and only when it is an earlier collect archive.`,
		Example: `  holmes collect --out /var/backups/holmes/$(hostname)-$(date +%F).tar /dev/sd?`,
		Args:    minArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Devices = args
			if opts.Out == "" {
				return usagef("--out FILE.tar is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return collectRun(opts)
		},
	}
	addJSONFlag(cmd, &opts.JSON)
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the archive to `FILE` (a .tar)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace --out when it is an earlier collect archive")
	return cmd
}

// archiveKind: with --force, an earlier archive may be replaced.
var archiveKind = safewrite.Kind{Name: "a holmes collect archive", Is: collect.IsArchivePrefix}

func collectRun(opts *CollectOptions) error {
	kind := safewrite.Kind{}
	if opts.Force {
		kind = archiveKind
	}
	if err := safewrite.Check(opts.Out, opts.Devices, kind); err != nil {
		return err
	}
	if st, err := os.Stat(opts.Out); err == nil && st.IsDir() {
		return fmt.Errorf("--out %s is a directory; name the archive file", opts.Out)
	}
	specs, err := opts.Expand(opts.Devices)
	if err != nil {
		return err
	}
	// Written beside its place and renamed there when complete: a cut-off
	// run leaves no half archive under the name a cron job keeps.
	progress := newProgress(opts.ErrOut, "collect:")
	var m *collect.Manifest
	err = safewrite.Replace(opts.Out, func(w io.Writer) error {
		var err error
		m, err = collect.Collect(context.Background(), specs, opts.OpenDevice, w, collect.Options{Smartctl: opts.Smartctl, Progress: progress.stage})
		progress.done()
		return err
	}, func() error { return safewrite.Check(opts.Out, opts.Devices, kind) })
	if err != nil {
		return err
	}
	return emit(opts.Factory.Out, opts.JSON, m, func(w io.Writer) error { return printCollect(w, opts.Out, m) })
}

func printCollect(w io.Writer, out string, m *collect.Manifest) error {
	var total int64
	for _, d := range m.Devices {
		var kept int64
		for _, r := range d.Regions {
			kept += r.Length
		}
		total += kept
		smartNote := ""
		switch {
		case d.SMART != nil:
			smartNote = ", smartctl -x -j kept"
		case d.SMARTError != "":
			smartNote = ", no SMART: " + d.SMARTError
		}
		fmt.Fprintf(w, "%s: %s of %s in %d regions%s\n", d.Name, bytesText(kept), bytesText(d.Size), len(d.Regions), smartNote)
	}
	for _, wn := range m.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
	fmt.Fprintf(w, "%s: %d devices, %s kept\n", out, len(m.Devices), bytesText(total))
	return nil
}
