package triage

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/ext"
	"holmes/lvmmeta"
	"holmes/mdraid"
	"holmes/mdsolve"
	"holmes/smart"
)

// Options say what triage may use besides the devices.
type Options struct {
	// SMART maps a DEV (as given) to a saved smartctl report (-x, -a or -j).
	SMART map[string]string
	// SMARTOutput maps each disk of a collect archive to the smartctl
	// output it kept (nil: none), used where SMART names no file; such a
	// disk is never queried live.
	SMARTOutput map[string][]byte
	// Smartctl is the program run on block devices without a saved report;
	// "" never runs it.
	Smartctl string
	// Progress, if set, is told each stage as it starts.
	Progress func(stage string)
	// Solve tunes md solve for arrays whose superblocks do not decide.
	Solve mdsolve.Options
	// Absent maps the disks given that are not present here (a collect
	// archive's, by absolute path) to whether each was a block device,
	// for the plan (plan.Options.Absent).
	Absent map[string]bool
	// Files opens image files where triage opens them itself (tracing a
	// divergent region down to a disk) as open does (with the image's
	// ddrescue mapfile); nil opens them plainly.
	Files blockdev.FileOpener
	// Maps are the ddrescue mapfiles of the images (IMAGE: MAPFILE, as
	// --map gives them), which WriteCase records in the case file.
	Maps map[string]string
}

// Triage is one run: what was opened and established. Close releases the
// devices.
type Triage struct {
	Result Result

	disks  []blockdev.Device
	units  []*unit
	arrays []*array
	vgs    []*volumeGroup
	smart  map[string]smart.Result // by disk name
	// mainFS is, per DEV, the filesystem with the most files (an old
	// filesystem under an installer's new one wins): what trace reads there
	// and what the plan checks and mounts; fsOrder is the order found.
	mainFS  map[string]*mainFilesystem
	fsOrder []string
	closers []blockdev.Device
	absent  map[string]bool
	files   blockdev.FileOpener
	maps    map[string]string
}

// unit is a partition (or a whole disk without a table): what md arrays are
// made of.
type unit struct {
	dev  blockdev.Device
	disk string // the DEV of the disk it is on
	sbs  []*mdraid.Superblock
	used bool // member of an array
}

// mainFilesystem is the filesystem triage reads on a DEV.
type mainFilesystem struct {
	files  int64
	choice int64 // the ext.Options.Superblock that opens it
	cf     casefile.Filesystem
}

// array is an md array decided by triage, assembled over the trusted members.
type array struct {
	res     *Array
	geom    mdraid.Geometry
	members []*unit // role order; nil for a missing member
	dev     blockdev.Device
	// foreign is the array the md superblocks on the members describe
	// when the data shows another (an installer's array over old data):
	// what it holds is reported, never used.
	foreign      *mdraid.Plan
	foreignUnits []*unit
}

// volumeGroup is the chosen version of a VG and its PVs.
type volumeGroup struct {
	res  *VolumeGroup
	vg   *lvmmeta.VG
	text []byte // the restore file's content
	pvs  map[string]blockdev.Device
}

// Run carries the devices through every layer. open opens a DEV as the
// command line names it. Errors are returned only when nothing could be
// read; everything else becomes a warning in the result.
func Run(ctx context.Context, specs []string, open func(string) (blockdev.Device, error), opt Options) (*Triage, error) {
	t := newTriage()
	t.absent = opt.Absent
	t.files, t.maps = opt.Files, opt.Maps
	progress := func(s string) {
		if opt.Progress != nil {
			opt.Progress(s)
		}
	}
	progress("devices")
	for _, s := range specs {
		d, err := open(s)
		if err != nil {
			t.Result.Devices = append(t.Result.Devices, Device{Name: s, Error: err.Error()})
			t.warn("%v", err)
			continue
		}
		t.disks = append(t.disks, d)
		t.addDisk(d)
	}
	if len(t.disks) == 0 {
		return t, fmt.Errorf("triage: no device could be opened: %s", strings.Join(t.Result.Warnings, "; "))
	}
	progress("SMART")
	t.scoreSMART(ctx, opt)
	progress("md arrays")
	t.findArrays(opt.Solve)
	progress("mirror halves")
	for _, a := range t.arrays {
		t.chooseHalves(a)
	}
	for _, a := range t.arrays {
		t.assemble(a)
	}
	progress("LVM")
	t.findVolumeGroups()
	progress("filesystems")
	t.checkFilesystems()
	progress("divergent regions")
	t.traceDivergence()
	progress("unreadable ranges")
	t.traceUnreadable()
	t.finish()
	return t, nil
}

