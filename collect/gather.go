package collect

import (
	"errors"
	"fmt"
	"sort"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/lvmmeta"
	"holmes/mdraid"
	"holmes/triage"
)

const (
	mib = 1 << 20
	// block is the unit in which a layer's ranges are mapped down: every
	// layer holmes reads maps 4 KiB-aligned blocks whole (chunks, extents
	// and data offsets are multiples of it).
	block = 4096
	// maxMetadataArea bounds the LVM metadata area kept per PV.
	maxMetadataArea = 64 << 20
	// maxBitmap bounds the md bitmap kept per superblock.
	maxBitmap = mib
	// divergenceMargin is kept on each side of a region where mirror
	// halves differ: what tells the newer half lies around it (triage
	// reads as far).
	divergenceMargin = 64 << 10
	// maxDepth bounds partition tables inside partitions and LVs.
	maxDepth = 2
)

// gatherer finds the metadata regions of every layer and maps them down to
// the disks.
type gatherer struct {
	t   *triage.Triage
	opt Options
	// siblings maps an array member (a DEV as triage names it) to every
	// member of its array: a member's region is kept at the same member
	// offset on all of them, so that mirror copies and whole stripes are
	// in the archive and an array's geometry can be checked from it.
	siblings map[string][]string
	units    map[string]blockdev.Device // opened members, by name
	kept     map[string]*keptRegions    // by disk name
	warnings []string
}

func newGatherer(t *triage.Triage, opt Options) *gatherer {
	g := &gatherer{t: t, opt: opt, siblings: map[string][]string{}, units: map[string]blockdev.Device{},
		kept: map[string]*keptRegions{}}
	for _, d := range t.Disks() {
		g.kept[d.Name()] = &keptRegions{}
	}
	for _, a := range t.Result.Arrays {
		var ms []string
		for _, m := range a.Members {
			if m != "" {
				ms = append(ms, m)
			}
		}
		for _, m := range ms {
			g.siblings[m] = ms
		}
	}
	return g
}

func (g *gatherer) close() {
	for _, u := range g.units {
		u.Close()
	}
}

func (g *gatherer) warn(format string, args ...any) {
	g.warnings = append(g.warnings, fmt.Sprintf(format, args...))
}

// open opens a name triage established (a disk, a member, an array, an LV).
func (g *gatherer) open(name string) (blockdev.Device, error) {
	if d, ok := g.units[name]; ok {
		return d, nil
	}
	d, err := blockdev.Open(name, g.t)
	if err != nil {
		return nil, err
	}
	g.units[name] = d
	return d, nil
}

// gather walks every layer: the disks and their partitions, the arrays,
// the logical volumes (and partition tables inside them), and where mirror
// halves differ.
func (g *gatherer) gather() {
	for _, d := range g.t.Disks() {
		g.device(d, 0)
	}
	res := &g.t.Result
	for _, a := range res.Arrays {
		if d, err := g.open(a.Name); err == nil {
			g.device(d, 0)
		}
	}
	for _, vg := range res.VolumeGroups {
		for _, lv := range vg.LVs {
			name := vg.VG + "/" + lv
			d, err := g.open(name)
			if err != nil {
				g.warn("%s: %v", name, err)
				continue
			}
			g.device(d, 0)
		}
	}
	for _, a := range res.Arrays {
		var spent int64
		for _, dv := range a.Divergence {
			if spent >= g.opt.MaxDivergence {
				g.warn("%s: more than %d bytes where the halves differ: the rest is not kept", a.Name, g.opt.MaxDivergence)
				break
			}
			start, end := max(0, dv.Start-divergenceMargin), dv.End+divergenceMargin
			for _, m := range []string{dv.A, dv.B} {
				if d, err := g.open(m); err == nil {
					g.addOnly(d, start, end-start, fmt.Sprintf("where %s and %s differ", dv.A, dv.B))
				}
			}
			spent += end - start
		}
	}
}

