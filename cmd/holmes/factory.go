package main

import (
	"fmt"
	"io"
	"strings"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/render"
)

// Factory holds what every command needs from outside: where output goes,
// the global --case flag, and the programs holmes may run. One is made per
// run; commands take it in their constructor (the gh pattern).
type Factory struct {
	Out, ErrOut io.Writer
	// CaseFile is the --case FILE whose names (md1, vg/lv) are DEVs.
	CaseFile string
	// Smartctl is the program queried for live SMART data.
	Smartctl string
}

func newFactory(stdout, stderr io.Writer) *Factory {
	return &Factory{Out: stdout, ErrOut: stderr, Smartctl: "smartctl"}
}

// OpenDevice opens a DEV argument read-only, resolving case-file names when
// --case was given.
func (f *Factory) OpenDevice(spec string) (blockdev.Device, error) {
	var r blockdev.Resolver
	if f.CaseFile != "" {
		c, err := casefile.Load(f.CaseFile)
		if err != nil {
			return nil, err
		}
		r = c
	}
	return blockdev.Open(spec, r)
}

// OpenDevices opens every DEV argument; on error, those already opened are
// closed. For commands that need all of them (compare, md solve).
func (f *Factory) OpenDevices(specs []string) ([]blockdev.Device, error) {
	devs := make([]blockdev.Device, 0, len(specs))
	for _, s := range specs {
		d, err := f.OpenDevice(s)
		if err != nil {
			closeAll(devs)
			return nil, err
		}
		devs = append(devs, d)
	}
	return devs, nil
}

// OpenEach opens every DEV it can, for commands that report on each device
// alone (md examine, scan, lvm scan): like mdadm --examine, one missing file
// must not hide the others. The failures are reported after the rest.
func (f *Factory) OpenEach(specs []string) ([]blockdev.Device, *failures) {
	var devs []blockdev.Device
	fails := &failures{}
	for _, s := range specs {
		d, err := f.OpenDevice(s)
		if err != nil {
			fails.add(err)
			continue
		}
		devs = append(devs, d)
	}
	return devs, fails
}

func closeAll(devs []blockdev.Device) {
	for _, d := range devs {
		if d != nil {
			d.Close()
		}
	}
}

// failures collects the per-device errors of a multi-device command; err
// is nil when there were none, else one line naming them all (exit 1).
type failures struct{ msgs []string }

func (fs *failures) add(err error) { fs.msgs = append(fs.msgs, err.Error()) }

func (fs *failures) err() error {
	if len(fs.msgs) == 0 {
		return nil
	}
	return failed(strings.Join(fs.msgs, "; "))
}

type failed string

func (f failed) Error() string { return string(f) }

// emit prints v as JSON with asJSON, otherwise calls human to print for people.
func emit(w io.Writer, asJSON bool, v any, human func(w io.Writer) error) error {
	if asJSON {
		return render.JSON(w, v)
	}
	return human(w)
}

// sectorSize is the smallest device that can hold any structure holmes reads.
const sectorSize = 512

// checkDeviceSize refuses an empty device: a 0-byte DEV is a failed copy or
// a wrong name, never evidence to report on. A device smaller than a sector
// is refused too when mustHoldSector, else reported on stderr and accepted.
func checkDeviceSize(stderr io.Writer, d blockdev.Device, mustHoldSector bool) error {
	switch {
	case d.Size() == 0:
		return fmt.Errorf("%s: empty (0 bytes)", d.Name())
	case d.Size() < sectorSize && mustHoldSector:
		return fmt.Errorf("%s: too small (%d bytes, less than one %d-byte sector)", d.Name(), d.Size(), sectorSize)
	case d.Size() < sectorSize:
		fmt.Fprintf(stderr, "holmes: warning: %s is only %d bytes, less than one %d-byte sector\n", d.Name(), d.Size(), sectorSize)
	}
	return nil
}
