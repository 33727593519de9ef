package ext

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sort"

	"holmes/blockdev"
)

// maxExtentDepth bounds extent trees; the kernel never builds more than 5 levels.
const maxExtentDepth = 5

// Run maps Len logical blocks starting at Logical to physical blocks from
// Physical. Unwritten runs (preallocated) read as zeros.
type Run struct {
	Logical   uint64 `json:"logical"`
	Physical  uint64 `json:"physical"`
	Len       uint64 `json:"len"`
	Unwritten bool   `json:"unwritten,omitempty"`
}

// BlockMap is how a file's bytes are found: sorted runs, or inline bytes.
type BlockMap struct {
	Runs   []Run
	Inline []byte // inline_data, or nil
	// Meta lists the blocks holding the map itself (indirect blocks,
	// extent index and leaf blocks), for stat.
	Meta []uint64
	// Depth is the extent tree depth, -1 for a block map.
	Depth int
	// ChecksumErrors lists extent blocks whose metadata_csum tail fails;
	// the map is still used.
	ChecksumErrors []string
}

// Map returns the block map of inode in.
func (fs *FS) Map(in *Inode) (*BlockMap, error) {
	switch {
	case in.Flags&flagInlineData != 0:
		data, err := fs.inlineData(in)
		if err != nil {
			return nil, err
		}
		return &BlockMap{Inline: data, Depth: -1}, nil
	case in.IsSymlink() && fs.isFastSymlink(in):
		return &BlockMap{Inline: in.block[:min(in.Size, 60)], Depth: -1}, nil
	case in.Flags&flagExtents != 0:
		return fs.extentMap(in)
	case in.Mode&modeType == modeChr || in.Mode&modeType == modeBlk || in.Mode&modeType == modeFIFO || in.Mode&modeType == modeSock:
		return &BlockMap{Depth: -1}, nil
	}
	return fs.indirectMap(in)
}

// isFastSymlink: the target is stored in i_block itself.
func (fs *FS) isFastSymlink(in *Inode) bool {
	if in.Flags&(flagExtents|flagInlineData) != 0 || in.Size >= 60 {
		return false
	}
	dataBlocks := in.Blocks
	if in.FileACL != 0 {
		dataBlocks -= min(dataBlocks, uint64(fs.bs/512))
	}
	return dataBlocks == 0
}

// maxLogical is the number of blocks a file of in.Size bytes spans; maps
// ignore anything beyond it so that garbage pointers cannot grow a map
// past the file.
func (fs *FS) maxLogical(in *Inode) uint64 {
	return (in.Size + uint64(fs.bs) - 1) / uint64(fs.bs)
}

func (fs *FS) extentMap(in *Inode) (*BlockMap, error) {
	m := &BlockMap{}
	seen := map[uint64]bool{}
	depth, err := fs.walkExtents(in, in.block[:], maxExtentDepth+1, m, seen)
	if err != nil {
		return nil, fmt.Errorf("ext: inode %d extent tree: %w", in.Num, err)
	}
	m.Depth = depth
	sort.Slice(m.Runs, func(i, j int) bool { return m.Runs[i].Logical < m.Runs[j].Logical })
	for i := 1; i < len(m.Runs); i++ {
		if m.Runs[i].Logical < m.Runs[i-1].Logical+m.Runs[i-1].Len {
			return nil, fmt.Errorf("ext: inode %d extent tree: overlapping extents at logical block %d", in.Num, m.Runs[i].Logical)
		}
	}
	if err := m.checkNoAliases(); err != nil {
		return nil, fmt.Errorf("ext: inode %d extent tree: %w", in.Num, err)
	}
	return m, nil
}

