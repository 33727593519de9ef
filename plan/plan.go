// Package plan turns a case file into the shell commands that rebuild its
// stack on a rescue system without writing to the evidence: every disk or
// image is attached read-only, every member gets a copy-on-write overlay
// (a sparse file behind a device-mapper snapshot) before anything writes,
// and the arrays, volume groups and filesystems are re-created and checked
// on the overlays. Each step says what it writes and how to undo it
// (docs/plan.md).
package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/internal/shell"
	"holmes/lvmmeta"
)

// Step is one shell line of the plan.
type Step struct {
	Shell string `json:"shell"`
	// Writes says what running it writes: "nothing", or what on the
	// overlays (never a disk or image the case reads).
	Writes string `json:"writes"`
	// Undo is the command that takes the step back; "" when dropping the
	// overlays (the last undo steps) discards what it did.
	Undo string `json:"undo"`
}

// Plan is the steps in the order they run, and what the operator must know
// before running them.
type Plan struct {
	Steps    []Step   `json:"steps"`
	Warnings []string `json:"warnings"`
}

// Options are where the plan puts what it makes on the rescue system.
type Options struct {
	OverlayDir string // the sparse copy-on-write files (default /tmp/holmes-overlays)
	MountDir   string // filesystems are mounted under it (default /mnt/holmes)
	Prefix     string // of the device-mapper names of the overlays (default "holmes-")
	// Absent says, of disks and images not present here whose kind is
	// known (those a collect archive stands for), whether each was a block
	// device: the plan is for the system where they are. Keys are
	// absolute paths.
	Absent map[string]bool
}

// FromCase makes the plan that rebuilds case c: every array, volume group
// and filesystem it records, on overlays over the devices it names.
func FromCase(c *casefile.Case, opt Options) (*Plan, error) {
	if opt.OverlayDir == "" {
		opt.OverlayDir = "/tmp/holmes-overlays"
	}
	if opt.MountDir == "" {
		opt.MountDir = "/mnt/holmes"
	}
	if opt.Prefix == "" {
		opt.Prefix = "holmes-"
	}
	b := &builder{c: c, opt: opt, p: &Plan{Steps: []Step{}, Warnings: []string{}},
		vgs: map[string]*vgEntry{}, done: map[string]string{}, busy: map[string]bool{},
		leaves: map[string]*leaf{}, loops: map[string]string{}, vars: map[string]int{}, writable: map[string]bool{}}
	if err := b.loadVGs(); err != nil {
		return nil, err
	}
	if err := b.collectLeaves(); err != nil {
		return nil, err
	}
	if len(c.Arrays) > 0 {
		b.warn("before you run it: stop every array the rescue system assembled from these disks (cat /proc/mdstat; mdadm --stop /dev/mdN), since it holds the members, and where udev runs, put AUTO -all in mdadm.conf, so that the loop devices and overlays the plan makes are not assembled behind its back")
	}
	b.step("mkdir -p "+shell.Quote(opt.OverlayDir), "the directory "+opt.OverlayDir, "rmdir "+shell.Quote(opt.OverlayDir))
	for _, l := range b.order {
		b.overlay(l)
	}
	for i := range c.Arrays {
		if _, err := b.array(&c.Arrays[i]); err != nil {
			return nil, err
		}
	}
	for _, name := range b.vgOrder {
		if err := b.volumeGroup(b.vgs[name]); err != nil {
			return nil, err
		}
	}
	if len(c.Filesystems) == 0 {
		b.warn("no filesystems are listed, so none is checked or mounted: check each with e2fsck -f -n DEV and mount it with mount -o ro DEV DIR")
	}
	for _, fs := range c.Filesystems {
		if err := b.filesystem(fs); err != nil {
			return nil, err
		}
	}
	return b.p, nil
}

