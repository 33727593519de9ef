package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/compare"
)

var hashCmd = &cobra.Command{
	Use:   "hash DEV",
	Short: "Write a piecewise BLAKE3 manifest of a device, to verify a copy elsewhere",
	Long: `hash reads DEV once and prints a manifest: the device's name and size, the
piece size, and the BLAKE3 hash of every piece. Run it on both sides of a
copy (after dd | ssh, say) and give the two manifests, or one manifest and
the copy, to holmes compare: it lists the pieces that differ.

The manifest goes to stdout, or to --out FILE. An existing FILE is only
replaced if it is itself a manifest, so a mistyped --out cannot destroy a disk
image.`,
	Args: cobra.ExactArgs(1),
	RunE: runHash,
}

var hashFlags struct {
	blockSize string
	out       string
}

func init() {
	f := hashCmd.Flags()
	f.StringVar(&hashFlags.blockSize, "block-size", "64M", "piece `SIZE`; K/M/G/T/s suffixes (e.g. 800M)")
	f.StringVar(&hashFlags.out, "out", "", "write the manifest to `FILE` instead of stdout")
	rootCmd.AddCommand(hashCmd)
}

func runHash(cmd *cobra.Command, args []string) error {
	blockSize, err := blockdev.ParseSize(hashFlags.blockSize)
	if err != nil || blockSize < compare.MinPieceSize {
		return usageError{fmt.Errorf("--block-size %q: need a size of at least %d bytes", hashFlags.blockSize, compare.MinPieceSize)}
	}
	if hashFlags.out != "" {
		if err := checkManifestTarget(hashFlags.out); err != nil {
			return err
		}
	}
	dev, err := openDevice(args[0])
	if err != nil {
		return err
	}
	defer dev.Close()
	progress := newProgress(cmd, "hashed")
	m, err := compare.Hash(dev, blockSize, progress.update)
	progress.done()
	if err != nil {
		return err
	}
	if hashFlags.out == "" {
		return emit(cmd, m, func(w io.Writer) error { _, err := m.WriteTo(w); return err })
	}
	var text bytes.Buffer
	m.WriteTo(&text)
	if err := os.WriteFile(hashFlags.out, text.Bytes(), 0o644); err != nil {
		return err
	}
	return emit(cmd, m, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s: %d pieces of %d bytes (%s) of %s, %d bytes\n",
			hashFlags.out, len(m.Pieces), m.BlockSize, m.Algorithm, m.Device, m.Size)
		return err
	})
}

// checkManifestTarget refuses an --out that exists and is not a manifest.
func checkManifestTarget(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		if _, err := os.Stat(filepath.Dir(path)); err != nil {
			return fmt.Errorf("--out %s: %w", path, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	defer f.Close()
	prefix := make([]byte, 64)
	n, _ := io.ReadFull(f, prefix)
	if !compare.IsManifest(prefix[:n]) {
		return fmt.Errorf("--out %s: exists and is not a holmes hash manifest; refusing to replace it", path)
	}
	return nil
}