func newTriage() *Triage {
	return &Triage{smart: map[string]smart.Result{}, mainFS: map[string]*mainFilesystem{},
		Result: Result{Unreadable: []Unreadable{}, LostFiles: []LostFile{}}}
}

// finish puts the arrays and volume groups decided into the result.
func (t *Triage) finish() {
	for _, a := range t.arrays {
		t.Result.Arrays = append(t.Result.Arrays, *a.res)
		t.Result.Ambiguous = t.Result.Ambiguous || a.res.Ambiguous
	}
	for _, g := range t.vgs {
		t.Result.VolumeGroups = append(t.Result.VolumeGroups, *g.res)
	}
}

// Close releases every device triage opened.
func (t *Triage) Close() error {
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i].Close()
	}
	for _, d := range t.disks {
		d.Close()
	}
	return nil
}

func (t *Triage) warn(format string, args ...any) {
	t.Result.Warnings = append(t.Result.Warnings, fmt.Sprintf(format, args...))
}

// addDisk lists a disk's partitions (or the disk itself) as units and what
// each holds.
func (t *Triage) addDisk(d blockdev.Device) {
	dev := Device{Name: d.Name(), Size: d.Size()}
	if why := lacking([]*unit{{dev: d}}); why != "" {
		var n int64
		for _, h := range blockdev.HolesOf(d) {
			n += h.Len
		}
		t.warn("%s: %d of its %d bytes are not in the evidence (%s): nothing there was read, compared or ruled out", d.Name(), n, d.Size(), why)
	}
	pt, err := blockdev.ReadPartitionTable(d)
	var parts []blockdev.Device
	if err == nil {
		for _, p := range pt.Partitions {
			if p.Extended {
				continue
			}
			pd, err := blockdev.OpenPartition(d, p.Number)
			if err != nil {
				t.warn("%s: partition %d: %v", d.Name(), p.Number, err)
				continue
			}
			t.closers = append(t.closers, pd)
			parts = append(parts, pd)
			dev.Partitions = append(dev.Partitions, Partition{Dev: pd.Name(), Start: p.Start, Size: p.Size})
		}
	}
	if len(parts) == 0 {
		parts = []blockdev.Device{d}
		dev.Partitions = append(dev.Partitions, Partition{Dev: d.Name(), Size: d.Size()})
	}
	for i, p := range parts {
		u := &unit{dev: p, disk: d.Name()}
		u.sbs, _ = mdraid.Examine(p, p.Size())
		dev.Partitions[i].Holds = holds(u)
		t.units = append(t.units, u)
	}
	t.Result.Devices = append(t.Result.Devices, dev)
}

// holds says in words what signatures sit at the start of a unit.
func holds(u *unit) []string {
	var h []string
	for _, sb := range u.sbs {
		h = append(h, fmt.Sprintf("md %s %s member, role %s, array %s", sb.Version, strings.TrimSpace(sb.Level+" "+sb.Layout), mdraid.RoleName(sb.Role), sb.ArrayUUID))
	}
	if l, err := lvmmeta.ReadLabel(u.dev, u.dev.Size()); err == nil {
		h = append(h, "LVM PV "+l.PVUUID)
	}
	if sb, err := ext.ReadSuperblock(u.dev, ext.PrimaryOffset); err == nil {
		h = append(h, fmt.Sprintf("ext filesystem %s %q", uuidString(sb.UUID), sb.VolumeName))
	}
	return h
}

func uuidString(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// unitNames lists the DEV names of units.
func unitNames(us []*unit) []string {
	var n []string
	for _, u := range us {
		if u == nil {
			n = append(n, "")
			continue
		}
		n = append(n, u.dev.Name())
	}
	return n
}

func (t *Triage) unitByName(name string) *unit {
	i := slices.IndexFunc(t.units, func(u *unit) bool { return u.dev.Name() == name })
	if i < 0 {
		return nil
	}
	return t.units[i]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