// Lines is the plan as it is printed and run: warnings as comments, each
// step after a comment saying what it writes and how to undo it, and at the
// end, commented out, every undo newest first.
func (p *Plan) Lines() []string {
	var out []string
	for _, w := range p.Warnings {
		out = append(out, "# warning: "+w)
	}
	for _, s := range p.Steps {
		c := "# writes: " + s.Writes
		if s.Undo != "" {
			c += "; undo: " + s.Undo
		}
		out = append(out, c, s.Shell)
	}
	out = append(out, "# to take it all back, newest first (the disks and images were never written):")
	for i := len(p.Steps) - 1; i >= 0; i-- {
		if u := p.Steps[i].Undo; u != "" {
			out = append(out, "#   "+u)
		}
	}
	return out
}

type builder struct {
	c   *casefile.Case
	opt Options
	p   *Plan

	vgs     map[string]*vgEntry // by VG name
	vgOrder []string
	done    map[string]string // array or VG name -> its device (VG: "")
	busy    map[string]bool   // names being built, for loops in the case

	leaves map[string]*leaf // by the DEV's absolute form
	order  []*leaf
	loops  map[string]string // image path -> the shell variable of its read-only loop device
	vars   map[string]int    // shell variables named so far, by kind

	writable map[string]bool // arrays switched to read-write
}

type vgEntry struct {
	g    *casefile.VolumeGroup
	vg   *lvmmeta.VG
	file string // as the case file names it, made relative to where holmes runs
}

// leaf is a DEV that is not a layer of the case: a disk, an image, a
// partition or byte range of one. The plan reads it only through an
// overlay.
type leaf struct {
	dev    string // as the case names it
	path   string // absolute
	block  bool   // a block device (else an image file)
	part   int    // 1-based partition, 0 for none
	start  int64  // byte range; length -1 for "to the end"
	length int64
	ranged bool
	name   string // device-mapper name of the overlay
}

var suffixForm = regexp.MustCompile(`^(?::p([0-9]+))?(?:@([^+]+)(?:\+(.+))?)?$`)

// split takes a DEV of the case apart: the base (a path relative to the
// case file, or a name of the case) and its partition and range suffix.
func (b *builder) split(dev string) (base string, part int, start, length int64, ranged bool, err error) {
	base, suffix := blockdev.SplitSpec(dev, func(p string) bool { return exists(b.c.Path(p)) })
	m := suffixForm.FindStringSubmatch(suffix)
	if m == nil {
		return "", 0, 0, 0, false, fmt.Errorf("plan: %s: only one partition (:pN) and one byte range (@START+LEN) can be planned", dev)
	}
	length = -1
	if m[1] != "" {
		if part, err = strconv.Atoi(m[1]); err != nil || part < 1 {
			return "", 0, 0, 0, false, fmt.Errorf("plan: %s: bad partition number", dev)
		}
	}
	if m[2] != "" {
		ranged = true
		if start, err = blockdev.ParseSize(m[2]); err != nil {
			return "", 0, 0, 0, false, fmt.Errorf("plan: %s: %w", dev, err)
		}
		if m[3] != "" {
			if length, err = blockdev.ParseSize(m[3]); err != nil {
				return "", 0, 0, 0, false, fmt.Errorf("plan: %s: %w", dev, err)
			}
		}
	}
	return base, part, start, length, ranged, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// absent says whether path, not present here, was a block device, when
// Options.Absent knows it; nil otherwise.
func (b *builder) absent(path string) *bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	if block, ok := b.opt.Absent[abs]; ok {
		return &block
	}
	return nil
}

// isLayer says whether base names an array or an LV of the case.
func (b *builder) isLayer(base string) bool {
	if b.findArray(base) != nil {
		return true
	}
	vg, _, ok := strings.Cut(base, "/")
	return ok && b.vgs[vg] != nil && !exists(b.c.Path(base))
}

func (b *builder) findArray(name string) *casefile.Array {
	for i := range b.c.Arrays {
		if b.c.Arrays[i].Name == name {
			return &b.c.Arrays[i]
		}
	}
	return nil
}

