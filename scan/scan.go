// Package scan finds what a device holds by its signatures: the partition
// table, md superblocks, LVM PV labels, ext superblocks (primary and
// backups), DRBD metadata, dm-thin pool and dm-cache metadata, with byte
// offsets. It does not trust the partition table to be there: it searches
// every sector of the start and end of the device, where a rescue operator
// would look after a re-partition, and follows the positions the
// structures it finds imply.
package scan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"holmes/blockdev"
	"holmes/dmcache"
	"holmes/ext"
	"holmes/lvmmeta"
	"holmes/mdraid"
	"holmes/thin"
)

// DefaultEdge is how much of the start and of the end of a device is
// searched at every sector. Partitions start near the beginning of a disk
// (the first MiB or so with modern tools, sector 63 with old ones), and
// metadata kept at the end of a device (md 0.90 and 1.0, DRBD, backup GPT)
// lies in its last MiB; 64 MiB on each side also covers the first ext
// backup superblocks, md data offsets of up to 64 MiB and LVM metadata
// areas, while reading only 128 MiB of a multi-terabyte disk.
const DefaultEdge = 64 << 20

// Options say how far a scan reads.
type Options struct {
	// Edge bytes at the start and at the end of the device are searched at
	// every sector (0 means DefaultEdge).
	Edge int64
	// Step, if set, also probes the start (8 KiB) and the 64 KiB before
	// every multiple of Step across the whole device: partitions aligned
	// to Step are found anywhere without reading everything.
	Step int64
	// Full searches every sector of the whole device.
	Full bool
}

// Report is what a scan found on one device.
type Report struct {
	Device         string                   `json:"device"`
	Size           int64                    `json:"size"`
	PartitionTable *blockdev.PartitionTable `json:"partition_table"`
	// PartitionTableError says why no table was read (absent or damaged).
	PartitionTableError string               `json:"partition_table_error,omitempty"`
	Partitions          []blockdev.Partition `json:"partitions"`
	Signatures          []*Signature         `json:"signatures"`
	// Searched lists the byte ranges searched at every sector.
	Searched []Range `json:"searched"`
	// Probed counts the single positions read beyond them (partition
	// starts and ends, Step boundaries, ext backups, data areas).
	Probed int `json:"probed"`
	// Unreadable lists the ranges of the searched ones the device could
	// not give (a ddrescue gap, a region a collect archive did not keep),
	// merged: nothing there was found or ruled out.
	Unreadable []Range `json:"unreadable"`
}

// Range is a byte range [Start, End) of the device.
type Range struct {
	Start int64  `json:"start"`
	End   int64  `json:"end"`
	Why   string `json:"why"`
}

// Signature is one structure found. Offset is where the structure itself
// is; Start is where what it belongs to begins (the md member, the PV, the
// filesystem), when that can be told.
type Signature struct {
	Kind      string `json:"kind"` // md, lvm, ext, drbd, thin, cache
	Offset    int64  `json:"offset"`
	Start     *int64 `json:"start"`
	Partition int    `json:"partition,omitempty"` // partition holding Offset, if any
	Error     string `json:"error,omitempty"`     // the signature is there but the structure is invalid

	MD    *mdraid.Superblock `json:"md,omitempty"`
	LVM   *lvmmeta.Label     `json:"lvm,omitempty"`
	Ext   *Ext               `json:"ext,omitempty"`
	DRBD  *DRBD              `json:"drbd,omitempty"`
	Thin  *Thin              `json:"thin,omitempty"`
	Cache *Cache             `json:"cache,omitempty"`
}

const sector = 512

// Scan searches d as opts say. Only read failures are errors; damaged
// structures are reported in the signatures.
func Scan(d blockdev.Device, opts Options) (*Report, error) {
	s := &scanner{d: d, size: d.Size(), seen: map[string]bool{},
		report: &Report{Device: d.Name(), Size: d.Size(), Partitions: []blockdev.Partition{}, Signatures: []*Signature{}, Searched: []Range{}, Unreadable: []Range{}}}
	if err := s.run(opts); err != nil {
		return nil, fmt.Errorf("%s: scan: %w", d.Name(), err)
	}
	sort.SliceStable(s.report.Signatures, func(i, j int) bool {
		return s.report.Signatures[i].Offset < s.report.Signatures[j].Offset
	})
	return s.report, nil
}

type scanner struct {
	d      blockdev.Device
	size   int64
	seen   map[string]bool // kind@offset already reported
	report *Report
}

