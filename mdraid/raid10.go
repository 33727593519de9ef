package mdraid

import "fmt"

// raid10 follows the kernel's raid10 mapping: chunks are laid out as in
// raid0 with near copies of each on adjacent members; far copies repeat the
// whole pattern in later sections of every member (or, with the offset
// layout, in the next stripe), shifted by near members.
type raid10 struct {
	l          raid10Layout
	disks      int
	chunk      int64
	stride     int64 // distance on a member between far copies
	farSetSize int
	arraySize  int64
}

func newRaid10(g Geometry) (*raid10, error) {
	l, err := parseRaid10Layout(g.Layout)
	if err != nil {
		return nil, err
	}
	r := &raid10{l: l, disks: g.RaidDisks, chunk: g.ChunkBytes, farSetSize: g.RaidDisks}
	switch l.farSets {
	case 1:
		r.farSetSize = g.RaidDisks / l.far
	case 2:
		r.farSetSize = l.far * l.near
	}
	// Chunks the array holds, and the chunks each member uses (kernel calc_sectors).
	chunks := g.DataSize / r.chunk / int64(l.far) * int64(r.disks) / int64(l.near)
	r.arraySize = chunks * r.chunk
	perDev := (chunks*int64(l.copies()) + int64(r.disks) - 1) / int64(r.disks)
	if l.offset {
		r.stride = r.chunk
	} else {
		r.stride = perDev / int64(l.far) * r.chunk
	}
	if r.arraySize <= 0 {
		return nil, fmt.Errorf("raid10: members of %d bytes hold no whole chunk", g.DataSize)
	}
	return r, nil
}

func (r *raid10) size() int64 { return r.arraySize }

func (r *raid10) locate(off int64) ([]place, int64) {
	chunk := off / r.chunk * int64(r.l.near)
	inChunk := off % r.chunk
	stripe := chunk / int64(r.disks)
	dev := int(chunk % int64(r.disks))
	if r.l.offset {
		stripe *= int64(r.l.far)
	}
	sector := stripe*r.chunk + inChunk

	lastSetStart := (r.disks/r.farSetSize - 1) * r.farSetSize
	lastSetSize := r.farSetSize + r.disks%r.farSetSize
	places := make([]place, 0, r.l.copies())
	for n := 0; n < r.l.near; n++ {
		d, s := dev, sector
		places = append(places, place{d, s})
		for f := 1; f < r.l.far; f++ {
			set := d / r.farSetSize
			d += r.l.near
			if r.disks%r.farSetSize != 0 && d > lastSetStart {
				d = (d-lastSetStart)%lastSetSize + lastSetStart
			} else {
				d = d%r.farSetSize + r.farSetSize*set
			}
			s += r.stride
			places = append(places, place{d, s})
		}
		dev++
		if dev >= r.disks {
			dev = 0
			sector += r.chunk
		}
	}
	return places, r.chunk - inChunk
}
