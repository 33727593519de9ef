package ext

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Region is a byte range of the filesystem's device (from the start of
// the filesystem).
type Region struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// Use is one thing the filesystem keeps in part of a region: a metadata
// structure, a piece of a file, free space.
type Use struct {
	Offset int64 `json:"offset"` // the bytes of the region it covers
	Length int64 `json:"length"`
	// What: "superblock (group N)", "group descriptors (group N)",
	// "reserved GDT blocks (group N)", "block bitmap of group N", "inode
	// bitmap of group N", "inode table of group N", "journal", "file",
	// "directory", "symlink", "block map of file" (and of directory,
	// journal, ...), "extended attributes", "free space", "in use, owner
	// not found", "boot block", "past the filesystem's end".
	What string `json:"what"`
	// Inode is the inode whose data or map this is; FirstInode and
	// LastInode the inodes an inode table piece holds.
	Inode      uint32 `json:"inode,omitempty"`
	FirstInode uint32 `json:"first_inode,omitempty"`
	LastInode  uint32 `json:"last_inode,omitempty"`
	// Path names the file or directory from its directory entries; a
	// directory whose name is lost appears as #INODE, and so does a file
	// no readable entry names.
	Path string `json:"path,omitempty"`
	// FileOffset is where the piece lies in the file (data uses only).
	FileOffset int64 `json:"file_offset"`
}

// maxUsesPerRegion bounds an answer: a region the size of the whole
// filesystem would otherwise list every file.
const maxUsesPerRegion = 4096

