package mdsolve

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/lvmmeta"
	"holmes/mdraid"
)

// The gate (docs/md-solve.md): a solution is printed with an mdadm
// --create line only when the winner leads every genuinely different
// assembly by at least minLead points and minConfidence of its score, read
// through every filesystem it found, and the members are not a subset of a
// larger array.
const (
	minLead       = 6.0
	minConfidence = 0.15
	// maxCandidates bounds the assemblies listed when ambiguous.
	maxCandidates = 64
)

// gate decides whether r is certain enough to print a create line, and
// fills the candidates, their differences and what would decide.
func (s *solver) gate(r *Result, cands []*candidate) {
	best := cands[0]
	runner := s.runnerUp(cands)
	var why []string
	if s.subset(best) {
		r.Subset = true
		why = append(why, fmt.Sprintf("the members look like a subset of a larger array: the data they carry (a PV or filesystem) is larger than %d members of %s can hold; give every member of the array (e.g. both pairs of a raid10)", len(s.devs), best.geo.Level))
	}
	if best.ev.score <= 0 {
		why = append(why, "nothing in the data speaks for any assembly")
	}
	if len(best.ev.unreadable) > 0 {
		why = append(why, "under the best assembly, "+strings.Join(best.ev.unreadable, ", ")+" do not read through")
	}
	// md superblocks on every member that agree with the best, and not with
	// the runner-up, break a tie in the data: a complete set that agrees
	// is the array's own. Not against a runner-up at another data offset
	// that reads structures of its own (a PV, a filesystem): an installer's
	// superblocks agree with what the installer wrote (a new, empty VG) and
	// must not pick it over the older data there.
	sbDecides := runner != nil && best.sbVotes == len(s.devs) && runner.sbVotes < best.sbVotes &&
		(runner.geo.DataOffset == best.geo.DataOffset || !runner.ev.structures)
	if sbDecides {
		r.Evidence = append(r.Evidence, "the md superblocks on every member agree with this assembly, not with the runner-up: they decide between assemblies the data reads alike")
	}
	if runner != nil && !sbDecides {
		lead := best.ev.score - runner.ev.score
		switch {
		case lead <= 0:
			why = append(why, fmt.Sprintf("a tie: the runner-up scores %.1f like the best", runner.ev.score))
		case lead < minLead || lead < minConfidence*best.ev.score:
			why = append(why, fmt.Sprintf("the best leads the runner-up by %.1f points (%.0f%%); the gate wants %.0f points and %.0f%%", lead, 100*lead/math.Max(best.ev.score, 1e-9), minLead, 100*minConfidence))
		}
	}
	r.Why = why
	r.Ambiguous = len(why) > 0
	r.Candidates = s.listCandidates(cands, r.Ambiguous)
	if runner != nil {
		r.Differences, r.WouldDecide = s.differences(best, runner)
	}
}

// listCandidates: the winner and every genuinely different assembly close
// enough to matter (within minLead when ambiguous), best first.
func (s *solver) listCandidates(cands []*candidate, ambiguous bool) []Candidate {
	var kept []*candidate
	for _, c := range cands {
		if math.IsInf(c.ev.score, -1) || len(kept) >= maxCandidates {
			break
		}
		if len(kept) > 1 && (!ambiguous || c.ev.score < cands[0].ev.score-minLead) {
			break
		}
		if slices.ContainsFunc(kept, func(k *candidate) bool { return s.sameAssembly(k, c) }) {
			continue
		}
		kept = append(kept, c)
	}
	out := make([]Candidate, len(kept))
	for i, c := range kept {
		out[i] = Candidate{Level: c.geo.Level, Layout: c.geo.Layout, ChunkBytes: c.geo.ChunkBytes,
			DataOffset: c.geo.DataOffset, Order: s.names(c.order), Score: math.Round(c.ev.score*10) / 10}
	}
	return out
}

