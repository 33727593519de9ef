package mdraid

import (
	"fmt"
	"sort"
)

// raid0 stripes chunks over its members. Members of unequal size form
// zones, as the kernel's raid0 builds them: zone 0 stripes over every
// member up to the smallest one's end, the next zone over the members that
// are larger, and so on.
type raid0 struct {
	chunk     int64
	zones     []zone
	alternate bool // RAID0_ALT_MULTIZONE_LAYOUT: member chosen by zone-relative chunk
}

type zone struct {
	start, end int64 // array bytes
	devStart   int64 // where the zone begins on each of its members
	members    []int // roles, in role order
}

func newRaid0(g Geometry, sizes []int64, alternate bool) (*raid0, error) {
	r := &raid0{chunk: g.ChunkBytes, alternate: alternate}
	rounded := make([]int64, len(sizes))
	for i, s := range sizes {
		rounded[i] = s / g.ChunkBytes * g.ChunkBytes
		if rounded[i] <= 0 {
			return nil, fmt.Errorf("raid0: member %d has no whole chunk of data (%d bytes)", i, s)
		}
	}
	ends := append([]int64(nil), rounded...)
	sort.Slice(ends, func(i, j int) bool { return ends[i] < ends[j] })
	var arrayPos, devPos int64
	for _, end := range ends {
		if end <= devPos {
			continue
		}
		z := zone{start: arrayPos, devStart: devPos}
		for i, s := range rounded {
			if s > devPos {
				z.members = append(z.members, i)
			}
		}
		arrayPos += (end - devPos) * int64(len(z.members))
		z.end = arrayPos
		devPos = end
		r.zones = append(r.zones, z)
	}
	return r, nil
}

func (r *raid0) size() int64 { return r.zones[len(r.zones)-1].end }

func (r *raid0) locate(off int64) ([]place, int64) {
	z := r.zones[sort.Search(len(r.zones), func(i int) bool { return r.zones[i].end > off })]
	inZone := off - z.start
	n := int64(len(z.members))
	selector := off // the kernel's original layout picks the member by the absolute chunk
	if r.alternate {
		selector = inZone
	}
	member := z.members[selector/r.chunk%n]
	devOff := z.devStart + inZone/(r.chunk*n)*r.chunk + off%r.chunk
	return []place{{member, devOff}}, r.chunk - off%r.chunk
}

// linear concatenates its members in role order (each rounded down to
// the chunk, when one is set, as the kernel's linear does).
type linear struct {
	ends []int64 // array offset where each member's data ends
}

func newLinear(g Geometry, sizes []int64) (*linear, error) {
	l := &linear{}
	var pos int64
	for i, s := range sizes {
		if g.ChunkBytes > 0 {
			s = s / g.ChunkBytes * g.ChunkBytes
		}
		if s <= 0 {
			return nil, fmt.Errorf("linear: member %d has no data (%d bytes)", i, s)
		}
		pos += s
		l.ends = append(l.ends, pos)
	}
	return l, nil
}

func (l *linear) size() int64 { return l.ends[len(l.ends)-1] }

func (l *linear) locate(off int64) ([]place, int64) {
	i := sort.Search(len(l.ends), func(i int) bool { return l.ends[i] > off })
	start := int64(0)
	if i > 0 {
		start = l.ends[i-1]
	}
	return []place{{i, off - start}}, l.ends[i] - off
}

// raid1 keeps a whole copy on every member.
type raid1 struct {
	n   int
	dev int64
}

func (r raid1) size() int64 { return r.dev }

func (r raid1) locate(off int64) ([]place, int64) {
	places := make([]place, r.n)
	for i := range places {
		places[i] = place{i, off}
	}
	return places, r.dev - off
}