// Explain says what the filesystem keeps in each region, in one pass over
// the inode tables for all of them: the fixed metadata of every group the
// regions reach, the data and block maps of every in-use inode, and, for
// what nothing claims, the block bitmap's word (free or in use). Paths
// come from the directory entries read in the same scan. Memory follows
// the filesystem (the names of its directories) and the answer.
func (fs *FS) Explain(regions []Region) ([][]Use, error) {
	x := &explainer{fs: fs, out: make([][]Use, len(regions)), claimed: make([][][2]int64, len(regions))}
	for i, r := range regions {
		if r.Offset < 0 || r.Length < 0 || r.Length > 1<<62-r.Offset {
			return nil, fmt.Errorf("ext: region %d+%d is not a byte range", r.Offset, r.Length)
		}
		if r.Length > 0 {
			x.spans = append(x.spans, span{r.Offset, r.Offset + r.Length, i})
		}
	}
	slices.SortFunc(x.spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	x.maxEnd = make([]int64, len(x.spans))
	for i, s := range x.spans {
		x.maxEnd[i] = s.end
		if i > 0 {
			x.maxEnd[i] = max(s.end, x.maxEnd[i-1])
		}
	}
	x.layout()
	x.tables()
	wanted := map[uint32]bool{}
	ns, err := fs.scanInodes(func(in *Inode) {
		if x.inode(in) {
			wanted[in.Num] = true
		}
	}, func() map[uint32]bool { return wanted })
	if err != nil {
		return nil, err
	}
	x.journalFromBackup()
	x.name(ns)
	x.unclaimed(regions)
	for i := range x.out {
		slices.SortStableFunc(x.out[i], func(a, b Use) int { return cmp.Compare(a.Offset, b.Offset) })
		if n := len(x.out[i]); n > maxUsesPerRegion {
			x.out[i] = append(x.out[i][:maxUsesPerRegion], Use{What: fmt.Sprintf("%d more not listed", n-maxUsesPerRegion)})
		}
	}
	return x.out, nil
}

// span is a region as bytes [start, end), with its index.
type span struct {
	start, end int64
	region     int
}

type explainer struct {
	fs      *FS
	spans   []span  // sorted by start
	maxEnd  []int64 // the largest end among spans[:i+1]
	out     [][]Use
	claimed [][][2]int64 // per region, the byte ranges some use covers
	journal bool         // the journal inode was met in the scan
}

// each calls fn for every region overlapping device bytes [start, end),
// with the overlap.
func (x *explainer) each(start, end int64, fn func(region int, from, to int64)) {
	// Spans starting before end; walk back while some may still reach start.
	i := sort.Search(len(x.spans), func(i int) bool { return x.spans[i].start >= end })
	for i--; i >= 0 && x.maxEnd[i] > start; i-- {
		if s := x.spans[i]; s.end > start {
			fn(s.region, max(start, s.start), min(end, s.end))
		}
	}
}

// add records use u for the bytes [start, end) of the device (one block
// range): one Use per region it overlaps.
func (x *explainer) add(start, end int64, u Use) bool {
	hit := false
	x.each(start, end, func(r int, from, to int64) {
		hit = true
		v := u
		v.Offset, v.Length = from, to-from
		if v.FirstInode != 0 {
			isz := int64(x.fs.SB.InodeSize)
			v.FirstInode = u.FirstInode + uint32((from-start)/isz)
			v.LastInode = u.FirstInode + uint32((to-1-start)/isz)
		}
		if u.Inode != 0 && isData(u.What) {
			v.FileOffset = u.FileOffset + from - start
		}
		x.out[r] = append(x.out[r], v)
		x.claimed[r] = append(x.claimed[r], [2]int64{from, to})
	})
	return hit
}

func isData(what string) bool {
	switch what {
	case "block map of resize inode", "extended attributes":
		return false
	}
	return !strings.HasPrefix(what, "block map of ")
}

// blocks is the byte range of n blocks from block b.
func (x *explainer) blocks(b, n uint64) (int64, int64) {
	return int64(b) * x.fs.bs, int64(b+n) * x.fs.bs
}

// layout adds the structures at fixed places in the groups the regions
// reach: superblock copies, descriptor tables and their reserved blocks.
func (x *explainer) layout() {
	sb, fs := x.fs.SB, x.fs
	groups := uint64(len(fs.groups))
	perBlock := uint64(fs.bs) / uint64(sb.GroupDescSize())
	tableBlocks := (groups + perBlock - 1) / perBlock
	metaBG := sb.FeatureIncompat&incompatMetaBG != 0
	if metaBG {
		tableBlocks = min(tableBlocks, uint64(sb.FirstMetaBG))
	}
	// The groups the regions reach, each once: merged ranges of group numbers.
	var reach [][2]int64
	for _, s := range x.spans {
		first := max(s.start/fs.bs, int64(sb.FirstDataBlock)) - int64(sb.FirstDataBlock)
		last := (s.end-1)/fs.bs - int64(sb.FirstDataBlock)
		if last >= 0 {
			reach = append(reach, [2]int64{first / int64(sb.BlocksPerGroup), min(last/int64(sb.BlocksPerGroup), int64(groups)-1) + 1})
		}
	}
	for _, r := range mergeRanges(reach) {
		for g := r[0]; g < r[1]; g++ {
			x.groupLayout(uint32(g), tableBlocks, perBlock, metaBG)
		}
	}
	if sb.FirstDataBlock > 0 {
		x.add(0, int64(sb.FirstDataBlock)*fs.bs, Use{What: "boot block"})
	}
}

// groupLayout adds group g's superblock copy, descriptor blocks and
// reserved GDT blocks.
func (x *explainer) groupLayout(g uint32, tableBlocks, perBlock uint64, metaBG bool) {
	sb := x.fs.SB
	key := "group " + strconv.FormatUint(uint64(g), 10)
	add := func(b, n uint64, what string) {
		start, end := x.blocks(b, n)
		x.add(start, end, Use{What: what})
	}
	b := sb.groupStart(g)
	if sb.groupHasSuper(g) {
		sbBlock := sb.superBlockOf(g)
		if g == 0 && x.fs.bs > 1024 {
			// The primary shares block 0 with the boot sector.
			add(0, 1, "superblock ("+key+")")
		} else {
			add(sbBlock, 1, "superblock ("+key+")")
		}
		b = sbBlock + 1
		add(b, tableBlocks, "group descriptors ("+key+")")
		b += tableBlocks
		if !metaBG && sb.ReservedGDTBlocks > 0 {
			add(b, uint64(sb.ReservedGDTBlocks), "reserved GDT blocks ("+key+")")
		}
	}
	if metaBG {
		if i := uint64(g) / perBlock; i >= uint64(sb.FirstMetaBG) {
			if k := uint64(g) % perBlock; k == 0 || k == 1 || k == perBlock-1 {
				add(b, 1, "group descriptors ("+key+")")
			}
		}
	}
}

// tables adds every group's bitmaps and inode table, wherever the
// descriptors put them (flex_bg gathers them in the first group of a flex
// group).
func (x *explainer) tables() {
	fs := x.fs
	itBlocks := (uint64(fs.SB.InodesPerGroup)*uint64(fs.SB.InodeSize) + uint64(fs.bs) - 1) / uint64(fs.bs)
	for g, gd := range fs.groups {
		key := strconv.Itoa(g)
		s, e := x.blocks(gd.blockBitmap, 1)
		x.add(s, e, Use{What: "block bitmap of group " + key})
		s, e = x.blocks(gd.inodeBitmap, 1)
		x.add(s, e, Use{What: "inode bitmap of group " + key})
		s, e = x.blocks(gd.inodeTable, itBlocks)
		e = min(e, s+int64(fs.SB.InodesPerGroup)*int64(fs.SB.InodeSize))
		x.add(s, e, Use{What: "inode table of group " + key, FirstInode: uint32(g)*fs.SB.InodesPerGroup + 1})
	}
}

// specialInodes names the reserved inodes below the first ordinary one.
var specialInodes = map[uint32]string{1: "bad blocks inode", 3: "user quota", 4: "group quota",
	5: "boot loader", 6: "undelete directory", 7: "resize inode", 8: "journal", 9: "exclude inode", 10: "replica inode"}

// kind is what an inode's data is called.
func (x *explainer) kind(in *Inode) string {
	if in.Num == x.fs.SB.JournalInum && x.fs.SB.JournalInum != 0 {
		return "journal"
	}
	if name, ok := specialInodes[in.Num]; ok && in.Num < x.fs.SB.FirstIno {
		return name
	}
	switch {
	case in.IsDir():
		return "directory"
	case in.IsRegular():
		return "file"
	case in.IsSymlink():
		return "symlink"
	}
	return "special file"
}

// inode adds what in keeps in the regions; it reports whether it keeps
// anything there (its name is then wanted).
func (x *explainer) inode(in *Inode) bool {
	kind := x.kind(in)
	hit := false
	if in.FileACL != 0 && in.FileACL < x.fs.SB.BlocksCount {
		s, e := x.blocks(in.FileACL, 1)
		hit = x.add(s, e, Use{What: "extended attributes", Inode: in.Num}) || hit
	}
	if kind == "resize inode" {
		// Its map is the reserved GDT blocks, added with the layout; only
		// the double indirect block is its own.
		if p := uint64(binary.LittleEndian.Uint32(in.block[13*4:])); p != 0 && p < x.fs.SB.BlocksCount {
			s, e := x.blocks(p, 1)
			hit = x.add(s, e, Use{What: "block map of resize inode", Inode: in.Num}) || hit
		}
		return hit
	}
	m, err := x.fs.Map(in)
	if err != nil || m.Inline != nil {
		return hit // nothing mapped, or nothing outside the inode
	}
	x.journal = x.journal || kind == "journal"
	return x.mapped(in.Num, kind, m) || hit
}

// mapped adds the data runs and map blocks of inode n.
func (x *explainer) mapped(n uint32, kind string, m *BlockMap) bool {
	hit := false
	for _, r := range m.Runs {
		s, e := x.blocks(r.Physical, r.Len)
		hit = x.add(s, e, Use{What: kind, Inode: n, FileOffset: int64(r.Logical) * x.fs.bs}) || hit
	}
	for _, b := range m.Meta {
		s, e := x.blocks(b, 1)
		hit = x.add(s, e, Use{What: "block map of " + kind, Inode: n}) || hit
	}
	return hit
}

// journalFromBackup maps the journal from the superblock's copy of its
// inode's block map (s_jnl_blocks) when the scan did not meet a usable
// journal inode: the inode table holding it may be the part destroyed.
// Only what the copy holds itself is used: an extent root of depth 0 in
// full, or the twelve direct blocks of a block map (the indirect blocks it
// names may be gone with the inode, and garbage must not be called
// journal); the indirect blocks are named as its map.
func (x *explainer) journalFromBackup() {
	sb := x.fs.SB
	const backupBlocks = 1 // EXT3_JNL_BACKUP_BLOCKS
	if x.journal || sb.JournalInum == 0 || sb.FeatureCompat&compatHasJournal == 0 || sb.raw[0xFD] != backupBlocks {
		return
	}
	le := binary.LittleEndian
	raw := make([]byte, 128)
	le.PutUint16(raw[0x0:], modeReg|0o600)
	le.PutUint16(raw[0x1A:], 1)
	copy(raw[0x28:0x64], sb.raw[0x10C:0x10C+60])
	le.PutUint32(raw[0x6C:], le.Uint32(sb.raw[0x10C+60:]))
	le.PutUint32(raw[0x4:], le.Uint32(sb.raw[0x10C+64:]))
	extents := le.Uint16(raw[0x28:]) == 0xF30A
	if extents {
		if le.Uint16(raw[0x28+6:]) != 0 {
			return // an extent tree deeper than the copy
		}
		le.PutUint32(raw[0x20:], flagExtents)
	} else {
		for i := 12; i < 15; i++ {
			if p := uint64(le.Uint32(raw[0x28+4*i:])); p != 0 && p < sb.BlocksCount {
				s, e := x.blocks(p, 1)
				x.add(s, e, Use{What: "block map of journal", Inode: sb.JournalInum})
			}
			le.PutUint32(raw[0x28+4*i:], 0)
		}
	}
	in := x.fs.decodeInode(sb.JournalInum, raw)
	if m, err := x.fs.Map(in); err == nil {
		x.mapped(in.Num, "journal", m)
	}
}

// name fills in the paths of the uses that belong to inodes.
func (x *explainer) name(ns *Namespace) {
	paths := map[uint32]string{}
	path := func(n uint32) string {
		if p, ok := paths[n]; ok {
			return p
		}
		var p string
		switch {
		case n < x.fs.SB.FirstIno && n != RootIno:
			p = "" // the journal and friends have no path
		case ns.dirs[n] != nil:
			p = ns.Path(n)
		default:
			p = "#" + strconv.FormatUint(uint64(n), 10)
			if ref, ok := ns.names[n]; ok {
				dir := ns.Path(ref.dir)
				if dir == "/" {
					dir = ""
				}
				p = dir + "/" + ref.name
			}
		}
		paths[n] = p
		return p
	}
	for r := range x.out {
		for i, u := range x.out[r] {
			if u.Inode != 0 {
				x.out[r][i].Path = path(u.Inode)
			}
		}
	}
}

// unclaimed names what no structure or inode claims in each region, from
// the block bitmap: free space, or blocks in use whose owner was not found
// (an inode lost with its table, or damage).
func (x *explainer) unclaimed(regions []Region) {
	fs := x.fs
	size := fs.SB.Size()
	bitmaps := map[uint32][]byte{}
	for r, reg := range regions {
		covered := mergeRanges(x.claimed[r])
		pos, end := reg.Offset, reg.Offset+reg.Length
		gap := func(from, to int64) {
			if from >= to {
				return
			}
			if to > size {
				if from < size {
					x.gapByBitmap(r, from, size, bitmaps)
				}
				x.out[r] = append(x.out[r], Use{Offset: max(from, size), Length: to - max(from, size), What: "past the filesystem's end"})
				return
			}
			x.gapByBitmap(r, from, to, bitmaps)
		}
		for _, c := range covered {
			gap(pos, min(c[0], end))
			pos = max(pos, c[1])
		}
		gap(pos, end)
	}
}

// gapByBitmap adds uses for bytes [from, to) of region r, block by block
// as the block bitmap says.
func (x *explainer) gapByBitmap(r int, from, to int64, bitmaps map[uint32][]byte) {
	fs := x.fs
	sb := fs.SB
	add := func(s, e int64, what string) {
		if k := len(x.out[r]) - 1; k >= 0 && x.out[r][k].What == what && x.out[r][k].Offset+x.out[r][k].Length == s {
			x.out[r][k].Length = e - x.out[r][k].Offset
			return
		}
		x.out[r] = append(x.out[r], Use{Offset: s, Length: e - s, What: what})
	}
	for pos := from; pos < to; {
		b := uint64(pos / fs.bs)
		e := min(to, int64(b+1)*fs.bs)
		what := "unused blocks"
		if b >= uint64(sb.FirstDataBlock) {
			g := uint32((b - uint64(sb.FirstDataBlock)) / uint64(sb.BlocksPerGroup))
			if free, ok := x.blockFree(g, b, bitmaps); ok {
				what = "free space"
				if !free {
					what = "in use, owner not found"
				}
			}
		}
		add(pos, e, what)
		pos = e
	}
}

// bgBlockUninit marks a group whose block bitmap was never written: its
// blocks other than metadata are free.
const bgBlockUninit = 0x2

// blockFree reads whether block b of group g is free in its bitmap; ok is
// false when the bitmap cannot be read or trusted.
func (x *explainer) blockFree(g uint32, b uint64, bitmaps map[uint32][]byte) (free, ok bool) {
	fs := x.fs
	if int(g) >= len(fs.groups) {
		return false, false
	}
	gd := fs.groups[g]
	if gd.checksumOK && !gd.fromOtherTable && gd.flags&bgBlockUninit != 0 &&
		(fs.SB.HasMetadataCsum() || fs.SB.FeatureROCompat&roCompatGdtCsum != 0) {
		return true, true
	}
	bm, seen := bitmaps[g]
	if !seen {
		var err error
		if bm, err = fs.readBlock(gd.blockBitmap); err != nil {
			bm = nil
		}
		bitmaps[g] = bm
	}
	if bm == nil {
		return false, false
	}
	i := (b - uint64(fs.SB.FirstDataBlock)) % uint64(fs.SB.BlocksPerGroup)
	if fs.SB.IsBigalloc() {
		i /= uint64(fs.SB.ClusterSize() / int(fs.bs))
	}
	if i/8 >= uint64(len(bm)) {
		return false, false
	}
	return bm[i/8]&(1<<(i%8)) == 0, true
}

// mergeRanges sorts and merges byte ranges.
func mergeRanges(rs [][2]int64) [][2]int64 {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var out [][2]int64
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && r[0] <= out[k][1] {
			out[k][1] = max(out[k][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}
