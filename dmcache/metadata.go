package dmcache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"holmes/pdata"
)

// Mapping flags in the low 16 bits of a mapping array entry; the origin
// block is the upper 48.
const (
	mappingValid = 1 << 0
	mappingDirty = 1 << 1 // format 1 only: format 2 keeps the dirty bitset
)

// readsPerBlock bounds the node and array block reads of all walks, per
// metadata block (as package thin does).
const readsPerBlock = 1024

// Mapping is a cache block holding a copy of an origin block.
type Mapping struct {
	CacheBlock  uint64 `json:"cache_block"`
	OriginBlock uint64 `json:"origin_block"`
	// Dirty says the cache block holds writes its origin block lacks, as
	// the kernel would take it on starting the cache: after a shutdown that
	// was not clean, every mapped block.
	Dirty bool `json:"dirty"`
}

// Range is a run of origin blocks, First to Last inclusive.
type Range struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

// Metadata is what a dm-cache metadata device says.
type Metadata struct {
	Super    *Superblock     `json:"superblock"`
	Mappings []Mapping       `json:"mappings"` // the valid mappings, by cache block
	Problems []pdata.Problem `json:"problems"`
	// DirtyOnDisk counts the dirty flags (format 1) or bits (format 2) set
	// on disk: after a clean shutdown the blocks Dirty says; otherwise the
	// kernel ignores them.
	DirtyOnDisk int `json:"dirty_on_disk"`
	r           io.ReaderAt
	nblocks     uint64
}

// Open reads the dm-cache metadata on r (size bytes: a cache pool's _cmeta
// LV). A device that is not dm-cache metadata, or whose superblock gives a
// format, geometry or feature holmes cannot read, is an error; damage met
// in the mapping array or dirty bitset is listed in Problems, with what the
// rest maps.
func Open(r io.ReaderAt, size int64) (*Metadata, error) {
	if size < pdata.BlockSize {
		return nil, fmt.Errorf("dmcache: the metadata device has %d bytes, less than one %d-byte block", size, pdata.BlockSize)
	}
	nblocks := uint64(size / pdata.BlockSize)
	b, err := pdata.ReadBlock(r, 0)
	if err != nil {
		return nil, fmt.Errorf("dmcache: superblock: %w", err)
	}
	sb, err := ParseSuperblock(b)
	if err != nil {
		return nil, err
	}
	m := &Metadata{Super: sb, r: r, nblocks: nblocks}
	perBlock := uint64((pdata.BlockSize - 24) / 8) // mapping entries per array block
	switch {
	case sb.Version != 1 && sb.Version != 2:
		return nil, fmt.Errorf("dmcache: superblock: metadata format %d; holmes reads formats 1 and 2", sb.Version)
	case sb.MetadataBlockSize != pdata.BlockSize/512:
		return nil, fmt.Errorf("dmcache: superblock: metadata block size %d sectors, want %d", sb.MetadataBlockSize, pdata.BlockSize/512)
	case sb.DataBlockSize < minBlockSectors || sb.DataBlockSize > maxBlockSectors || sb.DataBlockSize%minBlockSectors != 0:
		return nil, fmt.Errorf("dmcache: superblock: cache block size %d sectors is not a multiple of %d between %d and %d", sb.DataBlockSize, minBlockSectors, minBlockSectors, maxBlockSectors)
	case sb.IncompatFlags != 0:
		return nil, fmt.Errorf("dmcache: superblock: incompatible feature flags %#x, which holmes does not know", sb.IncompatFlags)
	case uint64(sb.CacheBlocks) > nblocks*perBlock:
		return nil, fmt.Errorf("dmcache: superblock: %d cache blocks, more than a %d-block metadata device can map", sb.CacheBlocks, nblocks)
	}
	if !sb.ChecksumOK {
		m.problem(pdata.Problem{Tree: "superblock", Msg: fmt.Sprintf("bad checksum %08x, computed %08x: every field is suspect", sb.Checksum, pdata.Checksum(b, superblockXor))})
	}
	if sb.BlockNr != 0 {
		m.problem(pdata.Problem{Tree: "superblock", Msg: fmt.Sprintf("says it is block %d", sb.BlockNr)})
	}
	budget := int64(min(nblocks, 1<<40)) * readsPerBlock
	mapping := &pdata.Array{R: r, NBlocks: nblocks, Name: "mapping", ValueSize: 8, Len: uint64(sb.CacheBlocks), Budget: &budget}
	dirtyFlag := map[uint64]bool{}
	if err := mapping.Walk(sb.MappingRoot, func(cblock uint64, v []byte) {
		e := binary.LittleEndian.Uint64(v)
		if e&mappingValid == 0 {
			return
		}
		if e&mappingDirty != 0 && sb.Version == 1 {
			dirtyFlag[cblock] = true
		}
		m.Mappings = append(m.Mappings, Mapping{CacheBlock: cblock, OriginBlock: e >> 16})
	}); err != nil {
		return nil, fmt.Errorf("dmcache: %w", err)
	}
	m.problem(mapping.Problems...)
	if sb.Version == 2 {
		bits := &pdata.Array{R: r, NBlocks: nblocks, Name: "dirty bitset", Budget: &budget}
		if err := bits.WalkBitset(sb.DirtyRoot, uint64(sb.CacheBlocks), func(cblock uint64) { dirtyFlag[cblock] = true }); err != nil {
			return nil, fmt.Errorf("dmcache: %w", err)
		}
		m.problem(bits.Problems...)
	}
	m.DirtyOnDisk = len(dirtyFlag)
	byOrigin := map[uint64]uint64{}
	for i := range m.Mappings {
		mp := &m.Mappings[i]
		mp.Dirty = dirtyFlag[mp.CacheBlock] || !sb.CleanShutdown()
		if other, dup := byOrigin[mp.OriginBlock]; dup {
			m.problem(pdata.Problem{Tree: "mapping", Msg: fmt.Sprintf("origin block %d is mapped by cache blocks %d and %d", mp.OriginBlock, other, mp.CacheBlock), Lo: mp.CacheBlock, Hi: mp.CacheBlock})
		}
		byOrigin[mp.OriginBlock] = mp.CacheBlock
	}
	return m, nil
}

