package thin

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"

	"holmes/pdata"
)

// Details is a thin device's entry in the device details tree (struct
// disk_device_details).
type Details struct {
	MappedBlocks  uint64 `json:"mapped_blocks"`
	TransactionID uint64 `json:"transaction"`
	CreationTime  uint32 `json:"creation_time"`
	SnapTime      uint32 `json:"snap_time"`
}

const detailsSize = 24

// Device is a thin device as the metadata knows it: by the details tree,
// the top-level mapping tree, or both (damage can cost either).
type Device struct {
	ID      uint64   `json:"dev_id"`
	Details *Details `json:"details"` // nil when the details tree lost it
	// Root is the block of the device's mapping tree; HasRoot is false when
	// the top-level mapping tree lost it (its blocks cannot be read).
	Root    uint64 `json:"mapping_root"`
	HasRoot bool   `json:"has_mapping"`
}

// Pool is the metadata of a thin pool, read from its metadata device.
type Pool struct {
	Super    *Superblock `json:"superblock"`
	Devices  []*Device   `json:"devices"` // by id
	Problems []Problem   `json:"problems"`

	r          io.ReaderAt
	nblocks    uint64
	dataBlocks uint64 // the data space map's size: every mapping must lie below
	budget     int64  // node reads left to every walk of this pool
}

// readsPerBlock bounds the node reads of all walks of a pool, per metadata
// block: real pools with many snapshots walk their shared subtrees a few
// hundred times over; only crafted metadata comes near it.
const readsPerBlock = 1024

// Open reads the superblock and the trees that list the thin devices from
// metadata device r of size bytes. It fails only when r holds no thin pool
// superblock or the superblock's geometry is unusable; damage below it is
// in Problems.
func Open(r io.ReaderAt, size int64) (*Pool, error) {
	if size < BlockSize {
		return nil, fmt.Errorf("thin: metadata device of %d bytes holds no superblock", size)
	}
	return open(r, uint64(size/BlockSize), 0, nil)
}

// MetadataSnapshot opens the pool as its metadata snapshot holds it (what
// thin_dump --metadata-snap prints): the held root is a copy of the
// superblock taken when userspace reserved it, with its trees kept as they
// were then. The kernel clears the copy's space map roots (Super shows
// them so, as thin_dump -m does); the pool's size in data blocks is the live one.
func (p *Pool) MetadataSnapshot() (*Pool, error) {
	if p.Super.MetadataSnap == 0 {
		return nil, fmt.Errorf("thin: the pool holds no metadata snapshot")
	}
	if p.Super.MetadataSnap >= p.nblocks {
		return nil, fmt.Errorf("thin: the metadata snapshot at block %d lies outside the metadata device (%d blocks)", p.Super.MetadataSnap, p.nblocks)
	}
	return open(p.r, p.nblocks, p.Super.MetadataSnap, p.Super)
}

