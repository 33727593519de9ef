package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// The stack picture's geometry, in SVG user units (pixels at 100 %).
const (
	margin      = 12.0
	diskW       = 210.0 // a disk box, with its partitions inside
	partInset   = 10.0
	boxW        = 200.0
	columnGap   = 70.0
	rowGap      = 8.0
	lineH       = 13.0
	legendH     = 36.0
	nameRunes   = 25 // what fits on a box's first line at 12px
	detailRunes = 32 // ... and on a detail line at 10px
)

// boxHeight is a node's height for its name and the details shown.
func boxHeight(n *node) float64 {
	lines := min(len(n.Lines), n.detailsShown())
	if n.Badge != "" {
		lines++
	}
	return 12 + lineH*float64(1+lines)
}

// layout places every node: disks in the first column with their
// partitions inside, then one column per further layer, each box as near
// the middle of the boxes it is built from as the boxes above it allow.
// It returns the picture's width and height.
func (s *stack) layout() (w, h float64) {
	y := margin
	var orphans []*node
	for _, n := range s.Nodes {
		switch {
		case n.Layer == layerDisk:
			n.X, n.Y, n.W = margin, y, diskW
			// The disk's own lines head its box; its partitions follow.
			inner := y + boxHeight(n)
			for _, e := range n.children {
				p := e.To
				p.X, p.Y, p.W, p.H = margin+partInset, inner, diskW-2*partInset, boxHeight(p)
				inner += p.H + rowGap
			}
			n.H = max(inner-y, boxHeight(n)+rowGap)
			y += n.H + rowGap
		case n.Layer == layerPartition && len(n.parents) == 0:
			orphans = append(orphans, n)
		}
	}
	for _, n := range orphans {
		n.X, n.Y, n.W, n.H = margin, y, diskW, boxHeight(n)
		y += n.H + rowGap
	}
	w, h = margin+diskW, y
	x := margin + diskW + columnGap
	for _, l := range []layer{layerArray, layerPV, layerLV, layerFS} {
		column := s.column(l)
		if len(column) == 0 {
			continue
		}
		cursor := margin
		for _, n := range column {
			n.X, n.W, n.H = x, boxW, boxHeight(n)
			n.Y = max(cursor, parentsMiddle(n, math.Inf(1))-n.H/2)
			if math.IsInf(n.Y, 1) {
				n.Y = cursor
			}
			cursor = n.Y + n.H + rowGap
		}
		w, h = x+boxW, max(h, cursor)
		x += boxW + columnGap
	}
	return w + margin, h + legendH
}

// column is one layer's nodes ordered by where their parents are, so that
// links cross as little as they can; nodes without parents go last.
func (s *stack) column(l layer) []*node {
	var out []*node
	for _, n := range s.Nodes {
		if n.Layer == l {
			out = append(out, n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return parentsMiddle(out[i], math.Inf(1)) < parentsMiddle(out[j], math.Inf(1))
	})
	return out
}

// parentsMiddle is the mean of the vertical middles of n's parents, or
// none when it has none.
func parentsMiddle(n *node, none float64) float64 {
	if len(n.parents) == 0 {
		return none
	}
	sum := 0.0
	for _, e := range n.parents {
		sum += e.From.Y + e.From.H/2
	}
	return sum / float64(len(n.parents))
}

// path is an edge as a cubic curve from the right of its source to the
// left of its target.
func (e *edge) Path() string {
	x1, y1 := e.From.X+e.From.W, e.From.Y+e.From.H/2
	x2, y2 := e.To.X, e.To.Y+e.To.H/2
	mid := (x1 + x2) / 2
	return fmt.Sprintf("M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f", x1, y1, mid, y1, mid, y2, x2, y2)
}

// svgText is one line of text in a box.
type svgText struct {
	X, Y  float64
	Class string
	Text  string
}

// Texts are the lines a box shows: its name, up to detailsShown details
// and its mark, each clipped to the box (the box's tooltip has them whole).
func (n *node) Texts() []svgText {
	x, y := n.X+8, n.Y+17
	out := []svgText{{x, y, "name", clip(n.Name, nameRunes)}}
	for i, l := range n.Lines {
		if i == n.detailsShown() {
			break
		}
		y += lineH
		out = append(out, svgText{x, y, "detail", clip(l, detailRunes)})
	}
	if n.Badge != "" {
		y += lineH
		out = append(out, svgText{x, y, "badge", clip(n.Badge, detailRunes)})
	}
	return out
}

// detailsShown is how many detail lines a box shows: a partition shows
// its size only (the disks table has what it holds), so that ten disks fit
// on a screen.
func (n *node) detailsShown() int {
	if n.Layer == layerPartition {
		return 1
	}
	return 2
}

// Tooltip is everything a box says, unclipped.
func (n *node) Tooltip() string {
	all := append([]string{n.Name}, n.Lines...)
	return strings.Join(nonEmpty(append(all, n.Badge)...), "\n")
}

// Class is the box's CSS classes: its layer and its mark.
func (n *node) Class() string {
	return strings.TrimSpace("node " + layerNames[n.Layer] + " " + n.Mark)
}

var layerNames = map[layer]string{layerDisk: "disk", layerPartition: "part", layerArray: "array",
	layerPV: "pv", layerLV: "lv", layerFS: "fs"}
