package report

import (
	"strings"
)

// tree draws the stack as text: every node built from exactly one other
// sits under it; a node built from several (an array from its members, an
// LV from a VG's PVs) starts a tree of its own, and each of its parts names
// it with an arrow. Names are not escaped: the caller puts the tree in a
// code block.
func (s *stack) tree() []string {
	var lines []string
	for _, n := range s.Nodes {
		if len(n.parents) != 1 {
			lines = append(lines, nodeText(n))
			lines = s.subtree(lines, n, "")
		}
	}
	return lines
}

func (s *stack) subtree(lines []string, n *node, indent string) []string {
	for i, e := range n.children {
		branch, next := "├── ", "│   "
		if i == len(n.children)-1 {
			branch, next = "└── ", "    "
		}
		if len(e.To.parents) != 1 {
			ref := "→ " + e.To.Name
			if e.Label != "" {
				ref += " (" + e.Label + ")"
			}
			lines = append(lines, indent+branch+ref)
			continue
		}
		lines = append(lines, indent+branch+nodeText(e.To))
		lines = s.subtree(lines, e.To, indent+next)
	}
	return lines
}

// nodeText is a node in one line: name, details, and its mark in capitals
// so that it stands out in plain text.
func nodeText(n *node) string {
	parts := []string{n.Name}
	for _, l := range n.Lines {
		parts = append(parts, l)
	}
	text := strings.Join(parts, "  ")
	if n.Badge != "" {
		text += "  [" + strings.ToUpper(n.Badge) + "]"
	}
	if len(n.parents) > 1 && n.Layer != layerArray {
		var from []string
		for _, e := range n.parents {
			from = append(from, e.From.Name)
		}
		text += "  ← " + strings.Join(from, ", ")
	}
	return text
}
