package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"holmes/blockdev"
)

var dumpFlags struct{ offset, length string }

var dumpCmd = &cobra.Command{
	Use:   "dump DEV",
	Short: "Write the raw bytes of any DEV (an assembled array, an LV, a range) to stdout",
	Long: `dump copies the bytes of DEV to stdout, so that a virtually assembled array,
a logical volume or a partition can be piped into other tools or saved as an
image. --offset and --length (K M G T binary suffixes, s for sectors) limit it
to a range; by default the whole device is written.`,
	Args: cobra.ExactArgs(1),
	RunE: runDump,
}

func init() {
	dumpCmd.Flags().StringVar(&dumpFlags.offset, "offset", "0", "start at byte `N`")
	dumpCmd.Flags().StringVar(&dumpFlags.length, "length", "", "write `N` bytes (default: to the end)")
	rootCmd.AddCommand(dumpCmd)
}

func runDump(cmd *cobra.Command, args []string) error {
	if jsonOutput {
		return usageError{fmt.Errorf("dump writes raw bytes; --json does not apply")}
	}
	offset, err := blockdev.ParseSize(dumpFlags.offset)
	if err != nil {
		return usageError{fmt.Errorf("--offset: %w", err)}
	}
	var length int64 = -1
	if dumpFlags.length != "" {
		if length, err = blockdev.ParseSize(dumpFlags.length); err != nil {
			return usageError{fmt.Errorf("--length: %w", err)}
		}
	}
	d, err := openDevice(args[0])
	if err != nil {
		return err
	}
	defer d.Close()
	if offset > d.Size() {
		return fmt.Errorf("%s: --offset %d is past the end of the device (%d bytes)", d.Name(), offset, d.Size())
	}
	if length < 0 {
		length = d.Size() - offset
	}
	if length > d.Size()-offset {
		return fmt.Errorf("%s: %d bytes from %d run past the end of the device (%d bytes)", d.Name(), length, offset, d.Size())
	}
	w := bufio.NewWriterSize(cmd.OutOrStdout(), 1<<20)
	if _, err := io.CopyBuffer(w, io.NewSectionReader(d, offset, length), make([]byte, 1<<20)); err != nil {
		return fmt.Errorf("%s: dump: %w", d.Name(), err)
	}
	return w.Flush()
}
