package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"holmes/mdraid"
)

// MdExamineOptions are holmes md examine's arguments and flags.
type MdExamineOptions struct {
	*Factory
	Devices []string
	JSON    bool
}

// NewCmdMdExamine builds holmes md examine; runF replaces the run (tests).
func NewCmdMdExamine(f *Factory, runF func(*MdExamineOptions) error) *cobra.Command {
	opts := &MdExamineOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "examine DEV...",
		Short: "Show every md superblock (0.90, 1.0, 1.1, 1.2) on each device",
		Long: `examine looks for md superblocks where each metadata version keeps them
(0.90 and 1.0 near the end of the device, 1.1 at its start, 1.2 at 4 KiB)
and decodes every one it finds, like mdadm --examine but read-only and for
all versions at once. A superblock whose checksum is wrong is still shown,
marked, and its other problems listed. A device without any superblock, or
one that cannot be opened, is an error (exit 1) after the others are reported.`,
		Example: `  holmes md examine disk0.img disk1.img:p2 --json`,
		Args:    minArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Devices = args
			if runF != nil {
				return runF(opts)
			}
			return mdExamineRun(opts)
		},
	}
	addJSONFlag(cmd, &opts.JSON)
	return cmd
}

// examinedDevice is one element of the md examine JSON document (docs/cli.md).
type examinedDevice struct {
	Device      string               `json:"device"`
	Size        int64                `json:"size"`
	Superblocks []*mdraid.Superblock `json:"superblocks"`
}

func mdExamineRun(opts *MdExamineOptions) error {
	devs, fails := opts.OpenEach(opts.Devices)
	defer closeAll(devs)
	report := make([]examinedDevice, 0, len(devs))
	var missing []string
	for _, d := range devs {
		sbs, err := mdraid.Examine(d, d.Size())
		if err != nil {
			fails.add(fmt.Errorf("%s: %w", d.Name(), err))
			continue
		}
		if len(sbs) == 0 {
			missing = append(missing, d.Name())
		}
		report = append(report, examinedDevice{d.Name(), d.Size(), append([]*mdraid.Superblock{}, sbs...)})
	}
	if len(report) > 0 {
		if err := emit(opts.Out, opts.JSON, report, func(w io.Writer) error { return printExamine(w, report) }); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		fails.add(fmt.Errorf("md: no md superblock on %s (looked for 0.90 and 1.0 near the end, 1.1 at 0, 1.2 at 4096)", strings.Join(missing, ", ")))
	}
	return fails.err()
}