// device keeps the metadata of one layer: its first and last MiB, its
// partition table, md superblocks and bitmaps, LVM label and metadata
// areas, ext superblocks, descriptor tables and directory tree, and those
// of its partitions.
func (g *gatherer) device(d blockdev.Device, depth int) {
	name, size := d.Name(), d.Size()
	g.add(d, 0, mib, "first MiB of "+name)
	g.add(d, size-mib, mib, "last MiB of "+name+" (md 0.90/1.0 superblocks, GPT backup, DRBD internal metadata)")
	rec := &recorder{Device: d}
	pt, err := blockdev.ReadPartitionTable(rec)
	g.flush(rec, d, "partition table of "+name)
	if err == nil && depth < maxDepth {
		for _, p := range pt.Partitions {
			if p.Extended {
				continue
			}
			if pd, err := blockdev.OpenPartition(d, p.Number); err == nil {
				g.device(pd, depth+1)
				pd.Close()
			}
		}
	}
	sbs, _ := mdraid.Examine(rec, size)
	g.flush(rec, d, "md superblock positions of "+name)
	for _, sb := range sbs {
		g.add(d, sb.Offset, block, fmt.Sprintf("md %s superblock of %s", sb.Version, name))
		if b := sb.Bitmap; b != nil {
			g.add(d, b.Offset, min(max(b.Size, block), maxBitmap), fmt.Sprintf("md bitmap of %s", name))
		}
	}
	if l, err := lvmmeta.ReadLabel(rec, size); err == nil {
		g.flush(rec, d, "LVM label of "+name)
		for _, a := range l.MetadataAreas {
			g.add(d, a.Offset, min(a.Size, maxMetadataArea), "LVM metadata area of "+name)
		}
	}
	rec.reads = nil
	g.filesystems(d)
}

// filesystems keeps, for every ext filesystem on d (one made over an older
// one too), its superblock copies and descriptor tables, and what a walk
// of its directory tree reads: what triage needs to open it, say whether
// its root reads, and count its files.
func (g *gatherer) filesystems(d blockdev.Device) {
	rec := &recorder{Device: d}
	fs, err := ext.Open(rec, d.Size(), ext.Options{})
	if err != nil {
		return // no filesystem: what the search read tells nothing
	}
	g.flush(rec, d, "ext superblocks and group descriptors of "+d.Name())
	g.filesystem(d, fs)
	for _, choice := range fs.OtherFilesystems() {
		other, err := ext.Open(rec, d.Size(), ext.Options{Superblock: choice})
		g.flush(rec, d, "ext superblocks and group descriptors of "+d.Name())
		if err == nil {
			g.filesystem(d, other)
		}
	}
}

func (g *gatherer) filesystem(d blockdev.Device, fs *ext.FS) {
	label := fmt.Sprintf("ext filesystem %s on %s", fs.Info(d.Name()).UUID, d.Name())
	sb := fs.SB
	bs := int64(sb.BlockSize())
	g.add(d, ext.PrimaryOffset, ext.SuperblockSize, "primary superblock of "+label)
	if off, blocks, ok := sb.DescriptorTable(0); ok {
		g.add(d, off, int64(blocks)*bs, "group descriptors of "+label)
	}
	for _, bo := range sb.BackupOffsets() {
		g.add(d, bo, ext.SuperblockSize, "backup superblock of "+label)
		if sb.BlocksPerGroup == 0 {
			continue
		}
		grp := uint32((bo/bs - int64(sb.FirstDataBlock)) / int64(sb.BlocksPerGroup))
		if off, blocks, ok := sb.DescriptorTable(grp); ok {
			g.add(d, off, int64(blocks)*bs, "backup group descriptors of "+label)
		}
	}
	// The walk triage makes: the root directory, then every name.
	rec := &recorder{Device: d, limit: g.opt.MaxWalk}
	walk, err := ext.Open(rec, d.Size(), ext.Options{Superblock: ext.SuperblockChoice(sb.Offset, sb.BlockSize())})
	if err == nil {
		rootOK := false
		if root, err := walk.Inode(ext.RootIno); err == nil {
			_, err = walk.ReadDir(root)
			rootOK = err == nil
		}
		walk.FindAll("", "*", !rootOK)
		// What trace and triage's divergent regions read to say which file
		// a block holds: the used part of the inode tables, every file's
		// block map (indirect blocks, extent tree nodes) and the bitmaps.
		walk.Explain([]ext.Region{{Offset: 0, Length: sb.Size()}})
	}
	if rec.over {
		g.warn("%s: its directory tree is larger than %d bytes: the rest is not kept", label, g.opt.MaxWalk)
	}
	g.flush(rec, d, "directory tree of "+label+" (inode tables in use, directories)")
}

