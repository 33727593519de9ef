package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/compare"
	"holmes/internal/safewrite"
)

// HashOptions are holmes hash's arguments and flags.
type HashOptions struct {
	*Factory
	Devices   []string
	JSON      bool
	BlockSize string
	OutFile   string
}

// NewCmdHash builds holmes hash; runF replaces the run (tests).
func NewCmdHash(f *Factory, runF func(*HashOptions) error) *cobra.Command {
	opts := &HashOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "hash DEV...",
		Short: "Write a piecewise BLAKE3 manifest of a device, to verify a copy elsewhere",
		Long: `hash reads DEV once and prints a manifest: the device's name and size, the
piece size, and the BLAKE3 hash of every piece. Run it on both sides of a
copy (after dd | ssh, say) and give the two manifests, or one manifest and
the copy, to holmes compare: it lists the pieces that differ.

The manifest goes to stdout, or to --out FILE. An existing FILE is only
replaced if it is itself a manifest, so a mistyped --out cannot destroy a disk
image. Several DEVs are hashed one after another and their manifests printed
in turn (--json: a list); a DEV that cannot be read is named afterwards
(exit 1).`,
		Example: `  holmes hash /dev/sdb --block-size 800M --out sdb.manifest`,
		Args:    minArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Devices = args
			if runF != nil {
				return runF(opts)
			}
			return hashRun(opts)
		},
	}
	addJSONFlag(cmd, &opts.JSON)
	cmd.Flags().StringVar(&opts.BlockSize, "block-size", "64M", "piece `SIZE`; K/M/G/T/s suffixes (e.g. 800M)")
	cmd.Flags().StringVar(&opts.OutFile, "out", "", "write the manifest to `FILE` instead of stdout")
	return cmd
}

func hashRun(opts *HashOptions) error {
	blockSize, err := blockdev.ParseSize(opts.BlockSize)
	if err != nil || blockSize < compare.MinPieceSize {
		return usagef("--block-size %q: need a size of at least %d bytes", opts.BlockSize, compare.MinPieceSize)
	}
	if opts.OutFile != "" {
		if len(opts.Devices) > 1 {
			return usagef("--out holds one manifest: give one DEV, or leave --out out to print each DEV's")
		}
		if err := safewrite.Check(opts.OutFile, opts.Devices, manifestKind()); err != nil {
			return err
		}
	}
	devs, fails := opts.OpenEach(opts.Devices)
	defer closeAll(devs)
	var manifests []*compare.Manifest
	for _, d := range devs {
		if err := checkDeviceSize(opts.ErrOut, d, false); err != nil {
			fails.add(err)
			continue
		}
		progress := newProgress(opts.ErrOut, "hashed")
		m, err := compare.Hash(d, blockSize, progress.update)
		progress.done()
		if err != nil {
			fails.add(err)
			continue
		}
		manifests = append(manifests, m)
	}
	if len(manifests) == 0 {
		return fails.err()
	}
	if opts.OutFile != "" {
		return writeManifest(opts, manifests[0])
	}
	var doc any = manifests // several DEVs: a list; one: the manifest itself
	if len(opts.Devices) == 1 {
		doc = manifests[0]
	}
	err = emit(opts.Out, opts.JSON, doc, func(w io.Writer) error {
		for _, m := range manifests {
			if _, err := m.WriteTo(w); err != nil {
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

// writeManifest puts m in --out FILE and says so.
func writeManifest(opts *HashOptions, m *compare.Manifest) error {
	var text bytes.Buffer
	m.WriteTo(&text)
	if err := safewrite.WriteFile(opts.OutFile, text.Bytes(), opts.Devices, manifestKind()); err != nil {
		return err
	}
	return emit(opts.Out, opts.JSON, m, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s: %d pieces of %d bytes (%s) of %s, %d bytes\n",
			opts.OutFile, len(m.Pieces), m.BlockSize, m.Algorithm, m.Device, m.Size)
		return err
	})
}

// manifestKind: --out replaces only an earlier manifest, never an image.
func manifestKind() safewrite.Kind {
	return safewrite.Kind{Name: "a holmes hash manifest", Is: compare.IsManifest}
}
