package main

import (
	"io"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/compare"
)

// CompareOptions are holmes compare's arguments and flags.
type CompareOptions struct {
	*Factory
	A, B           string
	JSON, Raw      bool
	Offset, Length string
}

// NewCmdCompare builds holmes compare; runF replaces the run (tests).
func NewCmdCompare(f *Factory, runF func(*CompareOptions) error) *cobra.Command {
	opts := &CompareOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "compare A B",
		Short: "Compare two devices (or hash manifests): first difference, differing bytes, blocks and regions",
		Long: `compare reads A and B concurrently and reports the first differing byte,
the exact number of differing bytes (what cmp -l | wc -l counts), the number
of differing 4 KiB blocks and the merged regions that differ.

When both devices carry md superblocks only their data areas are compared,
aligned on each member's data offset, and the metadata left out is listed;
--raw compares every byte. --offset and --length work like cmp -i and -n, in
A's offsets. Devices of different sizes are compared over the common length.

A or B may be a manifest written by holmes hash: two manifests are compared
piece by piece; a manifest and a device by hashing the device with the
manifest's piece size (to check a copy made on another machine).`,
		Example: `  holmes compare disk0.img disk1.img --offset 1M --length 64M`,
		Args:    exactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.A, opts.B = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return compareRun(opts)
		},
	}
	fl := cmd.Flags()
	addJSONFlag(cmd, &opts.JSON)
	fl.BoolVar(&opts.Raw, "raw", false, "compare every byte, md metadata included")
	fl.StringVar(&opts.Offset, "offset", "0", "skip the first `N` bytes of A (like cmp -i); K/M/G/T/s suffixes")
	fl.StringVar(&opts.Length, "length", "", "compare at most `N` bytes (like cmp -n); K/M/G/T/s suffixes")
	fl.StringVar(&opts.Length, "limit", "", "old name of --length (compare at most `N` bytes)")
	fl.MarkHidden("limit")
	return cmd
}

func compareRun(opts *CompareOptions) error {
	offset, length, err := parseRange(opts.Offset, opts.Length)
	if err != nil {
		return err
	}
	devs, err := opts.OpenDevices([]string{opts.A, opts.B})
	if err != nil {
		return err
	}
	defer closeAll(devs)
	manifests := make([]*compare.Manifest, 2)
	for i, d := range devs {
		if manifests[i], err = compare.ManifestOn(d); err != nil {
			return err
		}
	}
	if manifests[0] != nil || manifests[1] != nil {
		if opts.Raw || offset != 0 || length >= 0 {
			return usagef("--raw, --offset and --length apply to devices, not to hash manifests")
		}
		return comparePieces(opts, devs, manifests)
	}
	progress := newProgress(opts.ErrOut, "compared")
	rep, err := compare.Devices(devs[0], devs[1], compare.Request{
		Offset: offset, Limit: length, Raw: opts.Raw, Locate: compare.MD,
		Options: compare.Options{Progress: progress.update},
	})
	progress.done()
	if err != nil {
		return err
	}
	return emit(opts.Out, opts.JSON, rep, func(w io.Writer) error { return printCompare(w, rep) })
}

// parseRange parses --offset and --length (length -1 when not given), as
// dump and compare name them.
func parseRange(offsetFlag, lengthFlag string) (offset, length int64, err error) {
	if offset, err = blockdev.ParseSize(offsetFlag); err != nil {
		return 0, 0, usagef("--offset: %w", err)
	}
	length = -1
	if lengthFlag != "" {
		if length, err = blockdev.ParseSize(lengthFlag); err != nil {
			return 0, 0, usagef("--length: %w", err)
		}
	}
	return offset, length, nil
}

// comparePieces compares two manifests, or a manifest and a device hashed
// with the manifest's piece size.
func comparePieces(opts *CompareOptions, devs []blockdev.Device, manifests []*compare.Manifest) error {
	for i, m := range manifests {
		if m != nil {
			continue
		}
		other := manifests[1-i]
		progress := newProgress(opts.ErrOut, "hashed")
		h, err := compare.Hash(devs[i], other.BlockSize, progress.update)
		progress.done()
		if err != nil {
			return err
		}
		manifests[i] = h
	}
	rep, err := compare.ComparePieces(manifests[0], manifests[1])
	if err != nil {
		return err
	}
	return emit(opts.Out, opts.JSON, rep, func(w io.Writer) error { return printPieces(w, rep) })
}
