package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// DumpOptions are holmes dump's arguments and flags.
type DumpOptions struct {
	*Factory
	Device         string
	Offset, Length string
}

// NewCmdDump builds holmes dump; runF replaces the run (tests).
func NewCmdDump(f *Factory, runF func(*DumpOptions) error) *cobra.Command {
	opts := &DumpOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "dump DEV",
		Short: "Write the raw bytes of any DEV (an assembled array, an LV, a range) to stdout",
		Long: `dump copies the bytes of DEV to stdout, so that a virtually assembled array,
a logical volume or a partition can be piped into other tools or saved as an
image. --offset and --length (K M G T binary suffixes, s for sectors) limit it
to a range; by default the whole device is written.`,
		Example: `  holmes dump md1 --case case.json --offset 1M --length 4K | xxd | head`,
		Args:    exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Device = args[0]
			if runF != nil {
				return runF(opts)
			}
			return dumpRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Offset, "offset", "0", "start at byte `N`")
	cmd.Flags().StringVar(&opts.Length, "length", "", "write `N` bytes (default: to the end)")
	return cmd
}

func dumpRun(opts *DumpOptions) error {
	offset, length, err := parseRange(opts.Offset, opts.Length)
	if err != nil {
		return err
	}
	d, err := opts.OpenDevice(opts.Device)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := checkDeviceSize(opts.ErrOut, d, false); err != nil {
		return err
	}
	if offset > d.Size() {
		return fmt.Errorf("%s: --offset %d is past the end of the device (%d bytes)", d.Name(), offset, d.Size())
	}
	if length < 0 {
		length = d.Size() - offset
	}
	if length > d.Size()-offset {
		return fmt.Errorf("%s: %d bytes from %d run past the end of the device (%d bytes)", d.Name(), length, offset, d.Size())
	}
	w := bufio.NewWriterSize(opts.Out, 1<<20)
	if _, err := io.CopyBuffer(w, io.NewSectionReader(d, offset, length), make([]byte, 1<<20)); err != nil {
		return fmt.Errorf("%s: dump: %w", d.Name(), err)
	}
	return w.Flush()
}