func (b *builder) loadVGs() error {
	for i := range b.c.VolumeGroups {
		g := &b.c.VolumeGroups[i]
		file := b.c.Path(g.Metadata)
		vg, err := lvmmeta.ReadVGFile(file)
		if err != nil {
			return fmt.Errorf("plan: volume group metadata: %w", err)
		}
		if b.vgs[vg.Name] != nil {
			return fmt.Errorf("plan: the case file names two volume groups %s", vg.Name)
		}
		b.vgs[vg.Name] = &vgEntry{g: g, vg: vg, file: file}
		b.vgOrder = append(b.vgOrder, vg.Name)
	}
	return nil
}

// collectLeaves finds every disk, image, partition and range the case
// reads, so that all overlays exist before the first step that writes.
func (b *builder) collectLeaves() error {
	var devs []string
	for _, a := range b.c.Arrays {
		for _, m := range a.Members {
			if m != nil && *m != "" {
				devs = append(devs, *m)
			}
		}
	}
	for _, name := range b.vgOrder {
		e := b.vgs[name]
		for _, pv := range e.vg.PVs {
			devs = append(devs, b.pvDev(e, pv))
		}
	}
	for _, fs := range b.c.Filesystems {
		devs = append(devs, fs.Dev)
	}
	for _, dev := range devs {
		base, part, start, length, ranged, err := b.split(dev)
		if err != nil {
			return err
		}
		if b.isLayer(base) {
			continue
		}
		path := b.c.Path(base)
		key := path + dev[len(base):]
		if b.leaves[key] != nil {
			continue
		}
		l := &leaf{dev: dev, path: path, part: part, start: start, length: length, ranged: ranged}
		st, err := os.Stat(path)
		switch {
		case err == nil:
			l.block = st.Mode()&os.ModeDevice != 0
		case strings.HasPrefix(path, "/dev/"):
			l.block = true // a disk of the rescue system, not present here
		case b.absent(path) != nil:
			l.block = *b.absent(path)
		default:
			return fmt.Errorf("plan: %s: %w", dev, err)
		}
		l.name = b.overlayName(l)
		b.leaves[key] = l
		b.order = append(b.order, l)
	}
	return nil
}

// pvDev is the DEV holding a PV: the case's mapping, or the metadata's
// device hint.
func (b *builder) pvDev(e *vgEntry, pv *lvmmeta.PV) string {
	if d, ok := e.g.PVs[pv.Name]; ok {
		return d
	}
	return pv.Device
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_+.-]+`)

// overlayName names a leaf's overlay after its file ("d0.img:p2" -> d0p2),
// unique within the plan.
func (b *builder) overlayName(l *leaf) string {
	stem := filepath.Base(l.path)
	if i := strings.Index(stem, "."); i > 0 {
		stem = stem[:i]
	}
	if l.part > 0 {
		stem += "p" + strconv.Itoa(l.part)
	}
	if l.ranged {
		stem += "-" + strconv.FormatInt(l.start, 10)
		if l.length >= 0 {
			stem += "+" + strconv.FormatInt(l.length, 10)
		}
	}
	stem = unsafeName.ReplaceAllString(stem, "-")
	name := b.opt.Prefix + stem
	for n := 2; b.nameTaken(name); n++ {
		name = fmt.Sprintf("%s%s-%d", b.opt.Prefix, stem, n)
	}
	return name
}

func (b *builder) nameTaken(name string) bool {
	for _, l := range b.order {
		if l.name == name {
			return true
		}
	}
	return false
}

func (b *builder) step(shell, writes, undo string) {
	b.p.Steps = append(b.p.Steps, Step{Shell: shell, Writes: writes, Undo: undo})
}

func (b *builder) warn(format string, args ...any) {
	b.p.Warnings = append(b.p.Warnings, fmt.Sprintf(format, args...))
}