// differences says what separates the best from the runner-up and what
// evidence would decide between them.
func (s *solver) differences(a, b *candidate) (diffs, decide []string) {
	if a.geo.Level != b.geo.Level || a.geo.Layout != b.geo.Layout {
		diffs = append(diffs, fmt.Sprintf("level/layout: %s %s or %s %s", a.geo.Level, a.geo.Layout, b.geo.Level, b.geo.Layout))
		decide = append(decide, "parity checked over stripes holding data of several members; a logged /proc/mdstat or mdadm --detail naming the layout")
	}
	if a.geo.ChunkBytes != b.geo.ChunkBytes {
		diffs = append(diffs, fmt.Sprintf("chunk: %d or %d", a.geo.ChunkBytes, b.geo.ChunkBytes))
		decide = append(decide, fmt.Sprintf("a file or directory longer than %d bytes whose content is known, read through both", min(a.geo.ChunkBytes, b.geo.ChunkBytes)))
	}
	if a.geo.DataOffset != b.geo.DataOffset {
		diffs = append(diffs, fmt.Sprintf("data offset: %d or %d", a.geo.DataOffset, b.geo.DataOffset))
		decide = append(decide, "where the PV label or filesystem superblock starts on the member holding the array's first chunk")
	}
	var roles []string
	for r := range a.order {
		if r < len(b.order) && s.groupOf(a.order[r]) != s.groupOf(b.order[r]) {
			roles = append(roles, fmt.Sprintf("role %d: %s or %s", r, s.name(a.order[r]), s.name(b.order[r])))
		}
	}
	if len(roles) > 0 {
		diffs = append(diffs, "member order: "+strings.Join(roles, "; "))
		decide = append(decide, "data in stripes where those members hold different roles: files or directories of a filesystem spanning those chunks, a file whose content is known (compare it read through each candidate with holmes ext cat), or the members' original order from a log, a label or the cabling")
	}
	return diffs, decide
}

func (s *solver) name(dev int) string {
	if dev < 0 {
		return "missing"
	}
	return s.devs[dev].Name()
}

// subset: the members are all copies of each other (raid1), yet a PV label
// or a filesystem on them claims more bytes than one member holds: they
// are part of a larger array (the two halves of one raid10 pair, say).
func (s *solver) subset(best *candidate) bool {
	if best.geo.Level != "raid1" {
		return false
	}
	member := s.devs[0].Size()
	for _, d := range s.devs {
		member = min(member, d.Size())
	}
	for _, a := range s.scan.anchors {
		d := s.devs[a.holders[0]]
		switch {
		case a.what == "PV label":
			start := a.offset - a.at
			pv, err := blockdev.Slice(d, start, d.Size()-start, d.Name())
			if err != nil {
				continue
			}
			if l, err := lvmmeta.ReadLabel(pv, pv.Size()); err == nil && l.DeviceSize > member {
				return true
			}
		case a.fs != "" && a.at == 1024:
			if sb, err := ext.ReadSuperblock(d, a.offset); err == nil && sb.Size() > member {
				return true
			}
		}
	}
	return false
}

// inferSize: when the PV on the array records fewer bytes than the solved
// geometry gives, the array was created with --size; the per-member size
// is the PV's share, rounded up to the chunk. 0 when nothing shows it.
func (s *solver) inferSize(best *candidate) int64 {
	pv := best.ev.pvSize
	g := best.geo
	if pv <= 0 || g.DataSize <= 0 {
		return 0
	}
	arr, err := mdraid.Open(g, s.membersOf(best.order), "size probe")
	if err != nil || pv >= arr.Size() {
		return 0
	}
	unit := max(g.ChunkBytes, 64<<10)
	per := (pv*g.DataSize/arr.Size() + unit - 1) / unit * unit
	if per >= g.DataSize/unit*unit {
		return 0
	}
	return per
}

// membersOf is the devices of an order (nil where missing).
func (s *solver) membersOf(order []int) []blockdev.Device {
	members := make([]blockdev.Device, len(order))
	for r, i := range order {
		if i >= 0 {
			members[r] = s.devs[i]
		}
	}
	return members
}