func (s *scanner) run(opts Options) error {
	r := s.report
	t, err := blockdev.ReadPartitionTable(s.d)
	switch {
	case err == nil:
		r.PartitionTable, r.Partitions = t, t.Partitions
	case errors.Is(err, blockdev.ErrNoPartitionTable):
		r.PartitionTableError = "no MBR or GPT"
	default:
		r.PartitionTableError = err.Error()
	}

	edge := opts.Edge
	if edge <= 0 {
		edge = DefaultEdge
	}
	if opts.Full || 2*edge >= s.size {
		if err := s.search(0, s.size, "whole device"); err != nil {
			return err
		}
	} else {
		if err := s.search(0, edge, "start of device"); err != nil {
			return err
		}
		if err := s.search(s.size-edge, s.size, "end of device"); err != nil {
			return err
		}
	}
	// DRBD keeps its metadata 4 KiB before the end, which need not be
	// sector-aligned on an image of odd size.
	if err := s.probeEnd(0, s.size); err != nil {
		return err
	}
	for _, p := range r.Partitions {
		if err := s.probePartition(p); err != nil {
			return err
		}
	}
	if opts.Step > 0 && !opts.Full {
		for b := opts.Step; b < s.size; b += opts.Step {
			if err := s.probeStart(b); err != nil {
				return err
			}
			if err := s.probeRange(b-64<<10, b); err != nil {
				return err
			}
		}
	}
	s.markExtCopies()
	if err := s.followImplied(); err != nil {
		return err
	}
	s.markExtCopies()
	return nil
}

// search checks every sector of [start, end), reading 1 MiB at a time.
func (s *scanner) search(start, end int64, why string) error {
	start = max(start, 0) &^ (sector - 1)
	end = min(end, s.size)
	s.report.Searched = append(s.report.Searched, Range{start, end, why})
	return s.checkRange(start, end)
}

func (s *scanner) checkRange(start, end int64) error {
	if end-start < sector {
		return nil
	}
	buf := make([]byte, min(1<<20, end-start))
	for pos := start; pos+sector <= end; pos += int64(len(buf)) {
		n := min(int64(len(buf)), end-pos)
		b := buf[:n]
		gaps, err := blockdev.ReadAround(s.d, b, pos)
		if err != nil {
			return fmt.Errorf("reading %d+%d: %w", pos, n, err)
		}
		for _, g := range gaps {
			s.unreadable(g)
		}
		for i := int64(0); i+sector <= n; i += sector {
			if inGaps(gaps, pos+i, sector) {
				continue
			}
			if err := s.checkSector(b[i:i+sector], pos+i); err != nil {
				return err
			}
		}
	}
	return nil
}

// probeRange checks the sectors of a small range outside the searched ones.
func (s *scanner) probeRange(start, end int64) error {
	if start < 0 || start >= s.size {
		return nil
	}
	s.report.Probed++
	return s.checkRange(start, min(end, s.size))
}

// probeStart checks the first 8 KiB of something that may start at off:
// md 1.1 and 1.2, an LVM label in sectors 0-3, an ext superblock at 1 KiB.
func (s *scanner) probeStart(off int64) error { return s.probeRange(off, off+8<<10) }

// probeEnd checks where structures kept at the end of [start, end) lie.
func (s *scanner) probeEnd(start, end int64) error {
	if end-start < 64<<10 {
		return nil
	}
	s.report.Probed++
	buf := make([]byte, sector)
	if _, err := s.d.ReadAt(buf, end-drbdOffset); err != nil && err != io.EOF {
		if _, ok := blockdev.AsUnreadable(err); ok {
			s.unreadable(blockdev.Extent{Off: end - drbdOffset, Len: sector})
			return nil
		}
		return fmt.Errorf("reading %d: %w", end-drbdOffset, err)
	}
	return s.checkSector(buf, end-drbdOffset)
}

// unreadable notes a range (in the device's offsets) it could not give,
// with the reason the device gives, merged with the one before when they
// touch.
func (s *scanner) unreadable(g blockdev.Extent) {
	why := "unreadable"
	if _, err := s.d.ReadAt(make([]byte, 1), g.Off); err != nil {
		if u, ok := blockdev.AsUnreadable(err); ok {
			why = u.Why
		}
	}
	rs := &s.report.Unreadable
	if n := len(*rs); n > 0 && (*rs)[n-1].End >= g.Off && (*rs)[n-1].Start <= g.Off && (*rs)[n-1].Why == why {
		(*rs)[n-1].End = max((*rs)[n-1].End, g.End())
		return
	}
	*rs = append(*rs, Range{g.Off, g.End(), why})
}

// inGaps: some of [off, off+n) lies in one of gaps.
func inGaps(gaps []blockdev.Extent, off, n int64) bool {
	for _, g := range gaps {
		if g.Off < off+n && off < g.End() {
			return true
		}
	}
	return false
}

// probePartition looks at a partition's start and at the standard md
// superblock positions and DRBD metadata near its end.
func (s *scanner) probePartition(p blockdev.Partition) error {
	if p.Extended || p.Start+p.Size > s.size {
		return nil
	}
	if err := s.probeStart(p.Start); err != nil {
		return err
	}
	part, err := blockdev.Slice(s.d, p.Start, p.Size, fmt.Sprintf("%s:p%d", s.d.Name(), p.Number))
	if err != nil {
		return err
	}
	sbs, err := mdraid.Examine(part, part.Size())
	if err != nil {
		return err
	}
	for _, sb := range sbs {
		if err := s.checkMD(p.Start + sb.Offset); err != nil {
			return err
		}
	}
	return s.probeEnd(p.Start, p.Start+p.Size)
}