// checkNoAliases refuses a map that gives one physical block to two
// logical blocks: ext never shares blocks within a file, and a crafted map
// that does would make a few blocks on disk read as gigabytes (a directory
// or file "bomb"). With every block mapped once, a file's data is bounded
// by the filesystem.
func (m *BlockMap) checkNoAliases() error {
	byPhys := slices.Clone(m.Runs)
	slices.SortFunc(byPhys, func(a, b Run) int { return cmp.Compare(a.Physical, b.Physical) })
	for i := 1; i < len(byPhys); i++ {
		if a, b := byPhys[i-1], byPhys[i]; b.Physical < a.Physical+a.Len {
			return fmt.Errorf("physical block %d is mapped twice (logical blocks %d and %d)", b.Physical, a.Logical+(b.Physical-a.Physical), b.Logical)
		}
	}
	return nil
}

// walkExtents reads one extent node; levels is how deep the tree may still go.
func (fs *FS) walkExtents(in *Inode, node []byte, levels int, m *BlockMap, seen map[uint64]bool) (int, error) {
	le := binary.LittleEndian
	if len(node) < 12 || le.Uint16(node[0:]) != 0xF30A {
		return 0, fmt.Errorf("bad extent header magic")
	}
	entries := int(le.Uint16(node[2:]))
	maxEntries := int(le.Uint16(node[4:]))
	depth := int(le.Uint16(node[6:]))
	if entries > maxEntries || 12+12*entries > len(node) {
		return 0, fmt.Errorf("extent node claims %d entries (max %d) in %d bytes", entries, maxEntries, len(node))
	}
	if depth >= levels {
		return 0, fmt.Errorf("extent tree deeper than %d levels", maxExtentDepth)
	}
	limit := fs.maxLogical(in)
	for i := range entries {
		e := node[12+12*i:]
		logical := uint64(le.Uint32(e[0:]))
		if depth == 0 {
			n := uint64(le.Uint16(e[4:]))
			unwritten := n > 32768
			if unwritten {
				n -= 32768
			}
			phys := uint64(le.Uint16(e[6:]))<<32 | uint64(le.Uint32(e[8:]))
			if logical >= limit || n == 0 {
				continue
			}
			if phys < uint64(fs.SB.FirstDataBlock) || phys+n > fs.SB.BlocksCount {
				return 0, fmt.Errorf("extent %d+%d points outside the filesystem", phys, n)
			}
			m.Runs = append(m.Runs, Run{Logical: logical, Physical: phys, Len: min(n, limit-logical), Unwritten: unwritten})
			continue
		}
		child := uint64(le.Uint16(e[8:]))<<32 | uint64(le.Uint32(e[4:]))
		if seen[child] {
			return 0, fmt.Errorf("extent index block %d referenced twice (a cycle)", child)
		}
		seen[child] = true
		blk, err := fs.readBlock(child)
		if err != nil {
			return 0, fmt.Errorf("extent index: %w", err)
		}
		m.Meta = append(m.Meta, child)
		if !fs.extentBlockChecksumOK(in, blk) {
			m.ChecksumErrors = append(m.ChecksumErrors, fmt.Sprintf("extent block %d: bad checksum", child))
		}
		if _, err := fs.walkExtents(in, blk, depth, m, seen); err != nil {
			return 0, fs.errorAt(int64(child)*fs.bs, fmt.Sprintf("block %d", child), err)
		}
	}
	return depth, nil
}

// extentBlockChecksumOK checks the crc32c that follows the last possible
// entry of an extent block (true without metadata_csum).
func (fs *FS) extentBlockChecksumOK(in *Inode, blk []byte) bool {
	if !fs.SB.HasMetadataCsum() {
		return true
	}
	end := 12 + 12*int(binary.LittleEndian.Uint16(blk[4:]))
	if end+4 > len(blk) {
		return false
	}
	return crc32c(fs.inodeSeed(in.Num, in.Generation), blk[:end]) == binary.LittleEndian.Uint32(blk[end:])
}

