package mdsolve

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"holmes/blockdev"
	"holmes/mdraid"
)

// anchor is a structure found on the members whose place in the array its
// own content tells: a PV label sits in sector 1 of the array, an LVM
// metadata area where the label says, a partition table in sector 0, a
// GPT header at the LBA it records, an ext superblock copy of group g and
// the group descriptor table after it at fixed offsets from the start of
// its filesystem, an ext4 inode where its group's inode table puts the
// number its checksum names. Under a candidate
// geometry, the member holding it must hold the role that geometry gives
// that array offset: anchors solve the order before any assembly is read.
type anchor struct {
	what   string
	offset int64 // on the members
	// holders are the members holding these bytes at offset: the one with
	// the data and, where the rest of its stripe is zero, the one with the
	// parity (P of one chunk and zero chunks is that chunk; so is Q for the
	// first data slot).
	holders []int
	// fs is the ext UUID when at is relative to that filesystem's start,
	// "" when at is an array offset.
	fs string
	at int64
	// share is what the anchor weighs, 0 standing for 1: the copies of
	// one block found in several places (the journal's, besides the
	// table's) share one anchor's weight.
	share float64
}

// weight is what a fits for: its share, or 1.
func (a anchor) weight() float64 {
	if a.share > 0 {
		return a.share
	}
	return 1
}

// addAnchor notes that member m holds a at a.offset, merging with the same
// structure seen on other members at the same offset.
func (s *memberScan) addAnchor(a anchor, m int) {
	for i := range s.anchors {
		b := &s.anchors[i]
		if b.offset == a.offset && b.fs == a.fs && b.at == a.at && b.what == a.what {
			if !slices.Contains(b.holders, m) {
				b.holders = append(b.holders, m)
			}
			return
		}
	}
	if len(s.anchors) >= maxAnchors {
		return
	}
	a.holders = []int{m}
	s.anchors = append(s.anchors, a)
}

// maxAnchors bounds the anchors kept (a few per filesystem are plenty).
const maxAnchors = 4096

// extCopyOffset is where the superblock copy of group g sits in its
// filesystem: 1024 for the primary, the first block of group g otherwise.
func extCopyOffset(group, firstDataBlock, blocksPerGroup uint32, blockSize int) int64 {
	if group == 0 {
		return 1024
	}
	return (int64(firstDataBlock) + int64(group)*int64(blocksPerGroup)) * int64(blockSize)
}

// roleFit is what the anchors say about one geometry.
type roleFit struct {
	fit    float64     // anchors that sit where the geometry puts them
	misfit float64     // anchors that cannot sit where they were found under it
	w      [][]float64 // [member][role]: support for the member holding the role
	fixed  int         // anchors that placed a member (constrain the order)
	// placed: each anchor that fits, with the role the geometry gives it.
	placed []placement
}

// placement is an anchor that fits a geometry: its holders, and the role
// holding its array offset.
type placement struct {
	what    string
	holders []int
	role    int
}

// fitAnchors places every anchor under geometry g: an absolute one at its
// array offset, a filesystem's copies at the one filesystem start that most
// of them agree on. Each anchor that fits supports its holders in the data
// role the geometry gives it (and, when several members hold it, in the
// stripe's parity roles too).
func (s *solver) fitAnchors(g mdraid.Geometry) *roleFit {
	n := g.RaidDisks
	f := &roleFit{w: make([][]float64, len(s.devs))}
	for i := range f.w {
		f.w[i] = make([]float64, n)
	}
	members := make([]blockdev.Device, n)
	for i := range members {
		members[i] = s.devs[i%len(s.devs)]
	}
	arr, err := mdraid.Open(g, members, "anchor probe")
	if err != nil {
		return f
	}
	place := func(a anchor, at int64) bool {
		ao := a.offset - g.DataOffset
		if at < 0 || at >= arr.Size() || ao < 0 {
			return false
		}
		role, off, p, q := arr.Locate(at)
		if off != ao {
			return false
		}
		f.placed = append(f.placed, placement{a.what, a.holders, role})
		for _, h := range a.holders {
			f.w[h][role] += a.weight()
			if len(a.holders) > 1 {
				for _, r := range []int{p, q} {
					if r >= 0 {
						f.w[h][r] += 0.5 * a.weight()
					}
				}
			}
		}
		f.fixed++
		return true
	}
	byFS := map[string][]anchor{}
	hasLabel := false
	for _, a := range s.scan.anchors {
		if a.fs != "" {
			byFS[a.fs] = append(byFS[a.fs], a)
			continue
		}
		hasLabel = true
		if place(a, a.at) {
			f.fit++
		} else {
			f.misfit++
		}
	}
	uuids := make([]string, 0, len(byFS))
	for u := range byFS {
		uuids = append(uuids, u)
	}
	sort.Strings(uuids)
	for _, u := range uuids {
		copies := byFS[u]
		// The superblock and descriptor copies place the filesystem; its
		// inode tables, of which the journal may hold copies anywhere, do not.
		start, support := s.fsStart(arr, g.DataOffset, slices.DeleteFunc(slices.Clone(copies), isInodeAnchor), !hasLabel)
		if support < 2 {
			continue // one copy alone puts its filesystem anywhere
		}
		for _, a := range copies {
			switch {
			case place(a, start+a.at):
				f.fit += a.weight()
			case isInodeAnchor(a):
				// a copy in the journal lies elsewhere: it says nothing
			default:
				f.misfit += 0.5 // a stale copy from an older filesystem may be anywhere
			}
		}
	}
	return f
}

