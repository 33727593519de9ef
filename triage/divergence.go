package triage

import (
	"holmes/blockdev"
	"holmes/ext"
	"holmes/trace"
)

// maxTraced bounds the divergent regions traced per run: each is followed
// through every layer, and a pair of halves that differ everywhere would
// otherwise trace the whole disk.
const maxTraced = 1024

// traceDivergence says, for every region where mirror halves differ, what
// it holds at the top of the reconstructed stack: the file and its path,
// the inode table of group N, the LVM metadata area.
func (t *Triage) traceDivergence() {
	s := t.stack()
	var ranges []trace.Range
	var where []*Divergence
	for _, a := range t.arrays {
		for i := range a.res.Divergence {
			d := &a.res.Divergence[i]
			if len(ranges) == maxTraced {
				t.warn("more than %d divergent regions: the rest are not traced", maxTraced)
				break
			}
			ranges = append(ranges, trace.Range{Dev: d.A, Offset: d.Start, Length: d.End - d.Start})
			where = append(where, d)
		}
	}
	if len(ranges) == 0 {
		return
	}
	steps, err := s.TraceAll(ranges)
	if err != nil {
		t.warn("tracing the divergent regions: %v", err)
		return
	}
	for i, st := range steps {
		where[i].Touches = topTouches(st)
	}
}

// topTouches keeps, of a range's steps, those of the highest layer each
// piece reached: what the bytes mean to the user.
func topTouches(steps []trace.Step) []Touch {
	rank := map[string]int{"": 0, "partition": 1, "md": 2, "lvm": 3, "ext": 4}
	top := 0
	for _, s := range steps {
		top = max(top, rank[s.Layer])
	}
	var out []Touch
	seen := map[Touch]bool{}
	for _, s := range steps {
		if rank[s.Layer] != top {
			continue
		}
		tc := Touch{Layer: s.Dev, What: s.What, Path: s.Path}
		if !seen[tc] {
			seen[tc] = true
			out = append(out, tc)
		}
	}
	return out
}

// stack describes what triage established for trace: every member of each
// array (stale halves too, so their bytes can be placed), the chosen VGs,
// and for a device holding two filesystems, the one with more files.
func (t *Triage) stack() *trace.Stack {
	s := &trace.Stack{
		Open:        func(name string) (blockdev.Device, error) { return blockdev.Open(name, t) },
		Superblocks: map[string]int64{},
	}
	for _, a := range t.arrays {
		if a.dev == nil {
			continue
		}
		s.Arrays = append(s.Arrays, trace.Array{Name: a.res.Name, Geometry: a.geom, Members: a.res.Members, Metadata: a.res.Metadata})
	}
	for _, g := range t.vgs {
		s.VGs = append(s.VGs, trace.VG{VG: g.vg, PVs: g.res.PVs})
	}
	for dev, m := range t.mainFS {
		if m.choice != ext.SuperblockAuto {
			s.Superblocks[dev] = m.choice
		}
	}
	return s
}
