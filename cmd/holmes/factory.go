package main

import (
	"fmt"
	"io"
	"maps"
	"strings"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/collect"
	"holmes/ddmap"
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
	// Maps are the --map IMAGE=MAPFILE flags: ddrescue mapfiles whose
	// unfinished bytes read as errors wherever the image is read.
	Maps []string

	files     *ddmap.Set     // the mapfiles of --map and the case file, once read
	caseFile  *casefile.Case // the --case file, once read
	mapImages []string       // the IMAGE of each --map, to report those never read
	// archives are the collect archives met among the DEVs, by path: their
	// disks' names are DEVs (docs/collect.md).
	archives map[string]*collect.Archive
}

func newFactory(stdout, stderr io.Writer) *Factory {
	return &Factory{Out: stdout, ErrOut: stderr, Smartctl: "smartctl"}
}

// OpenDevice opens a DEV argument read-only, resolving case-file names when
// --case was given, giving each image its ddrescue mapfile (--map, the
// case file's maps), and the disks of collect archives: an archive holding
// one disk is that disk; ARCHIVE/NAME is disk NAME of the archive; and once
// an archive was given (Expand), its disks' names are DEVs.
func (f *Factory) OpenDevice(spec string) (blockdev.Device, error) {
	r, err := f.Resolver()
	if err != nil {
		return nil, err
	}
	if collect.IsArchive(spec) {
		a, err := f.archive(spec)
		if err != nil {
			return nil, err
		}
		if names := a.Names(); len(names) != 1 {
			return nil, fmt.Errorf("%s: a collect archive of %d disks (%s): name one as %s/NAME", spec, len(names), strings.Join(names, ", "), spec)
		}
		return a.Open(a.Names()[0])
	}
	if len(f.archives) == 0 && !archivePrefix(spec) {
		return blockdev.Open(spec, r)
	}
	return blockdev.Open(spec, &archiveResolver{f: f, next: r})
}

// resolver opens the DEVs of a run: names, and image files (blockdev.FileOpener).
type resolver interface {
	blockdev.Resolver
	blockdev.FileOpener
}

// Resolver is what opens DEVs for this run: the case file (with the
// --map mapfiles added to its own) when --case was given, else the --map
// mapfiles alone. It is also a blockdev.FileOpener: every image file is
// opened through it, so its mapfile applies however the image is reached.
func (f *Factory) Resolver() (resolver, error) {
	if err := f.readMaps(); err != nil {
		return nil, err
	}
	if f.CaseFile == "" {
		return f.files, nil
	}
	return f.LoadCase()
}

// LoadCase reads the --case file once, with the --map mapfiles added to
// those it names.
func (f *Factory) LoadCase() (*casefile.Case, error) {
	if f.caseFile != nil {
		return f.caseFile, nil
	}
	if err := f.readMaps(); err != nil {
		return nil, err
	}
	c, err := casefile.Load(f.CaseFile)
	if err != nil {
		return nil, err
	}
	if err := c.UseMaps(f.files); err != nil {
		return nil, err
	}
	f.caseFile = c
	return c, nil
}

// readMaps reads the --map mapfiles once (docs/cli.md: IMAGE=MAPFILE).
func (f *Factory) readMaps() error {
	if f.files != nil {
		return nil
	}
	set := &ddmap.Set{}
	for _, m := range f.Maps {
		i := strings.LastIndex(m, "=")
		if i <= 0 || i == len(m)-1 {
			return usagef("--map wants IMAGE=MAPFILE, got %q", m)
		}
		if err := set.Add(m[:i], m[i+1:]); err != nil {
			return err
		}
		f.mapImages = append(f.mapImages, m)
	}
	f.files = set
	return nil
}

// mapPairs are the --map flags as IMAGE: MAPFILE (after readMaps checked
// them), for a case file to record.
func (f *Factory) mapPairs() map[string]string {
	pairs := map[string]string{}
	for _, m := range f.Maps {
		if i := strings.LastIndex(m, "="); i > 0 {
			pairs[m[:i]] = m[i+1:]
		}
	}
	return pairs
}

