package report

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"holmes/triage"
)

// The layers of the reconstructed stack, in the order data flows up.
type layer int

const (
	layerDisk layer = iota
	layerPartition
	layerArray
	layerPV
	layerLV
	layerFS
)

// How a node or an edge takes part in the reconstruction.
const (
	markUsed      = "used"      // read by the reconstruction
	markTrusted   = "trusted"   // the mirror half the reconstruction reads
	markLeftOut   = "leftout"   // a member the reconstruction does not read
	markAmbiguous = "ambiguous" // undecided: no plan, not in the case file
	markError     = "error"     // unreadable, or a filesystem whose root does not open
)

// node is one box of the stack picture. Name and Lines hold text from the
// disks: escape them where they are written.
type node struct {
	Layer layer
	Name  string
	Lines []string
	Mark  string
	Badge string // the mark in words: "trusted half", "left out"

	parents, children []*edge

	X, Y, W, H float64 // layout, in SVG user units
}

// edge is one "is built from" link: a partition into an array, an array
// into a PV, an LV into its filesystem.
type edge struct {
	From, To *node
	Mark     string
	Label    string // "role 0", "role 1, left out"
}

// stack is the reconstructed stack as a graph, nodes in layer order.
type stack struct {
	Nodes []*node
	Edges []*edge
	byKey map[string]*node
}

func (s *stack) add(key string, n *node) *node {
	s.byKey[key] = n
	s.Nodes = append(s.Nodes, n)
	return n
}

func (s *stack) link(from, to *node, mark, label string) {
	e := &edge{From: from, To: to, Mark: mark, Label: label}
	from.children = append(from.children, e)
	to.parents = append(to.parents, e)
	s.Edges = append(s.Edges, e)
}

// partitionSuffix is the ":pN" that names a partition inside a DEV.
var partitionSuffix = regexp.MustCompile(`:p[0-9]+$`)

// find returns the node a DEV names (an LV, an array or a partition), or
// the node of the DEV a partition of it lies in.
func (s *stack) find(dev string) *node {
	for _, d := range []string{dev, partitionSuffix.ReplaceAllString(dev, "")} {
		for _, k := range []string{"lv:", "array:", "part:"} {
			if n := s.byKey[k+d]; n != nil {
				return n
			}
		}
	}
	return nil
}

// buildStack draws the result as disks → partitions → arrays → PVs → LVs →
// filesystems.
func buildStack(r *triage.Result) *stack {
	s := &stack{byKey: map[string]*node{}}
	for _, d := range r.Devices {
		disk := s.add("disk:"+d.Name, &node{Layer: layerDisk, Name: d.Name, Lines: nonEmpty(sizeText(d.Size))})
		if d.Error != "" {
			disk.Lines = append(disk.Lines, "error: "+d.Error)
			disk.Mark, disk.Badge = markError, "unreadable"
		}
		for _, p := range d.Partitions {
			part := s.add("part:"+p.Dev, &node{Layer: layerPartition, Name: p.Dev,
				Lines: nonEmpty(sizeText(p.Size), strings.Join(p.Holds, "; "))})
			s.link(disk, part, "", "")
		}
	}
	for i := range r.Arrays {
		addArray(s, &r.Arrays[i])
	}
	for _, vg := range r.VolumeGroups {
		var pvs []*node
		for _, name := range sortedKeys(vg.PVs) {
			pv := s.add("pv:"+vg.VG+"\x00"+name, &node{Layer: layerPV, Name: name,
				Lines: []string{fmt.Sprintf("PV of VG %s seqno %d", vg.VG, vg.Seqno)}})
			if from := s.find(vg.PVs[name]); from != nil {
				s.link(from, pv, markUsed, "")
			}
			pvs = append(pvs, pv)
		}
		for _, lv := range vg.LVs {
			full := vg.VG + "/" + lv
			n := s.add("lv:"+full, &node{Layer: layerLV, Name: full, Lines: []string{"LV"}})
			for _, pv := range pvs {
				s.link(pv, n, markUsed, "")
			}
		}
	}
	for _, f := range r.Filesystems {
		n := s.add("fs:"+f.Dev, &node{Layer: layerFS, Name: f.Dev, Lines: fsLines(f)})
		switch {
		case f.Superblock == "":
			n.Mark, n.Badge = markError, "did not open"
		case !f.RootOK:
			n.Mark, n.Badge = markError, "root directory unreadable"
		}
		if from := s.find(f.Dev); from != nil {
			s.link(from, n, markUsed, "")
		}
	}
	for _, n := range s.Nodes {
		if n.Layer == layerPartition {
			markMember(n)
		}
	}
	return s
}

// addArray adds an array and links each member to it, marked by whether
// the reconstruction reads it.
func addArray(s *stack, a *triage.Array) {
	n := s.add("array:"+a.Name, &node{Layer: layerArray, Name: a.Name, Lines: nonEmpty(
		strings.Join(nonEmpty(geometry(a.Level, a.Layout, a.ChunkBytes), a.Metadata), " · "),
		fmt.Sprintf("%s, confidence %.2f", a.Source, a.Confidence))})
	members := a.Members
	if a.Ambiguous {
		n.Mark, n.Badge = markAmbiguous, "AMBIGUOUS: no plan"
		if len(members) == 0 {
			members = candidateMembers(a.Candidates)
		}
	}
	trustedHalf := map[string]bool{}
	for _, h := range a.Halves {
		if h.Trust != "" {
			trustedHalf[h.Trust] = true
		}
	}
	for role, m := range members {
		if m == "" {
			continue
		}
		part := s.byKey["part:"+m]
		if nested := s.byKey["array:"+m]; part == nil && nested != n {
			part = nested // an array built from arrays
		}
		if part == nil {
			part = s.add("part:"+m, &node{Layer: layerPartition, Name: m})
		}
		mark, label := markUsed, fmt.Sprintf("role %d", role)
		switch {
		case a.Ambiguous:
			mark, label = markAmbiguous, "candidate member"
		case role < len(a.Trusted) && a.Trusted[role] == "":
			mark, label = markLeftOut, label+", left out"
		case trustedHalf[m]:
			mark, label = markTrusted, label+", trusted half"
		}
		s.link(part, n, mark, label)
	}
}

// candidateMembers is every member some candidate geometry uses, in order
// of first use.
func candidateMembers(cs []triage.Candidate) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cs {
		for _, m := range c.Order {
			if m != "" && !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// markMember marks a partition by its part in the arrays it belongs to:
// trusted beats used beats left out beats a candidate of an ambiguous one.
func markMember(n *node) {
	rank := map[string]int{markAmbiguous: 1, markLeftOut: 2, markUsed: 3, markTrusted: 4}
	badges := map[string]string{markTrusted: "trusted half", markLeftOut: "left out", markAmbiguous: "undecided"}
	for _, e := range n.children {
		if rank[e.Mark] > rank[n.Mark] {
			n.Mark, n.Badge = e.Mark, badges[e.Mark]
		}
	}
}

func fsLines(f triage.Filesystem) []string {
	first := f.Type
	if f.Label != "" {
		first += ` "` + f.Label + `"`
	}
	if f.Superblock == "" { // no superblock read: the note says why
		return nonEmpty(first, f.Note)
	}
	root := "root ok"
	if !f.RootOK {
		root = "ROOT UNREADABLE"
	}
	return []string{first, fmt.Sprintf("%s sb · %s · %d files", f.Superblock, root, f.Files)}
}

func sizeText(n int64) string {
	if n <= 0 {
		return ""
	}
	return iec(n)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