func (m *Metadata) problem(ps ...pdata.Problem) { m.Problems = append(m.Problems, ps...) }

// maxHintSize bounds a policy hint (the kernel's policies use 0 or 4
// bytes; its limit is 128).
const maxHintSize = 128

// Hints reads the policy's hint of every cache block (the hint array, of
// the superblock's hint width), for the mapped ones; damage met is
// returned as problems.
func (m *Metadata) Hints() (map[uint64][]byte, []pdata.Problem, error) {
	sb := m.Super
	hints := map[uint64][]byte{}
	if sb.PolicyHintSize == 0 {
		return hints, nil, nil
	}
	if sb.PolicyHintSize > maxHintSize {
		return nil, nil, fmt.Errorf("dmcache: superblock: policy hint width %d bytes, more than the kernel's %d", sb.PolicyHintSize, maxHintSize)
	}
	mapped := map[uint64]bool{}
	for _, mp := range m.Mappings {
		mapped[mp.CacheBlock] = true
	}
	budget := int64(min(m.nblocks, 1<<40)) * readsPerBlock
	a := &pdata.Array{R: m.r, NBlocks: m.nblocks, Name: "hint", ValueSize: int(sb.PolicyHintSize), Len: uint64(sb.CacheBlocks), Budget: &budget}
	if err := a.Walk(sb.HintRoot, func(cblock uint64, v []byte) {
		if mapped[cblock] {
			hints[cblock] = append([]byte(nil), v...)
		}
	}); err != nil {
		return nil, nil, fmt.Errorf("dmcache: %w", err)
	}
	return hints, a.Problems, nil
}

// Dirty lists the dirty mappings by origin block.
func (m *Metadata) Dirty() []Mapping {
	var d []Mapping
	for _, mp := range m.Mappings {
		if mp.Dirty {
			d = append(d, mp)
		}
	}
	sort.Slice(d, func(i, j int) bool { return d[i].OriginBlock < d[j].OriginBlock })
	return d
}

// DirtyRanges are the origin blocks whose current data only the cache
// holds, as runs.
func (m *Metadata) DirtyRanges() []Range {
	var rs []Range
	for _, mp := range m.Dirty() {
		if n := len(rs); n > 0 && rs[n-1].Last+1 == mp.OriginBlock {
			rs[n-1].Last++
			continue
		}
		rs = append(rs, Range{mp.OriginBlock, mp.OriginBlock})
	}
	return rs
}

// Trusted says why the metadata cannot be taken as the cache's state, or
// nil when it can: the superblock checks out, the kernel did not flag it
// for checking, and every mapping and dirty bit was read. A shutdown that
// was not clean does not stop it: the mappings are the last ones the
// kernel committed, which it would use too, and every mapped block counts
// as dirty.
func (m *Metadata) Trusted() error {
	var why []string
	if m.Super.Flags&FlagNeedsCheck != 0 {
		why = append(why, "the kernel flagged it as needing a check (needs_check: it met an error while using it)")
	}
	for _, p := range m.Problems {
		why = append(why, p.String())
	}
	if len(why) == 0 {
		return nil
	}
	return errors.New("the cache metadata cannot be trusted: " + strings.Join(why, "; "))
}