// open reads the superblock at block (0, or a metadata snapshot's copy,
// whose space maps come from live) and the device trees.
func open(r io.ReaderAt, nblocks, block uint64, live *Superblock) (*Pool, error) {
	b, err := pdata.ReadBlock(r, block)
	if err != nil {
		return nil, fmt.Errorf("thin: superblock at block %d: %w", block, err)
	}
	sb, err := ParseSuperblock(b)
	if err != nil {
		return nil, err
	}
	p := &Pool{Super: sb, r: r, nblocks: nblocks, dataBlocks: sb.DataSpaceMap.NrBlocks, budget: int64(min(nblocks, 1<<40)) * readsPerBlock}
	if live != nil {
		p.dataBlocks = live.DataSpaceMap.NrBlocks
	}
	switch {
	case sb.DataBlockSize < minDataBlockSectors || sb.DataBlockSize > maxDataBlockSectors || sb.DataBlockSize%minDataBlockSectors != 0:
		return nil, fmt.Errorf("thin: superblock: data block size %d sectors is not a multiple of 128 between 128 and %d", sb.DataBlockSize, maxDataBlockSectors)
	case sb.MetadataBlockSize != BlockSize/512:
		return nil, fmt.Errorf("thin: superblock: metadata block size %d sectors, want %d", sb.MetadataBlockSize, BlockSize/512)
	}
	if !sb.ChecksumOK {
		p.problem(Problem{Block: block, Tree: "superblock", Msg: fmt.Sprintf("bad checksum %08x, computed %08x: every field below is suspect", sb.Checksum, pdata.Checksum(b, superblockXor))})
	}
	if sb.BlockNr != block {
		p.problem(Problem{Block: block, Tree: "superblock", Msg: fmt.Sprintf("says it is block %d", sb.BlockNr)})
	}
	byID := map[uint64]*Device{}
	dev := func(id uint64) *Device {
		if byID[id] == nil {
			byID[id] = &Device{ID: id}
		}
		return byID[id]
	}
	details := &pdata.Tree{R: r, NBlocks: nblocks, Name: "device details", ValueSize: detailsSize, Budget: &p.budget}
	details.Walk(sb.DetailsRoot, func(_, id uint64, v []byte) {
		le := binary.LittleEndian
		dev(id).Details = &Details{le.Uint64(v), le.Uint64(v[8:]), le.Uint32(v[16:]), le.Uint32(v[20:])}
	})
	mapping := &pdata.Tree{R: r, NBlocks: nblocks, Name: "data mapping", ValueSize: 8, Budget: &p.budget}
	mapping.Walk(sb.MappingRoot, func(_, id uint64, v []byte) {
		d := dev(id)
		d.Root, d.HasRoot = binary.LittleEndian.Uint64(v), true
	})
	p.problem(details.Problems...)
	p.problem(mapping.Problems...)
	for _, d := range byID {
		p.Devices = append(p.Devices, d)
	}
	sort.Slice(p.Devices, func(i, j int) bool { return p.Devices[i].ID < p.Devices[j].ID })
	return p, nil
}

func (p *Pool) problem(ps ...Problem) { p.Problems = append(p.Problems, ps...) }

// Device returns thin device id, or nil when the metadata does not list it.
func (p *Pool) Device(id uint64) *Device {
	i := sort.Search(len(p.Devices), func(i int) bool { return p.Devices[i].ID >= id })
	if i < len(p.Devices) && p.Devices[i].ID == id {
		return p.Devices[i]
	}
	return nil
}

// NrDataBlocks is the size of the pool's data device in data blocks, as
// the (live) data space map records it.
func (p *Pool) NrDataBlocks() uint64 { return p.dataBlocks }

// Run is a run of a thin device's virtual blocks mapped to consecutive data
// blocks, written in the same pool time (thin_dump's range_mapping; a run
// of length 1 is its single_mapping).
type Run struct {
	Origin uint64 `json:"origin_begin"`
	Data   uint64 `json:"data_begin"`
	Length uint64 `json:"length"`
	Time   uint32 `json:"time"`
}

// Lost is a range of a thin device's virtual blocks, First to Last
// inclusive, whose mapping the damaged metadata no longer says.
type Lost struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

func (l Lost) String() string { return pdata.KeyRange(l.First, l.Last) }

// Mapping is what the metadata maps of one thin device.
type Mapping struct {
	Runs     []Run     `json:"runs"` // by origin, not overlapping
	Lost     []Lost    `json:"lost"` // by first block
	Problems []Problem `json:"problems"`
}

// Mapped is the number of virtual blocks the runs map.
func (m *Mapping) Mapped() uint64 {
	var n uint64
	for _, r := range m.Runs {
		n += r.Length
	}
	return n
}

// Highest is the highest mapped virtual block; ok is false when none is.
func (m *Mapping) Highest() (block uint64, ok bool) {
	if len(m.Runs) == 0 {
		return 0, false
	}
	r := m.Runs[len(m.Runs)-1]
	return r.Origin + r.Length - 1, true
}