// indirectMap reads an ext2/3 block map: 12 direct pointers, then single,
// double and triple indirect blocks.
func (fs *FS) indirectMap(in *Inode) (*BlockMap, error) {
	m := &BlockMap{Depth: -1}
	le := binary.LittleEndian
	limit := fs.maxLogical(in)
	perBlock := uint64(fs.bs / 4)
	seen := map[uint64]bool{} // garbage pointers must not make the walk revisit blocks
	add := func(logical, phys uint64) error {
		if phys >= fs.SB.BlocksCount || phys < uint64(fs.SB.FirstDataBlock) {
			return fmt.Errorf("ext: inode %d: block pointer %d at logical block %d outside the filesystem", in.Num, phys, logical)
		}
		if k := len(m.Runs) - 1; k >= 0 && m.Runs[k].Logical+m.Runs[k].Len == logical && m.Runs[k].Physical+m.Runs[k].Len == phys {
			m.Runs[k].Len++
			return nil
		}
		m.Runs = append(m.Runs, Run{Logical: logical, Physical: phys, Len: 1})
		return nil
	}
	var walk func(blk uint64, level int, base uint64) error
	walk = func(blk uint64, level int, base uint64) error {
		if base >= limit {
			return nil
		}
		if level == 0 {
			return add(base, blk)
		}
		if seen[blk] {
			return fmt.Errorf("ext: inode %d: indirect block %d used twice", in.Num, blk)
		}
		seen[blk] = true
		b, err := fs.readBlock(blk)
		if err != nil {
			return fmt.Errorf("ext: inode %d indirect block: %w", in.Num, err)
		}
		m.Meta = append(m.Meta, blk)
		span := uint64(1)
		for range level - 1 {
			span *= perBlock
		}
		for i := range perBlock {
			if p := uint64(le.Uint32(b[4*i:])); p != 0 {
				if err := walk(p, level-1, base+i*span); err != nil {
					return err
				}
			}
		}
		return nil
	}
	base := uint64(0)
	for i := range 15 {
		level := max(0, i-11)
		p := uint64(le.Uint32(in.block[4*i:]))
		if p != 0 {
			if err := walk(p, level, base); err != nil {
				return nil, err
			}
		}
		span := uint64(1)
		for range level {
			span *= perBlock
		}
		base += span
	}
	if err := m.checkNoAliases(); err != nil {
		return nil, fmt.Errorf("ext: inode %d block map: %w", in.Num, err)
	}
	return m, nil
}

// maxFileSize is the largest size in's block map can give a file: 2^32
// blocks through extents, 12 direct pointers and three levels of indirect
// blocks otherwise. A larger i_size is impossible, whatever is on disk.
func (fs *FS) maxFileSize(in *Inode) uint64 {
	if in.Flags&flagExtents != 0 || in.Flags&flagInlineData != 0 {
		return 1 << 32 * uint64(fs.bs)
	}
	p := uint64(fs.bs / 4)
	return min((12+p+p*p+p*p*p)*uint64(fs.bs), 1<<63-1)
}

// inlineData returns the bytes of an inline_data inode: the 60 bytes of
// i_block followed by the system.data extended attribute in the inode body.
func (fs *FS) inlineData(in *Inode) ([]byte, error) {
	data := append([]byte(nil), in.block[:]...)
	for _, x := range inodeXattrs(in) {
		if x.Name == "system.data" {
			data = append(data, x.Value...)
		}
	}
	return data, nil
}

// Reader returns an io.ReaderAt over the content of in (holes and
// unwritten extents read as zeros) and its size.
func (fs *FS) Reader(in *Inode) (*FileReader, error) {
	if in.IsEncrypted() && !in.IsDir() {
		return nil, fmt.Errorf("ext: inode %d: %w", in.Num, errEncrypted)
	}
	if limit := fs.maxFileSize(in); in.Size > limit {
		return nil, fmt.Errorf("ext: inode %d: size %d is more than its block map can address (%d)", in.Num, in.Size, limit)
	}
	m, err := fs.Map(in)
	if err != nil {
		return nil, err
	}
	return &FileReader{fs: fs, m: m, size: int64(in.Size), ino: in.Num}, nil
}

// FileReader reads a file's bytes through its block map.
type FileReader struct {
	fs   *FS
	m    *BlockMap
	size int64
	ino  uint32
}

