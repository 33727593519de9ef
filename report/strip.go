package report

import (
	"sort"
	"strings"

	"holmes/triage"
)

// pairView is one set of mirror halves with where they differ, laid along
// the first member.
type pairView struct {
	Members   []string
	Trust     string
	Why       []string
	DiffBytes int64
	Length    int64 // bytes of the member the strip spans
	Regions   []triage.Divergence
}

// stripW is the width of a strip in SVG user units: divergent regions that
// fall within one unit are drawn as one mark, so a strip's size stays
// bounded however many regions there are.
const stripW = 720.0

// span is a run of the strip where the halves differ somewhere.
type span struct {
	X, W       float64
	Start, End int64 // the bytes of the member the run covers
	Regions    int
}

// pairs matches an array's divergent regions to its mirror halves; regions
// of members no halves name make a pair of their own, so that none goes
// unshown.
func pairs(r *triage.Result, a *triage.Array) []pairView {
	var out []pairView
	matched := make([]bool, len(a.Divergence))
	add := func(p pairView) {
		for i, d := range a.Divergence {
			if !matched[i] && sameMembers(p.Members, d.A, d.B) {
				p.Regions = append(p.Regions, d)
				matched[i] = true
			}
		}
		if len(p.Members) > 0 {
			p.Length = memberLength(r, a, p.Members[0])
		}
		for _, d := range p.Regions {
			p.Length = max(p.Length, d.End)
		}
		out = append(out, p)
	}
	for _, h := range a.Halves {
		add(pairView{Members: h.Members, Trust: h.Trust, Why: h.Why, DiffBytes: h.DiffBytes})
	}
	for i, d := range a.Divergence {
		if !matched[i] {
			add(pairView{Members: []string{d.A, d.B}})
		}
	}
	return out
}

func sameMembers(members []string, a, b string) bool {
	has := func(m string) bool {
		for _, x := range members {
			if x == m {
				return true
			}
		}
		return false
	}
	return has(a) && has(b)
}

// memberLength is the size of the partition a member is, or the array's
// data end on it when the partition is unknown.
func memberLength(r *triage.Result, a *triage.Array, member string) int64 {
	for _, d := range r.Devices {
		for _, p := range d.Partitions {
			if p.Dev == member {
				return p.Size
			}
		}
	}
	return a.DataOffset + a.DataSize
}

// Spans merges the regions into runs at most one unit apart on a strip of
// width units; Start/End are the covered bytes.
func (p pairView) Spans(width float64) []span {
	if p.Length <= 0 {
		return nil
	}
	regions := append([]triage.Divergence(nil), p.Regions...)
	sort.Slice(regions, func(i, j int) bool { return regions[i].Start < regions[j].Start })
	scale := width / float64(p.Length)
	var out []span
	for _, d := range regions {
		start, end := max(d.Start, 0), min(d.End, p.Length)
		if end <= start {
			continue
		}
		x0, x1 := float64(start)*scale, max(float64(end)*scale, float64(start)*scale+1)
		if n := len(out); n > 0 && x0 <= out[n-1].X+out[n-1].W+1 {
			last := &out[n-1]
			last.W = max(last.W, x1-last.X)
			last.End = max(last.End, end)
			last.Regions++
			continue
		}
		out = append(out, span{X: x0, W: x1 - x0, Start: start, End: end, Regions: 1})
	}
	return out
}

// Text is the strip in characters: '#' where the halves differ.
func (p pairView) Text(width int) string {
	cells := []byte(strings.Repeat(".", width))
	for _, s := range p.Spans(float64(width)) {
		for i := int(s.X); i < int(s.X+s.W+0.999) && i < width; i++ {
			cells[i] = '#'
		}
	}
	return string(cells)
}

// Ticks are the strip's scale marks: position and byte offset.
func (p pairView) Ticks() []tick {
	var out []tick
	for i := 0; i <= 4; i++ {
		t := tick{X: stripW * float64(i) / 4, Label: iec(int64(float64(p.Length) * float64(i) / 4)), Anchor: "middle"}
		switch i {
		case 0:
			t.Anchor = "start"
		case 4:
			t.Anchor = "end"
		}
		out = append(out, t)
	}
	return out
}

type tick struct {
	X      float64
	Label  string
	Anchor string // SVG text-anchor, so that the end labels stay inside
}

// Differ says whether the halves differ at all.
func (p pairView) Differ() bool { return p.DiffBytes > 0 || len(p.Regions) > 0 }

// TrustText names the half the reconstruction reads.
func (p pairView) TrustText() string {
	switch {
	case p.Trust != "":
		return p.Trust
	case !p.Differ():
		return "either (identical)"
	}
	return "none chosen"
}