// Map walks device id's mapping tree. A device the top-level tree lost
// maps nothing and has everything lost. Data blocks past the data space
// map's size are left out as damage.
func (p *Pool) Map(id uint64) *Mapping {
	m := &Mapping{}
	d := p.Device(id)
	if d == nil || !d.HasRoot {
		m.Lost = []Lost{{0, math.MaxUint64}}
		return m
	}
	t := &pdata.Tree{R: p.r, NBlocks: p.nblocks, Name: fmt.Sprintf("device %d mapping", id), ValueSize: 8, Budget: &p.budget}
	nrData := p.NrDataBlocks()
	t.Walk(d.Root, func(leaf, v uint64, val []byte) {
		packed := binary.LittleEndian.Uint64(val)
		data, time := packed>>24, uint32(packed&(1<<24-1))
		if data >= nrData {
			m.Lost = append(m.Lost, Lost{v, v})
			m.Problems = append(m.Problems, Problem{Block: leaf, Tree: t.Name, Msg: fmt.Sprintf("virtual block %d maps to data block %d, past the pool's %d", v, data, nrData), Lo: v, Hi: v})
			return
		}
		if n := len(m.Runs); n > 0 {
			last := &m.Runs[n-1]
			if last.Origin+last.Length == v && last.Data+last.Length == data && last.Time == time {
				last.Length++
				return
			}
		}
		m.Runs = append(m.Runs, Run{Origin: v, Data: data, Length: 1, Time: time})
	})
	for _, pr := range t.Problems {
		m.Lost = append(m.Lost, Lost{pr.Lo, pr.Hi})
	}
	m.Problems = append(m.Problems, t.Problems...)
	sort.Slice(m.Lost, func(i, j int) bool { return m.Lost[i].First < m.Lost[j].First })
	return m
}

// Usage is a thin device's share of the pool (thin_ls's columns).
type Usage struct {
	ID        uint64 `json:"-"`
	Mapped    uint64 `json:"mapped_blocks"`
	Exclusive uint64 `json:"exclusive_blocks"` // data blocks no other device maps
	Shared    uint64 `json:"shared_blocks"`    // data blocks another device maps too
	Highest   uint64 `json:"highest_mapped"`   // highest mapped virtual block
	AnyMapped bool   `json:"-"`
}

// Usage maps every device and counts, for each, the data blocks it shares
// with another device (a snapshot and its origin) and those it alone maps.
// The sharing is found by sweeping the runs of all devices in data block
// order, so memory is the runs, not the blocks.
func (p *Pool) Usage(maps map[uint64]*Mapping) []Usage {
	type edge struct {
		at    uint64
		delta int
		dev   uint64
	}
	var edges []edge
	out := make([]Usage, 0, len(p.Devices))
	index := map[uint64]int{}
	for _, d := range p.Devices {
		m := maps[d.ID]
		u := Usage{ID: d.ID, Mapped: m.Mapped()}
		u.Highest, u.AnyMapped = m.Highest()
		index[d.ID] = len(out)
		out = append(out, u)
		for _, r := range m.Runs {
			edges = append(edges, edge{r.Data, 1, d.ID}, edge{r.Data + r.Length, -1, d.ID})
		}
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i].at < edges[j].at })
	// Between consecutive edges the same devices cover every block: count
	// them, and the sum of their ids names the one when it is alone.
	active, idSum := 0, uint64(0)
	for i, e := range edges {
		if i > 0 && e.at > edges[i-1].at && active > 0 {
			span := e.at - edges[i-1].at
			if active == 1 {
				out[index[idSum]].Exclusive += span
			}
		}
		active += e.delta
		if e.delta > 0 {
			idSum += e.dev
		} else {
			idSum -= e.dev
		}
	}
	for i := range out {
		out[i].Shared = out[i].Mapped - out[i].Exclusive
	}
	return out
}

// DeviceReport is one thin device with what it maps and its share of the pool.
type DeviceReport struct {
	*Device
	Usage   Usage    `json:"usage"`
	Mapping *Mapping `json:"mapping"`
}

// Survey maps every thin device of the pool and counts its use: the facts
// thin_dump and thin_ls print, damage included.
func (p *Pool) Survey() []DeviceReport {
	maps := map[uint64]*Mapping{}
	for _, d := range p.Devices {
		maps[d.ID] = p.Map(d.ID)
	}
	var out []DeviceReport
	for i, u := range p.Usage(maps) {
		d := p.Devices[i]
		out = append(out, DeviceReport{Device: d, Usage: u, Mapping: maps[d.ID]})
	}
	return out
}