// Size is the file size in bytes.
func (f *FileReader) Size() int64 { return f.size }

// Map is the block map the reader uses.
func (f *FileReader) Map() *BlockMap { return f.m }

// ReadAt reads file bytes; holes are zeros.
func (f *FileReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset")
	}
	if off >= f.size {
		return 0, io.EOF
	}
	var err error
	if rem := f.size - off; int64(len(p)) > rem {
		p, err = p[:rem], io.EOF
	}
	if f.m.Inline != nil {
		n := copy(p, f.m.Inline[min(int64(len(f.m.Inline)), off):])
		clear(p[n:])
		return len(p), err
	}
	bs := f.fs.bs
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		lb := uint64(pos / bs)
		i := sort.Search(len(f.m.Runs), func(i int) bool { return f.m.Runs[i].Logical+f.m.Runs[i].Len > lb })
		var chunk int64
		if i == len(f.m.Runs) || f.m.Runs[i].Logical > lb {
			end := f.size
			if i < len(f.m.Runs) {
				end = int64(f.m.Runs[i].Logical) * bs
			}
			chunk = min(int64(len(p)-done), end-pos)
			clear(p[done : done+int(chunk)])
		} else {
			r := f.m.Runs[i]
			end := int64(r.Logical+r.Len) * bs
			chunk = min(int64(len(p)-done), end-pos)
			if r.Unwritten {
				clear(p[done : done+int(chunk)])
			} else {
				phys := int64(r.Physical+(lb-r.Logical))*bs + pos%bs
				if k, e := f.fs.readAtPartial(p[done:done+int(chunk)], phys); e != nil {
					// The bytes before a gap are good: say how many, so a
					// copy keeps them (blockdev.ReadAround).
					return done + k, fmt.Errorf("ext: inode %d at file offset %d: %w", f.ino, pos+int64(k), e)
				}
			}
		}
		done += int(chunk)
	}
	return done, err
}

// fileDevice is a file's bytes as a device, for blockdev.ReadAround: its
// MapOffset leads through the block map to the filesystem's device, so a
// gap below is measured in the file's own offsets.
type fileDevice struct {
	*FileReader
	name string
}

func (d fileDevice) Name() string { return d.name }
func (d fileDevice) Close() error { return nil }

func (d fileDevice) MapOffset(off int64) (blockdev.Device, int64, bool) {
	dev, ok := d.fs.r.(blockdev.Device)
	phys, mapped := d.deviceOffset(off)
	return dev, phys, ok && mapped
}

// deviceOffset is where file byte off lies on the filesystem's device;
// ok is false in a hole, an unwritten extent or inline data.
func (f *FileReader) deviceOffset(off int64) (int64, bool) {
	lb := uint64(off / f.fs.bs)
	i := sort.Search(len(f.m.Runs), func(i int) bool { return f.m.Runs[i].Logical+f.m.Runs[i].Len > lb })
	if f.m.Inline != nil || off < 0 || i == len(f.m.Runs) || f.m.Runs[i].Logical > lb || f.m.Runs[i].Unwritten {
		return 0, false
	}
	r := f.m.Runs[i]
	return int64(r.Physical+(lb-r.Logical))*f.fs.bs + off%f.fs.bs, true
}

// DataRegions returns the byte ranges of the file that hold data (not
// holes), so that a copy can keep the file sparse.
func (f *FileReader) DataRegions() [][2]int64 {
	if f.m.Inline != nil {
		// Past the inline bytes the file reads as zeros: a hole, never
		// written out.
		return [][2]int64{{0, min(f.size, int64(len(f.m.Inline)))}}
	}
	var out [][2]int64
	for _, r := range f.m.Runs {
		if r.Unwritten {
			continue
		}
		s, e := int64(r.Logical)*f.fs.bs, min(int64(r.Logical+r.Len)*f.fs.bs, f.size)
		if k := len(out) - 1; k >= 0 && out[k][1] == s {
			out[k][1] = e
		} else {
			out = append(out, [2]int64{s, e})
		}
	}
	return out
}
