// Package compare finds how two devices differ, byte for byte, at the speed
// of the storage: the mirror-pair checks an operator would otherwise do with
// cmp and `cmp -l | wc -l`, plus piecewise hash manifests for copies that
// live on different machines and sampling to find mirror pairs among many
// devices without comparing every pair in full.
//
// Inputs are only read, through io.ReaderAt.
package compare

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"sync"

	"holmes/blockdev"
)

// Defaults for Options.
const (
	// DefaultChunkSize is the size of one read on each side. Two 1 MiB
	// buffers fit a core's L2 cache, so the comparison reads what the copy
	// from the page cache just wrote; on disks 1 MiB reads stream at full speed.
	DefaultChunkSize = 1 << 20
	// DefaultWorkers is the number of chunks in flight. Each worker reads
	// both sides concurrently, so two workers keep two reads queued per disk.
	DefaultWorkers = 2
)

// Options selects the bytes compared and tunes the reading. Length bytes from
// StartA in A are compared with Length bytes from StartB in B; all offsets
// reported are offsets in A.
type Options struct {
	StartA, StartB, Length int64
	ChunkSize              int // bytes per read on each side; DefaultChunkSize if 0
	Workers                int // chunks compared in parallel; DefaultWorkers if 0
	MaxRegions             int // bound on the region list; DefaultMaxRegions if 0
	// Progress, if set, is called after each chunk with the bytes compared so far.
	Progress func(done, total int64)
}

// Result says how the compared ranges differ.
type Result struct {
	Compared  int64  `json:"compared_bytes"`
	FirstDiff *int64 `json:"first_diff"` // offset in A of the first differing byte; nil if none
	DiffBytes int64  `json:"diff_bytes"`
	// DiffBlocks counts the 4 KiB blocks (aligned in A) holding a difference.
	DiffBlocks int64 `json:"diff_blocks"`
	// Regions are runs of differing blocks, clipped to the compared range.
	// Runs separated by at most RegionGap bytes are merged; the gap grows
	// beyond 0 only when there would be more than MaxRegions regions.
	Regions   []Region `json:"regions"`
	RegionGap int64    `json:"region_gap"`
	// Unreadable are the ranges a side could not read (a ddrescue gap, a
	// region a collection did not keep), each in its own device's offsets.
	// Their bytes are neither equal nor differing: they count in no other
	// field. UnreadableBytes counts the bytes of A whose comparison they
	// prevented.
	Unreadable      []Unreadable `json:"unreadable"`
	UnreadableBytes int64        `json:"unreadable_bytes"`
}

// Unreadable is a byte range [Start, End) of Device that could not be read.
type Unreadable struct {
	Device string `json:"device"`
	Start  int64  `json:"start"`
	End    int64  `json:"end"`
	Why    string `json:"why"`
}

// Ranges compares Length bytes of a from StartA with those of b from StartB.
func Ranges(a, b blockdev.Device, opt Options) (*Result, error) {
	if opt.StartA < 0 || opt.StartB < 0 || opt.Length < 0 ||
		opt.StartA > a.Size()-opt.Length || opt.StartB > b.Size()-opt.Length {
		return nil, fmt.Errorf("compare: range %d+%d of %s (size %d) against %d+%d of %s (size %d) lies outside a device",
			opt.StartA, opt.Length, a.Name(), a.Size(), opt.StartB, opt.Length, b.Name(), b.Size())
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = DefaultChunkSize
	}
	opt.ChunkSize = (opt.ChunkSize + BlockSize - 1) &^ (BlockSize - 1)
	if opt.Workers <= 0 {
		opt.Workers = DefaultWorkers
	}
	if opt.MaxRegions <= 0 {
		opt.MaxRegions = DefaultMaxRegions
	}
	s := newSchedule(opt)
	results := make([]chan chunkResult, opt.Workers)
	done := make(chan struct{})
	defer close(done)
	for w := range results {
		results[w] = make(chan chunkResult, 2)
		go s.work(w, a, b, results[w], done)
	}
	res := &Result{Compared: opt.Length, Unreadable: []Unreadable{}}
	regions := regionList{max: opt.MaxRegions}
	delta := opt.StartB - opt.StartA
	var compared int64
	for k := int64(0); k < s.chunks; k++ {
		c := <-results[k%int64(opt.Workers)]
		if c.err != nil {
			return nil, c.err
		}
		if c.first >= 0 && res.FirstDiff == nil {
			first := c.first
			res.FirstDiff = &first
		}
		res.DiffBytes += c.diffBytes
		res.DiffBlocks += c.diffBlocks
		for _, r := range c.runs {
			regions.add(r)
		}
		res.addUnreadable(a.Name(), c.holesA)
		res.addUnreadable(b.Name(), c.holesB)
		res.UnreadableBytes += covered(c.holesA, c.holesB, delta)
		compared += c.end - c.start
		if opt.Progress != nil {
			opt.Progress(compared, opt.Length)
		}
	}
	res.Regions = regions.regions
	if res.Regions == nil {
		res.Regions = []Region{}
	}
	res.RegionGap = regions.gap
	return res, nil
}

// schedule cuts the compared range into chunks aligned in A, so that reads
// are aligned and no 4 KiB block straddles two chunks.
type schedule struct {
	opt    Options
	base   int64 // StartA rounded down to a chunk boundary
	chunks int64
}