// fsStart finds the array offset where a filesystem starts under the probe
// geometry. Each copy, put in each role, proposes a start; a start counts
// the copies that agree on it, unless it would give one member two roles or
// two members one role. Copies alone leave a start ambiguous by whole
// chunks (every copy shifted by a chunk is as consistent), so the starts
// of volumes (LVs from carved LVM metadata, partitions from a partition
// table) and 0 for a bare filesystem are preferred: with them one copy
// suffices.
func (s *solver) fsStart(arr *mdraid.Array, dataOffset int64, copies []anchor, bare bool) (int64, int) {
	type claim struct{ copy, member, role int }
	claims := map[int64][]claim{}
	for i, a := range copies {
		for role := range arr.Geometry().RaidDisks {
			if at, ok := arr.ArrayOffset(role, a.offset-dataOffset); ok && at >= a.at {
				for _, h := range a.holders {
					claims[at-a.at] = append(claims[at-a.at], claim{i, h, role})
				}
			}
		}
	}
	support := func(start int64) int {
		roleOf, memberOf, agree := map[int]int{}, map[int]int{}, map[int]bool{}
		for _, c := range claims[start] {
			if len(copies[c.copy].holders) == 1 {
				if r, ok := roleOf[c.member]; ok && r != c.role {
					return 0
				}
				if m, ok := memberOf[c.role]; ok && m != c.member {
					return 0
				}
				roleOf[c.member], memberOf[c.role] = c.role, c.member
			}
			agree[c.copy] = true
		}
		return len(agree)
	}
	known := slices.Clone(s.scan.volumeStarts)
	if bare {
		known = append(known, 0)
	}
	pick := func(starts []int64, need int) (int64, int) {
		best, bestN, tie := int64(0), 0, false
		for _, start := range starts {
			switch n := support(start); {
			case n > bestN:
				best, bestN, tie = start, n, false
			case n == bestN && n > 0 && start != best:
				tie = true
			}
		}
		if tie || bestN < need {
			return 0, 0
		}
		return best, bestN
	}
	if start, n := pick(known, 1); n > 0 {
		return start, max(n, 2) // placed absolutely
	}
	all := make([]int64, 0, len(claims))
	for start := range claims {
		all = append(all, start)
	}
	return pick(all, 2)
}

// anchorOrderSlack: orders one anchor short of the best are scored too.
const anchorOrderSlack = 1.0

// assignmentsWithin lists the role orders (device per role) whose anchor
// support is within slack of the highest, up to limit; nil when more.
func assignmentsWithin(w [][]float64, n, limit int, slack float64) [][]int {
	devs := len(w)
	// colMax[r]: the most any device gets for role r (an upper bound).
	colMax := make([]float64, n)
	for r := range n {
		for d := range devs {
			colMax[r] = math.Max(colMax[r], w[d][r])
		}
	}
	rest := make([]float64, n+1) // rest[r]: bound for roles r..n-1
	for r := n - 1; r >= 0; r-- {
		rest[r] = rest[r+1] + colMax[r]
	}
	const eps = 1e-9
	order := make([]int, n)
	used := make([]bool, devs)
	// First the best sum (branch and bound), then every order reaching it.
	best := math.Inf(-1)
	var out [][]int
	collect := false
	var walk func(r int, sum float64) bool
	walk = func(r int, sum float64) bool {
		if sum+rest[r] < best-eps-slack {
			return true
		}
		if r == n {
			if !collect {
				best = math.Max(best, sum)
				return true
			}
			if len(out) >= limit {
				return false
			}
			out = append(out, slices.Clone(order))
			return true
		}
		for d := range devs {
			if used[d] {
				continue
			}
			used[d] = true
			order[r] = d
			ok := walk(r+1, sum+w[d][r])
			used[d] = false
			if !ok {
				return false
			}
		}
		return true
	}
	walk(0, 0)
	collect = true
	if !walk(0, 0) {
		return nil
	}
	return out
}

// anchorSummary says what the anchors did for the winner, for the evidence.
func (s *solver) anchorSummary(f *roleFit) string {
	return fmt.Sprintf("%.0f of %.0f structures with a known array position (PV label, metadata area, partition tables, ext superblock and descriptor table copies, inode tables, the copies of one inode-table block counted as one) sit where this geometry puts them; %d placements fixed member roles before any assembly was read",
		f.fit, f.fit+f.misfit, f.fixed)
}
