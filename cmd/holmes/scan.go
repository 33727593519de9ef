package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/scan"
)

// ScanOptions are holmes scan's arguments and flags.
type ScanOptions struct {
	*Factory
	Devices    []string
	JSON       bool
	Edge, Step string
	Full       bool
}

// NewCmdScan builds holmes scan; runF replaces the run (tests).
func NewCmdScan(f *Factory, runF func(*ScanOptions) error) *cobra.Command {
	opts := &ScanOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "scan DEV...",
		Short: "Find partition tables, md superblocks, LVM labels, ext superblocks and DRBD metadata by signature",
		Long: `scan reports what each device holds: its partition table and partitions, then
every md superblock, LVM PV label, ext superblock (primary and backups) and
DRBD metadata block found, with byte offsets. It does not need the partition
table: every sector of the first and last --edge bytes (64 MiB) is searched,
which finds partitions made by any partitioning tool and the metadata kept at
the end of a device, and the positions the findings imply are read too
(partition starts and ends, md and PV data areas, ext backup superblocks).
--step 1M also probes every 1 MiB boundary of the whole device, for
partitions further in; --full searches every sector (reads everything).

Every device that can be read is reported; those that cannot (missing,
empty, smaller than a sector) are named afterwards, with exit status 1.`,
		Example: `  holmes scan disk0.img disk1.img --step 1M`,
		Args:    minArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Devices = args
			if runF != nil {
				return runF(opts)
			}
			return scanRun(opts)
		},
	}
	addJSONFlag(cmd, &opts.JSON)
	cmd.Flags().StringVar(&opts.Edge, "edge", "64M", "`SIZE` searched at every sector at the start and at the end")
	cmd.Flags().StringVar(&opts.Step, "step", "", "also probe every `SIZE` boundary of the whole device (e.g. 1M)")
	cmd.Flags().BoolVar(&opts.Full, "full", false, "search every sector of the whole device")
	return cmd
}

func scanRun(opts *ScanOptions) error {
	var so scan.Options
	var err error
	if so.Edge, err = blockdev.ParseSize(opts.Edge); err != nil || so.Edge < 512 {
		return usagef("--edge %q: want a size of at least 512", opts.Edge)
	}
	if opts.Step != "" {
		if so.Step, err = blockdev.ParseSize(opts.Step); err != nil || so.Step < 64<<10 {
			return usagef("--step %q: want a size of at least 64K", opts.Step)
		}
	}
	so.Full = opts.Full
	devs, fails := opts.OpenEach(opts.Devices)
	defer closeAll(devs)
	reports := make([]*scan.Report, 0, len(devs))
	for _, d := range devs {
		if err := checkDeviceSize(opts.ErrOut, d, true); err != nil {
			fails.add(err)
			continue
		}
		r, err := scan.Scan(d, so)
		if err != nil {
			fails.add(fmt.Errorf("%s: %w", d.Name(), err))
			continue
		}
		reports = append(reports, r)
	}
	if len(reports) == 0 {
		return fails.err()
	}
	err = emit(opts.Out, opts.JSON, reports, func(w io.Writer) error {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := printScan(w, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return fails.err()
}