func newSchedule(opt Options) schedule {
	cs := int64(opt.ChunkSize)
	base := opt.StartA - opt.StartA%cs
	end := opt.StartA + opt.Length
	return schedule{opt: opt, base: base, chunks: (end - base + cs - 1) / cs}
}

// bounds returns chunk k as a range of A.
func (s schedule) bounds(k int64) (start, end int64) {
	cs := int64(s.opt.ChunkSize)
	start = max(s.opt.StartA, s.base+k*cs)
	end = min(s.opt.StartA+s.opt.Length, s.base+(k+1)*cs)
	return start, end
}

// chunkResult is what one chunk contributed, in A's offsets.
type chunkResult struct {
	start, end int64
	first      int64 // -1 if the chunk is identical
	diffBytes  int64
	diffBlocks int64
	runs       []Region
	// holesA and holesB are what each side could not read, in its own
	// offsets, and why.
	holesA, holesB []blockdev.Hole
	err            error
}

// work compares chunks w, w+W, w+2W... and sends their results in order.
func (s schedule) work(w int, a, b blockdev.Device, out chan<- chunkResult, done <-chan struct{}) {
	bufA := make([]byte, s.opt.ChunkSize)
	bufB := make([]byte, s.opt.ChunkSize)
	delta := s.opt.StartB - s.opt.StartA
	for k := int64(w); k < s.chunks; k += int64(s.opt.Workers) {
		start, end := s.bounds(k)
		n := int(end - start)
		c := chunkResult{start: start, end: end}
		var errB error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.holesB, errB = readAround(b, bufB[:n], start+delta)
		}()
		c.holesA, c.err = readAround(a, bufA[:n], start)
		wg.Wait()
		if c.err == nil {
			c.err = errB
		}
		if c.err == nil {
			// What one side cannot read is compared as equal here and
			// reported apart: zero it on both sides.
			for _, h := range c.holesA {
				clear(bufB[h.Off-start : h.End()-start])
			}
			for _, h := range c.holesB {
				clear(bufA[h.Off-delta-start : h.End()-delta-start])
			}
			c.diffChunk(bufA[:n], bufB[:n])
		}
		select {
		case out <- c:
		case <-done:
			return
		}
		if c.err != nil {
			return
		}
	}
}

// diffChunk fills c from the chunk's bytes, block by block.
func (c *chunkResult) diffChunk(a, b []byte) {
	c.first = -1
	for off := c.start; off < c.end; {
		next := min(c.end, off-off%BlockSize+BlockSize)
		i, j := off-c.start, next-c.start
		d := diffBytes(a[i:j], b[i:j])
		if d.count > 0 {
			if c.first < 0 {
				c.first = off + int64(d.first)
			}
			c.diffBytes += int64(d.count)
			c.diffBlocks++
			if n := len(c.runs); n > 0 && c.runs[n-1].End == off {
				c.runs[n-1].End = next
			} else {
				c.runs = append(c.runs, Region{Start: off, End: next})
			}
		}
		off = next
	}
}

// readAround reads p at off of d, past unreadable ranges, and returns them
// each with the reason the device gives for it.
func readAround(d blockdev.Device, p []byte, off int64) ([]blockdev.Hole, error) {
	extents, err := blockdev.ReadAround(d, p, off)
	if err != nil {
		return nil, fmt.Errorf("compare: read of %d bytes at %d of %s: %w", len(p), off, d.Name(), err)
	}
	holes := make([]blockdev.Hole, len(extents))
	for i, e := range extents {
		holes[i].Extent = e
		_, err := d.ReadAt(make([]byte, 1), e.Off)
		if u, ok := blockdev.AsUnreadable(err); ok {
			holes[i].Why = u.Why
		}
	}
	return holes, nil
}

// addUnreadable appends holes of dev, merging one that continues the last.
func (r *Result) addUnreadable(dev string, holes []blockdev.Hole) {
	for _, h := range holes {
		if k := len(r.Unreadable); k > 0 {
			last := &r.Unreadable[k-1]
			if last.Device == dev && last.End == h.Off && last.Why == h.Why {
				last.End = h.End()
				continue
			}
		}
		r.Unreadable = append(r.Unreadable, Unreadable{dev, h.Off, h.End(), h.Why})
	}
}

// covered counts the bytes of A in holesA or in holesB (B's offsets, delta
// past A's); each list is sorted and disjoint.
func covered(holesA, holesB []blockdev.Hole, delta int64) int64 {
	var all []blockdev.Extent
	for _, h := range holesA {
		all = append(all, h.Extent)
	}
	for _, h := range holesB {
		all = append(all, blockdev.Extent{Off: h.Off - delta, Len: h.Len})
	}
	slices.SortFunc(all, func(x, y blockdev.Extent) int { return cmp.Compare(x.Off, y.Off) })
	var n, at int64
	for _, h := range all {
		if s := max(h.Off, at); h.End() > s {
			n += h.End() - s
		}
		at = max(at, h.End())
	}
	return n
}

func readFull(d blockdev.Device, p []byte, off int64) error {
	n, err := d.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("compare: read of %d bytes at %d of %s: %w", len(p), off, d.Name(), err)
}