// flush keeps what rec recorded as read from d, and forgets it.
func (g *gatherer) flush(rec *recorder, d blockdev.Device, what string) {
	for _, e := range rec.reads {
		g.add(d, e.Off, e.Len, what)
	}
	rec.reads = nil
}

// add keeps bytes [off, off+n) of layer d: mapped down to the disks, on
// every member of an array at the same member offset.
func (g *gatherer) add(d blockdev.Device, off, n int64, what string) {
	g.mapDown(d, off, n, what, true)
}

// addOnly keeps bytes of d on the disk under d alone (no siblings).
func (g *gatherer) addOnly(d blockdev.Device, off, n int64, what string) {
	g.mapDown(d, off, n, what, false)
}

func (g *gatherer) mapDown(d blockdev.Device, off, n int64, what string, siblings bool) {
	start, end := max(off, 0), min(off+n, d.Size())
	for b := start; b < end; {
		next := min((b/block+1)*block, end)
		g.place(d, b, next-b, what, siblings)
		b = next
	}
}

// place keeps n bytes at off of d, which lie within one block.
func (g *gatherer) place(d blockdev.Device, off, n int64, what string, siblings bool) {
	locs := blockdev.Trace(d, off)
	if siblings {
		for _, l := range locs {
			ms, ok := g.siblings[l.Dev]
			if !ok {
				continue
			}
			for _, m := range ms {
				md, err := g.open(m)
				if err != nil {
					continue
				}
				bottom := blockdev.Trace(md, l.Off)
				g.keep(bottom[len(bottom)-1], n, what)
			}
			return
		}
	}
	g.keep(locs[len(locs)-1], n, what)
}

// keep records n bytes at l, a location on a disk.
func (g *gatherer) keep(l blockdev.Location, n int64, what string) {
	k := g.kept[l.Dev]
	if k == nil {
		return // not on a disk given (a layer that maps nowhere)
	}
	if last := len(k.pieces) - 1; last >= 0 && k.pieces[last].what == what && k.pieces[last].End() == l.Off {
		k.pieces[last].Len += n
		return
	}
	k.pieces = append(k.pieces, piece{blockdev.Extent{Off: l.Off, Len: n}, what})
}

// limit bounds what is kept of each disk to MaxPerDisk bytes: the pieces
// found first (the disk's own metadata, then the layers above, then the
// directory trees and divergent regions) are kept whole, the rest left out.
func (g *gatherer) limit(disks []blockdev.Device) {
	for _, d := range disks {
		k := g.kept[d.Name()]
		kept := func(n int) int64 { return total(normalize(k.pieces[:n], d.Size())) }
		if kept(len(k.pieces)) <= g.opt.MaxPerDisk {
			continue
		}
		n := sort.Search(len(k.pieces), func(n int) bool { return kept(n+1) > g.opt.MaxPerDisk })
		g.warn("%s: more than %d bytes of metadata: left out from %s on", d.Name(), g.opt.MaxPerDisk, k.pieces[n].what)
		k.pieces = k.pieces[:n]
	}
}

func total(es []blockdev.Extent) int64 {
	var n int64
	for _, e := range es {
		n += e.Len
	}
	return n
}

// recorder notes the byte ranges read through it. Past limit bytes (0: no
// limit) it fails every read, which ends the walk reading through it.
type recorder struct {
	blockdev.Device
	reads []blockdev.Extent
	limit int64
	total int64
	over  bool
}

var errOverBudget = errors.New("collect: more than the bytes kept per filesystem")

func (r *recorder) ReadAt(p []byte, off int64) (int, error) {
	if r.limit > 0 && r.total+int64(len(p)) > r.limit {
		r.over = true
		return 0, errOverBudget
	}
	n, err := r.Device.ReadAt(p, off)
	if n > 0 {
		r.total += int64(n)
		if k := len(r.reads); k > 0 && r.reads[k-1].End() == off {
			r.reads[k-1].Len += int64(n)
		} else {
			r.reads = append(r.reads, blockdev.Extent{Off: off, Len: int64(n)})
		}
	}
	return n, err
}