// warnUnreadMaps says which --map images the command never read: a map
// given for a DEV not read is most likely a mistyped path.
func (f *Factory) warnUnreadMaps() {
	if f.files == nil {
		return
	}
	for _, m := range f.mapImages {
		i := strings.LastIndex(m, "=")
		if !f.files.Opened(m[:i]) {
			fmt.Fprintf(f.ErrOut, "holmes: warning: --map %s: the command never read %s\n", m, m[:i])
		}
	}
}

// archivePrefix: spec starts with ARCHIVE/.
func archivePrefix(spec string) bool {
	for i := range spec {
		if spec[i] == '/' && i > 0 && collect.IsArchive(spec[:i]) {
			return true
		}
	}
	return false
}

// Expand replaces every DEV that is a collect archive by the disks it
// holds, under their original names, for the commands that take many.
func (f *Factory) Expand(specs []string) ([]string, error) {
	var out []string
	for _, s := range specs {
		if !collect.IsArchive(s) {
			out = append(out, s)
			continue
		}
		a, err := f.archive(s)
		if err != nil {
			return nil, err
		}
		out = append(out, a.Names()...)
	}
	return out, nil
}

// absentDisks maps the disks of the archives given that are not present
// here to whether each was a block device (for triage's plan).
func (f *Factory) absentDisks() map[string]bool {
	m := map[string]bool{}
	for _, a := range f.archives {
		maps.Copy(m, a.Absent())
	}
	return m
}

// archivedSMART is the smartctl output the archives given keep, by disk
// (nil where none was kept).
func (f *Factory) archivedSMART() map[string][]byte {
	m := map[string][]byte{}
	for _, a := range f.archives {
		for _, name := range a.Names() {
			out, _ := a.SMART(name)
			m[name] = out
		}
	}
	return m
}

// archive opens (once) and verifies the collect archive at path.
func (f *Factory) archive(path string) (*collect.Archive, error) {
	if a, ok := f.archives[path]; ok {
		return a, nil
	}
	a, err := collect.Open(path)
	if err != nil {
		return nil, err
	}
	if f.archives == nil {
		f.archives = map[string]*collect.Archive{}
	}
	f.archives[path] = a
	return a, nil
}

// archiveResolver resolves the disks of the archives given, before files
// of the same name (the originals may be here, holding other bytes now),
// and ARCHIVE/NAME; other names go to next (the case file).
type archiveResolver struct {
	f    *Factory
	next resolver
	// exact claims only whole disk names, as the base under a partition or
	// range suffix is resolved.
	exact bool
}

// Claims a disk of an archive, and (so that a file of the name ARCHIVE/NAME
// is not tried first, which fails) ARCHIVE/NAME with a partition or range.
func (r *archiveResolver) Claims(name string) bool {
	if a, _ := r.find(name); a != nil {
		return true
	}
	if r.exact {
		return false
	}
	base, _ := blockdev.SplitSpec(name, func(p string) bool { a, _ := r.find(p); return a != nil })
	a, _ := r.find(base)
	return a != nil
}

func (r *archiveResolver) Resolve(name string) (blockdev.Device, error) {
	if a, disk := r.find(name); a != nil {
		return a.Open(disk)
	}
	if !r.exact && r.Claims(name) {
		return blockdev.Open(name, &archiveResolver{f: r.f, next: r.next, exact: true})
	}
	return r.next.Resolve(name)
}

// OpenFile opens image files as the run's resolver does (with their
// ddrescue mapfiles).
func (r *archiveResolver) OpenFile(path string) (blockdev.Device, error) {
	return r.next.OpenFile(path)
}

// find says which archive holds disk name, given as the disk's name or as
// ARCHIVE/NAME.
func (r *archiveResolver) find(name string) (*collect.Archive, string) {
	for _, a := range r.f.archives {
		if a.Has(name) {
			return a, name
		}
	}
	for i := range name {
		if name[i] != '/' || i == 0 || !collect.IsArchive(name[:i]) {
			continue
		}
		a, err := r.f.archive(name[:i])
		if err != nil {
			continue
		}
		// ARCHIVE//dev/sda and ARCHIVE/dev/sda both name /dev/sda.
		for _, disk := range []string{name[i+1:], name[i:]} {
			if a.Has(disk) {
				return a, disk
			}
		}
	}
	return nil, ""
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
	specs, err := f.Expand(specs)
	if err != nil {
		fails.add(err)
		return nil, fails
	}
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