// followImplied reads the positions the structures found point to: the
// data area of each md member and PV (where the next layer's label or
// superblock sits), and the backup superblocks of each ext filesystem.
func (s *scanner) followImplied() error {
	probed := map[int64]bool{}
	for i := 0; i < len(s.report.Signatures); i++ { // grows while we go
		sig := s.report.Signatures[i]
		var next []int64
		switch {
		case sig.MD != nil && sig.Start != nil:
			next = append(next, *sig.Start+sig.MD.DataOffset)
		case sig.LVM != nil && sig.Start != nil:
			for _, a := range sig.LVM.DataAreas {
				next = append(next, *sig.Start+a.Offset)
			}
		case sig.Ext != nil && sig.Start != nil && sig.Ext.Group == 0:
			if err := s.followExtBackups(*sig.Start, sig.Offset); err != nil {
				return err
			}
		}
		for _, off := range next {
			if !probed[off] {
				probed[off] = true
				if err := s.probeStart(off); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// maxExtBackupsFollowed caps the backup positions followed per ext
// filesystem: sparse_super places a few dozen even on petabytes, but a
// filesystem without it has a copy in every group (a crafted 8 blocks per
// group makes 131072 of them on 1 GiB). The first ones tell where the
// filesystem is; more add nothing (docs/hostile-input.md).
const maxExtBackupsFollowed = 64

func (s *scanner) followExtBackups(fsStart, primary int64) error {
	sb, err := ext.ReadSuperblock(s.d, primary)
	if err != nil {
		return nil
	}
	// A filesystem is followed once, however many copies of its primary
	// lie around.
	id := key("ext-fs "+sb.UUIDString(), fsStart)
	if s.seen[id] {
		return nil
	}
	s.seen[id] = true
	offs := sb.BackupOffsets()
	for _, b := range offs[:min(len(offs), maxExtBackupsFollowed)] {
		off := fsStart + b
		if off+ext.SuperblockSize > s.size {
			break
		}
		if !s.seen[key("ext", off)] {
			s.report.Probed++
			if err := s.checkExt(off); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSector looks for every signature in the 512 bytes b read at off.
func (s *scanner) checkSector(b []byte, off int64) error {
	if mdraid.ProbeSuperblock(b) {
		if err := s.checkMD(off); err != nil {
			return err
		}
	}
	if labelSector, ok := lvmmeta.ProbeLabel(b); ok {
		s.checkLVM(off, labelSector)
	}
	if ext.ProbeSuperblock(b) {
		if err := s.checkExt(off); err != nil {
			return err
		}
	}
	if isDRBDMagic(binary.BigEndian.Uint32(b[drbdMagicAt:])) {
		s.addDRBD(b, off)
	}
	if thin.ProbeSuperblock(b) {
		return s.addThin(off)
	}
	if dmcache.ProbeSuperblock(b) {
		return s.addCache(off)
	}
	return nil
}

func (s *scanner) checkMD(off int64) error {
	if s.seen[key("md", off)] {
		return nil
	}
	sb, err := mdraid.ExamineAt(s.d, s.size, off)
	if err != nil || sb == nil {
		return err
	}
	sig := &Signature{Kind: "md", Offset: off, MD: sb}
	if sb.Version != "0.90" { // 0.90 does not record where its member starts
		start := off - sb.SuperOffset
		sig.Start = &start
	}
	s.add(sig)
	return nil
}

// checkLVM decodes a LABELONE sector found at off; the label says which of
// the PV's first four sectors it is in, hence where the PV starts.
func (s *scanner) checkLVM(off int64, labelSector uint64) {
	if s.seen[key("lvm", off)] {
		return
	}
	sig := &Signature{Kind: "lvm", Offset: off}
	if labelSector > 3 || int64(labelSector)*sector > off {
		sig.Error = fmt.Sprintf("label claims to be in sector %d of its PV", labelSector)
		s.add(sig)
		return
	}
	start := off - int64(labelSector)*sector
	sig.Start = &start
	pv, err := blockdev.Slice(s.d, start, s.size-start, "PV")
	if err == nil {
		sig.LVM, err = lvmmeta.ReadLabel(pv, pv.Size())
	}
	if err != nil {
		sig.Error = err.Error()
	}
	s.add(sig)
}

func (s *scanner) add(sig *Signature) {
	s.seen[key(sig.Kind, sig.Offset)] = true
	for _, p := range s.report.Partitions {
		if !p.Extended && sig.Offset >= p.Start && sig.Offset < p.Start+p.Size {
			sig.Partition = p.Number
		}
	}
	s.report.Signatures = append(s.report.Signatures, sig)
}

func key(kind string, off int64) string { return fmt.Sprintf("%s@%d", kind, off) }
