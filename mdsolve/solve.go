// Package mdsolve infers the geometry of an md array whose superblocks are
// lost or were overwritten: level and layout, chunk size, data offset and
// member order, from what the data itself shows when assembled correctly.
// It reads samples, never whole members, and never writes.
package mdsolve

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"holmes/blockdev"
	"holmes/mdraid"
)

// Options tune the search. Zero values mean the defaults.
type Options struct {
	// Window bounds how much of the start of each member is scanned for
	// PV labels and ext superblocks that reveal the data offset (256 MiB:
	// past every data offset mdadm has chosen by default). The scan stops
	// earlier once the array's start and enough data past it are seen.
	Window int64
	// Samples is the number of blocks per member read to tell mirrors and
	// parity apart (256).
	Samples int
	// Level, Layout, Chunk and DataOffset restrict the search when known.
	Level, Layout string
	ChunkBytes    int64
	DataOffset    int64
	DataOffsetSet bool // DataOffset was given (0 is a valid data offset)
	// RaidDisks is the array's member count when members are missing
	// (0: every member is given).
	RaidDisks int
	// ExhaustiveOrders is how many member orders per geometry are tried
	// one by one (5040: seven free members); more are searched by a beam.
	ExhaustiveOrders int
}

// Result is the winning geometry with its evidence (docs/cli.md, md solve).
type Result struct {
	Level      string   `json:"level"`
	Layout     string   `json:"layout"`      // "" where the level has none
	ChunkBytes int64    `json:"chunk_bytes"` // 0 where the level has none
	DataOffset int64    `json:"data_offset"`
	Metadata   string   `json:"metadata"`
	Order      []string `json:"order"` // member DEVs in role order
	// Confidence is the winner's lead over the runner-up relative to its
	// score: 0 (a tie) to 1 (nothing else came close).
	Confidence  float64      `json:"confidence"`
	Score       float64      `json:"score"`
	Evidence    []string     `json:"evidence"`
	RunnerUp    *Alternative `json:"runner_up"`
	Superblocks []string     `json:"superblocks"` // what the md superblocks on the members say, against the data
	Searched    int          `json:"searched"`    // candidate assemblies scored
	// DataSize is the bytes of each member the array used, when the data
	// shows it was created smaller than its members (mdadm --size); 0
	// otherwise.
	DataSize int64 `json:"data_size"`
	// Ambiguous: the evidence does not decide (see docs/md-solve.md, the
	// gate); MdadmCreate is then nil and Candidates, Differences and
	// WouldDecide say what is open. Subset: the members look like part of
	// a larger array.
	Ambiguous   bool        `json:"ambiguous"`
	Subset      bool        `json:"subset"`
	Why         []string    `json:"why_ambiguous"`
	Differences []string    `json:"differences"`
	WouldDecide []string    `json:"would_decide"`
	Candidates  []Candidate `json:"candidates"`
	MdadmCreate *string     `json:"mdadm_create"`
	Warning     string      `json:"warning"`
}

// Candidate is one assembly still in the running (docs/cli.md, md solve).
type Candidate struct {
	Level      string   `json:"level"`
	Layout     string   `json:"layout"`
	ChunkBytes int64    `json:"chunk_bytes"`
	DataOffset int64    `json:"data_offset"`
	Order      []string `json:"order"`
	Score      float64  `json:"score"`
}

// Alternative is a losing candidate.
type Alternative struct {
	Level      string   `json:"level"`
	Layout     string   `json:"layout,omitempty"`
	ChunkBytes int64    `json:"chunk_bytes,omitempty"`
	DataOffset int64    `json:"data_offset"`
	Order      []string `json:"order"`
	Score      float64  `json:"score"`
	Evidence   []string `json:"evidence"`
}

// Geometry is the solved geometry as mdraid takes it.
func (r *Result) Geometry() mdraid.Geometry {
	return mdraid.Geometry{Level: r.Level, Layout: r.Layout, ChunkBytes: r.ChunkBytes,
		RaidDisks: len(r.Order), DataOffset: r.DataOffset, DataSize: r.DataSize}
}

type solver struct {
	devs     []blockdev.Device
	opt      Options
	scan     *memberScan
	facts    *contentFacts
	ruledOut int // geometries the anchors ruled out
}

// candidate is one assembly to score.
type candidate struct {
	geo   mdraid.Geometry
	order []int // device index per role
	ev    evidence
	// sbVotes counts members whose md superblock agrees with this
	// candidate: only a tie-breaker, as superblocks may be an installer's.
	sbVotes int
	fit     *roleFit // what the anchors say about its geometry (nil: not used)
}

// chunkSizes are the chunk sizes tried: every power of two mdadm accepts
// in practice, 4 KiB to 4 MiB.
func chunkSizes() []int64 {
	var out []int64
	for c := int64(4 << 10); c <= 4<<20; c *= 2 {
		out = append(out, c)
	}
	return out
}

// sampleStartGap keeps content samples clear of the area just past the data
// offset (PV label and LVM metadata, written once, identical nowhere else).
const sampleStartGap = 4 << 20

// Solve infers the geometry of the array whose members are devs (in any order).
func Solve(devs []blockdev.Device, opt Options) (*Result, error) {
	if len(devs) < 2 {
		return nil, fmt.Errorf("solve needs at least 2 members, got %d", len(devs))
	}
	if opt.Window <= 0 {
		opt.Window = 256 << 20
	}
	if opt.Samples <= 0 {
		opt.Samples = 256
	}
	if opt.ExhaustiveOrders <= 0 {
		opt.ExhaustiveOrders = 5040
	}
	cached := make([]blockdev.Device, len(devs))
	for i, d := range devs {
		cached[i] = newCachedDevice(d)
	}
	if opt.RaidDisks == 0 {
		opt.RaidDisks = len(devs)
	}
	if opt.RaidDisks < len(devs) || opt.RaidDisks > 256 {
		return nil, fmt.Errorf("%d members given for %d raid disks", len(devs), opt.RaidDisks)
	}
	s := &solver{devs: cached, opt: opt}
	var err error
	if s.scan, err = scanMembers(devs, opt.Window); err != nil { // streamed, not cached
		return nil, err
	}
	offsets := s.scan.dataOffsets()
	if opt.DataOffsetSet {
		offsets = []int64{opt.DataOffset}
	}
	if !opt.DataOffsetSet && (opt.RaidDisks > len(devs) || !s.anySighting(offsets)) {
		// The member that starts the array may be the one missing, or
		// nothing marks the start: mdadm's usual data offsets stand in.
		for _, d := range []int64{1 << 20, 2 << 20, 0} {
			if !slices.Contains(offsets, d) {
				offsets = append(offsets, d)
			}
		}
	}
	if s.facts, err = sampleMembers(devs, min(offsets[0]+sampleStartGap, devs[0].Size()/4), s.scan.dataBlocks, opt.Samples); err != nil {
		return nil, err
	}
	if s.facts.samples == 0 {
		// An array holding almost nothing: its few blocks lie near the
		// start, among the PV label and metadata (the md superblocks'
		// own blocks left out).
		if s.facts, err = sampleMembers(devs, 0, s.scan.blocksBesideSuperblocks(), opt.Samples); err != nil {
			return nil, err
		}
	}
	families := s.facts.families(opt.RaidDisks, opt.RaidDisks-len(devs))
	if len(families) == 0 {
		return nil, fmt.Errorf("every sampled block of every member is zero: nothing to solve from")
	}
	families = s.restrict(families)
	if len(families) == 0 {
		return nil, fmt.Errorf("the data rules out level %s", opt.Level)
	}

	cands := s.candidates(families, offsets)
	if len(cands) == 0 {
		return nil, fmt.Errorf("no candidate geometry fits the members")
	}
	rank := func(cs []*candidate) {
		sort.SliceStable(cs, func(i, j int) bool {
			if cs[i].ev.score != cs[j].ev.score {
				return cs[i].ev.score > cs[j].ev.score
			}
			return cs[i].sbVotes > cs[j].sbVotes
		})
	}
	for _, c := range cands {
		s.evaluate(c, stageQuick)
	}
	rank(cands)
	// The costlier checks decide among the leaders only: those close to the
	// best quick score, then the first few.
	leaders := 0
	for leaders < len(cands) && leaders < maxLeaders && cands[leaders].ev.score >= cands[0].ev.score-leaderGap {
		leaders++
	}
	for _, c := range cands[:leaders] {
		s.evaluate(c, stageFull)
	}
	rank(cands[:leaders])
	// Deep verification for the best few, and for every candidate tied
	// with them when the cheaper checks cannot tell them apart (a bare
	// filesystem whose structures the parity also holds), up to maxDeep.
	deep := 0
	for deep < leaders && (deep < minDeep || deep < maxDeep && cands[deep].ev.score >= cands[0].ev.score-deepGap) {
		deep++
	}
	top := cands[:deep]
	for i, c := range top {
		s.evaluate(c, stageDeep)
		if i < minDeep {
			s.preferReadableHalves(c)
		}
	}
	rank(top)
	return s.result(cands, families), nil
}

// preferReadableHalves: mirror halves that diverged (one was kicked out
// and missed writes its copy received) read differently, and an assembly
// reads the first half of each group. Where a filesystem does not read
// through, each group's other halves are put first in turn; a change is
// kept when fewer filesystems stay unreadable. The array is the same
// either way; the order then names the halves the data reads through.
func (s *solver) preferReadableHalves(c *candidate) {
	for r := 0; r < len(c.order) && len(c.ev.unreadable) > 0; r++ {
		if c.order[r] < 0 || r > 0 && s.groupOf(c.order[r-1]) == s.groupOf(c.order[r]) {
			continue // not the first of its group
		}
		for q := r + 1; q < len(c.order) && c.order[q] >= 0 && s.groupOf(c.order[q]) == s.groupOf(c.order[r]); q++ {
			before := c.ev
			c.order[r], c.order[q] = c.order[q], c.order[r]
			s.evaluate(c, stageDeep)
			if len(c.ev.unreadable) < len(before.unreadable) {
				break
			}
			c.order[r], c.order[q] = c.order[q], c.order[r]
			c.ev = before
		}
	}
}

// restrict applies the caller's level/layout hints.
func (s *solver) restrict(fams []family) []family {
	var out []family
	for _, f := range fams {
		if s.opt.Level != "" {
			l, err := mdraid.ParseLevel(s.opt.Level)
			if err != nil || l != f.level {
				continue
			}
		}
		if s.opt.Layout != "" {
			f.layouts = []string{s.opt.Layout}
		}
		out = append(out, f)
	}
	return out
}

// Leaders: candidates within leaderGap points of the best quick score, at
// most maxLeaders of them, get the full checks. The gap is wide enough for
// a PV label and metadata text that a wrong order reads from a member the
// parity does not shadow, while the right one's are shadowed (not counted).
const (
	leaderGap  = 8
	maxLeaders = 512
)

// Deep verification reads minDeep candidates through, and up to maxDeep
// while they stay within deepGap of the best.
const (
	minDeep = 8
	maxDeep = 64
	deepGap = 4
)

func (s *solver) evaluate(c *candidate, stage int) {
	arr, err := mdraid.Open(c.geo, s.membersOf(c.order), "candidate") // partial orders leave members out
	if err != nil {
		c.ev = evidence{score: math.Inf(-1), notes: []string{err.Error()}}
		return
	}
	c.ev = s.score(c, arr, stage)
}

// candidates lists the assemblies worth scoring: every level, layout,
// chunk size and data offset not ruled out, each with the member orders the
// anchors allow. On parity levels with every member given, anchors (PV
// label, metadata area, partition tables, ext superblock and descriptor
// table copies, ext4 inode tables: structures whose array
// position their content tells) first rule out geometries that cannot put
// them where they were found, then fix member roles; only the orders with
// the most anchor support are kept. Brute force (every order, or a beam
// search past ExhaustiveOrders) is the fallback where anchors say nothing.
func (s *solver) candidates(families []family, offsets []int64) []*candidate {
	type geometry struct {
		g   mdraid.Geometry
		f   family
		fit *roleFit
	}
	var geos []geometry
	bestFit := math.Inf(-1)
	for _, d := range offsets {
		for _, f := range families {
			for _, g := range s.geometries(f, d) {
				gm := geometry{g: g, f: f}
				if s.anchorsApply(f) {
					gm.fit = s.fitAnchors(g)
					bestFit = math.Max(bestFit, gm.fit.fit-gm.fit.misfit)
				}
				geos = append(geos, gm)
			}
		}
	}
	var out []*candidate
	for _, gm := range geos {
		if gm.fit != nil && bestFit >= minAnchorsToPrune && gm.fit.fit-gm.fit.misfit < bestFit-anchorSlack {
			s.ruledOut++
			continue
		}
		var orders [][]int
		if gm.fit != nil {
			orders = s.anchoredOrders(gm.g, gm.fit)
		} else {
			fixed := map[int]int{}
			if first := s.soleFirstMember(gm.g.DataOffset, gm.f); first >= 0 {
				fixed[mdraid.FirstRole(gm.g)] = first
			}
			orders = s.orders(gm.g, gm.f.width, fixed, s.opt.ExhaustiveOrders)
		}
		for _, o := range orders {
			out = append(out, &candidate{geo: gm.g, order: o, fit: gm.fit, sbVotes: s.superblockVotes(gm.g, o)})
		}
	}
	return out
}

// anchoredOrders: the orders the anchors support most, when few; with a
// single one, those one anchor short too (runners-up for the scoring).
// When many tie, the roles the anchors fix stay fixed and the rest is
// searched as without anchors.
func (s *solver) anchoredOrders(g mdraid.Geometry, fit *roleFit) [][]int {
	n := s.opt.RaidDisks
	limit := min(s.opt.ExhaustiveOrders, maxAnchoredOrders)
	best := assignmentsWithin(fit.w, n, limit, 0)
	if len(best) == 1 {
		if near := assignmentsWithin(fit.w, n, limit, anchorOrderSlack); near != nil {
			return near
		}
	}
	if best != nil {
		return best
	}
	return s.orders(g, 1, fixedRoles(fit.w), min(s.opt.ExhaustiveOrders, maxFreeOrders))
}

// maxFreeOrders: past this many orders of the roles the anchors leave
// free, a beam search fills them (a geometry the anchors fit is one of
// several, each of which would otherwise cost thousands of assemblies).
const maxFreeOrders = 720

// maxAnchoredOrders bounds the tied orders taken from the anchors as they
// are; past it the free roles are searched.
const maxAnchoredOrders = 24

// fixedRoles: the roles one member has the most support for, where that
// role is also the one that member has the most support for.
func fixedRoles(w [][]float64) map[int]int {
	fixed := map[int]int{}
	argmax := func(xs []float64) int {
		best, at := 0.0, -1
		for i, x := range xs {
			switch {
			case x > best:
				best, at = x, i
			case x == best && best > 0:
				at = -1
			}
		}
		return at
	}
	for d, row := range w {
		r := argmax(row)
		if r < 0 {
			continue
		}
		col := make([]float64, len(w))
		for e := range w {
			col[e] = w[e][r]
		}
		if argmax(col) == d {
			fixed[r] = d
		}
	}
	return fixed
}

// Geometries whose anchors fit anchorSlack less than the best are dropped,
// once the best fits at least minAnchorsToPrune of them.
const (
	minAnchorsToPrune = 2
	anchorSlack       = 1
)

// anchorsApply: anchors place members by the parity layouts' mapping, with
// every member given.
func (s *solver) anchorsApply(f family) bool {
	return (f.level == "raid4" || f.level == "raid5" || f.level == "raid6") && s.opt.RaidDisks == len(s.devs)
}

// geometries lists the layouts and chunk sizes of family f at data offset d.
func (s *solver) geometries(f family, d int64) []mdraid.Geometry {
	smallest := s.devs[0].Size()
	for _, dev := range s.devs {
		smallest = min(smallest, dev.Size())
	}
	if d >= smallest {
		return nil
	}
	layouts := f.layouts
	if len(layouts) == 0 {
		layouts = []string{""}
	}
	chunks := []int64{0}
	if f.chunked {
		chunks = s.plausibleChunks(d)
	}
	var out []mdraid.Geometry
	for _, layout := range layouts {
		for _, chunk := range chunks {
			g := mdraid.Geometry{Level: f.level, Layout: layout, ChunkBytes: chunk, RaidDisks: s.opt.RaidDisks, DataOffset: d, DataSize: smallest - d}
			if g, err := g.Normalize(); err == nil {
				out = append(out, g)
			}
		}
	}
	return out
}

// soleFirstMember is the member that must hold the array's first bytes at
// data offset d, or -1. On parity levels a PV label seen on two members
// (the data and its parity, the rest of stripe 0 being zero) fixes neither.
func (s *solver) soleFirstMember(d int64, f family) int {
	at := s.scan.at(d)
	if len(at) == 0 {
		return -1
	}
	if f.level == "raid4" || f.level == "raid5" || f.level == "raid6" {
		holders := map[int]bool{}
		for _, a := range s.scan.anchors {
			if a.what == "PV label" && a.offset == at[0].offset {
				for _, h := range a.holders {
					holders[h] = true
				}
			}
		}
		if len(holders) > 1 {
			return -1
		}
	}
	return at[0].member
}

// plausibleChunks drops chunk sizes the member holding the array's start
// rules out: if numbered text runs on across offset d+c of that member,
// the array's first chunk is longer than c.
func (s *solver) plausibleChunks(d int64) []int64 {
	if s.opt.ChunkBytes > 0 {
		return []int64{s.opt.ChunkBytes}
	}
	m := s.firstMember(d)
	if m < 0 {
		return chunkSizes()
	}
	buf := make([]byte, 1536)
	var out []int64
	for _, c := range chunkSizes() {
		if _, err := s.devs[m].ReadAt(buf, d+c-1024); err == nil {
			if runs, _ := textRunsOn(buf); runs {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// anySighting says whether a PV label or ext superblock proposes one of the offsets.
func (s *solver) anySighting(offsets []int64) bool {
	for _, d := range offsets {
		if len(s.scan.at(d)) > 0 {
			return true
		}
	}
	return false
}

// firstMember is the device whose data at offset d starts the array (a PV
// label or primary ext superblock in place), or -1.
func (s *solver) firstMember(d int64) int {
	for _, g := range s.scan.at(d) {
		return g.member
	}
	return -1
}

// orders lists role orders: units of width members (mirror groups from the
// content facts when width > 1) permuted, with the unit holding device
// fixed[role] placed at that role's unit. Up to limit permutations are
// all tried; beyond, a beam search builds orders role by role from partial
// assemblies.
func (s *solver) orders(g mdraid.Geometry, width int, fixed map[int]int, limit int) [][]int {
	n := s.opt.RaidDisks
	if width == n {
		all := make([]int, n)
		for i := range all {
			all[i] = -1 // a missing mirror
		}
		for i := range s.devs {
			all[i] = i
		}
		return [][]int{all}
	}
	// Units: mirror groups (short ones padded with missing members) or
	// single members; missing members fill the positions left.
	var units [][]int
	if width > 1 {
		for _, g := range s.facts.groups {
			u := slices.Clone(g)
			for len(u) < width {
				u = append(u, -1)
			}
			units = append(units, u)
		}
	} else {
		for i := range s.devs {
			units = append(units, []int{i})
		}
	}
	for len(units)*width < n {
		u := make([]int, width)
		for i := range u {
			u[i] = -1
		}
		units = append(units, u)
	}
	// slots[pos] is the unit at unit position pos; -1 = not placed yet.
	slots := make([]int, len(units))
	for i := range slots {
		slots[i] = -1
	}
	var free []int
	for u, members := range units {
		placed := false
		for role, dev := range fixed {
			if slices.Contains(members, dev) && slots[role/width] < 0 {
				slots[role/width], placed = u, true
				break
			}
		}
		if !placed {
			free = append(free, u)
		}
	}
	expand := func(slots []int) []int {
		order := make([]int, 0, n)
		for _, u := range slots {
			if u < 0 {
				for range width {
					order = append(order, -1)
				}
				continue
			}
			order = append(order, units[u]...)
		}
		return order
	}
	if factorial(len(free)) > limit {
		return s.beamOrders(g, slots, free, expand)
	}
	var out [][]int
	seen := map[string]bool{}
	permute(free, func(p []int) {
		filled := slices.Clone(slots)
		k := 0
		for pos := range filled {
			if filled[pos] < 0 {
				filled[pos] = p[k]
				k++
			}
		}
		order := expand(filled)
		if key := fmt.Sprint(order); !seen[key] { // missing units are interchangeable
			seen[key] = true
			out = append(out, order)
		}
	})
	return out
}

// beamWidth is how many partial orders the beam search keeps per step.
const beamWidth = 8

// beamOrders fills the open unit positions one at a time, trying every
// unplaced unit there and keeping the partial assemblies (unplaced members
// missing) whose quick evidence is best.
func (s *solver) beamOrders(g mdraid.Geometry, slots, free []int, expand func([]int) []int) [][]int {
	type state struct {
		slots []int
		score float64
	}
	beam := []state{{slots: slots}}
	for pos := range slots {
		if slots[pos] >= 0 {
			continue
		}
		var next []state
		for _, st := range beam {
			for _, u := range free {
				if slices.Contains(st.slots, u) {
					continue
				}
				filled := slices.Clone(st.slots)
				filled[pos] = u
				c := &candidate{geo: g, order: expand(filled)}
				s.evaluate(c, stageQuick)
				next = append(next, state{filled, c.ev.score})
			}
		}
		sort.SliceStable(next, func(i, j int) bool { return next[i].score > next[j].score })
		beam = next[:min(len(next), beamWidth)]
	}
	out := make([][]int, len(beam))
	for i, st := range beam {
		out[i] = expand(st.slots)
	}
	return out
}

func factorial(n int) int {
	f := 1
	for i := 2; i <= n; i++ {
		f *= i
		if f > 1<<30 {
			return f
		}
	}
	return f
}

// permute calls fn with every permutation of xs (Heap's algorithm).
func permute(xs []int, fn func([]int)) {
	a := append([]int(nil), xs...)
	var gen func(k int)
	gen = func(k int) {
		if k <= 1 {
			fn(append([]int(nil), a...))
			return
		}
		for i := 0; i < k; i++ {
			gen(k - 1)
			if k%2 == 0 {
				a[i], a[k-1] = a[k-1], a[i]
			} else {
				a[0], a[k-1] = a[k-1], a[0]
			}
		}
	}
	gen(len(a))
}

// result turns the ranked candidates into the report.
func (s *solver) result(cands []*candidate, fams []family) *Result {
	best := cands[0]
	r := &Result{Level: best.geo.Level, Layout: best.geo.Layout, ChunkBytes: best.geo.ChunkBytes,
		DataOffset: best.geo.DataOffset, Score: best.ev.score, Searched: len(cands),
		Order: s.names(best.order), Evidence: []string{}, Superblocks: []string{}}
	for _, f := range fams {
		if f.level == best.geo.Level {
			r.Evidence = append(r.Evidence, f.why)
		}
	}
	if at := s.scan.at(best.geo.DataOffset); len(at) > 0 {
		r.Evidence = append(r.Evidence, fmt.Sprintf("data offset %d: %s found at %d of %s", best.geo.DataOffset, at[0].kind, at[0].offset, s.devs[at[0].member].Name()))
	}
	r.Evidence = append(r.Evidence, best.ev.notes...)
	if runner := s.runnerUp(cands); runner != nil {
		r.RunnerUp = &Alternative{Level: runner.geo.Level, Layout: runner.geo.Layout, ChunkBytes: runner.geo.ChunkBytes,
			DataOffset: runner.geo.DataOffset, Order: s.names(runner.order), Score: runner.ev.score, Evidence: runner.ev.notes}
		if best.ev.score > 0 {
			r.Confidence = math.Max(0, math.Min(1, (best.ev.score-runner.ev.score)/best.ev.score))
		}
	} else if best.ev.score > 0 {
		r.Confidence = 1
	}
	r.Confidence = math.Round(r.Confidence*1000) / 1000
	if best.fit != nil {
		r.Evidence = append(r.Evidence, s.anchorSummary(best.fit))
	}
	if s.ruledOut > 0 {
		r.Evidence = append(r.Evidence, fmt.Sprintf("%d geometries ruled out: they cannot put the PV label, metadata area and ext superblock copies where they were found", s.ruledOut))
	}
	var why string
	if r.Metadata, why = s.metadata(best); why != "" {
		r.Evidence = append(r.Evidence, why)
	}
	r.DataSize = s.inferSize(best)
	if r.DataSize > 0 {
		r.Evidence = append(r.Evidence, fmt.Sprintf("the PV records %d bytes: each member's share is %d bytes (--size=%dK), less than the %d its data area holds", best.ev.pvSize, r.DataSize, r.DataSize>>10, best.geo.DataSize))
	}
	r.Superblocks = s.superblockReport(best)
	s.gate(r, cands)
	r.MdadmCreate = r.Create("/dev/md0")
	r.Warning = "try it on overlays (copy-on-write snapshots of the members) first: --create writes new superblocks, and a wrong guess written to the real disks can destroy data"
	return r
}

// Create is the mdadm --create line for the solved array (members as in
// r.Order), or nil when the result is ambiguous: no line is printed that the
// evidence does not decide.
func (r *Result) Create(dev string) *string {
	if r.Ambiguous {
		return nil
	}
	line := MdadmCreate(dev, r.Geometry(), r.Metadata, r.Order)
	return &line
}

// runnerUp is the best candidate that is a genuinely different assembly
// (mirror halves swapped within a group are the same array).
func (s *solver) runnerUp(cands []*candidate) *candidate {
	best := cands[0]
	for _, c := range cands[1:] {
		if !math.IsInf(c.ev.score, -1) && !s.sameAssembly(best, c) {
			return c
		}
	}
	return nil
}

func (s *solver) sameAssembly(a, b *candidate) bool {
	if a.geo != b.geo {
		return false
	}
	for i := range a.order {
		if s.groupOf(a.order[i]) != s.groupOf(b.order[i]) {
			return false
		}
	}
	return true
}

func (s *solver) groupOf(dev int) int {
	for g, members := range s.facts.groups {
		for _, m := range members {
			if m == dev {
				return g
			}
		}
	}
	return -1
}

func (s *solver) names(order []int) []string {
	out := make([]string, len(order))
	for r, i := range order {
		out[r] = "missing"
		if i >= 0 {
			out[r] = s.devs[i].Name()
		}
	}
	return out
}

// metadata picks the superblock format to re-create with. A PV or
// filesystem at offset 0 exactly as large as a 0.90 array of these members
// names 0.90 (what 0.90 reserves at the end is not data): the data says
// so, where a superblock may be an installer's. Then a superblock on the
// members that agrees with the solved assembly (role, level, data offset)
// names the format the array had: 1.1 and 1.2 both keep data past a data
// offset, and only such a superblock tells them apart. Otherwise:
// data at offset 0 needs the superblock at the end, 1.0 (inside the tail
// 0.90 reserved too, so it spares a 0.90 array's data); a data offset
// leaves room for 1.2's superblock at 4 KiB inside it (1.1, at 0, when
// the offset is too small for that).
func (s *solver) metadata(best *candidate) (version, why string) {
	if best.geo.DataOffset == 0 {
		if size := s.array090Size(best); size > 0 && (best.ev.pvSize == size || slices.Contains(best.ev.fsSizes, size)) {
			return "0.90", fmt.Sprintf("metadata 0.90: the PV or filesystem at the array's start is %d bytes, exactly what 0.90 leaves before its superblock on these members", size)
		}
	}
	for r, i := range best.order {
		if i < 0 {
			continue
		}
		for _, sb := range s.scan.superblocks[i] {
			if sb.Role == r && sb.Level == best.geo.Level && sb.DataOffset == best.geo.DataOffset {
				return sb.Version, ""
			}
		}
	}
	switch {
	case best.geo.DataOffset >= minDataOffset12:
		return "1.2", ""
	case best.geo.DataOffset > 0:
		return "1.1", "" // too little room before the data for 1.2's superblock at 4 KiB
	}
	return "1.0", ""
}

// array090Size is the size of the candidate's array had it 0.90
// metadata: each member's data ends where the 0.90 superblock's 64 KiB
// reserve at its end begins, rounded down to the chunk.
func (s *solver) array090Size(c *candidate) int64 {
	smallest := s.devs[0].Size()
	for _, d := range s.devs {
		smallest = min(smallest, d.Size())
	}
	g := c.geo
	g.DataSize = mdraid.Super090DataSize(smallest)
	if g.ChunkBytes > 0 {
		g.DataSize = g.DataSize / g.ChunkBytes * g.ChunkBytes
	}
	if g.DataSize <= 0 {
		return 0
	}
	arr, err := mdraid.Open(g, s.membersOf(c.order), "0.90 size probe")
	if err != nil {
		return 0
	}
	return arr.Size()
}

// minDataOffset12: 1.2 keeps its superblock (and mdadm's bad-block log
// after it) in 4-8 KiB; data must start past that.
const minDataOffset12 = 8 << 10

// superblockReport compares the md superblocks on the members with the solved geometry.
func (s *solver) superblockReport(best *candidate) []string {
	roleOf := map[int]int{}
	for r, i := range best.order {
		roleOf[i] = r
	}
	var out []string
	for i, sbs := range s.scan.superblocks {
		for _, sb := range sbs {
			var diffs []string
			if sb.Level != best.geo.Level {
				diffs = append(diffs, "level "+sb.Level)
			}
			if best.geo.Level != "raid1" && sb.ChunkBytes != best.geo.ChunkBytes {
				diffs = append(diffs, fmt.Sprintf("chunk %d", sb.ChunkBytes))
			}
			// Compare layouts by their normalized names ("" is raid0's "original").
			sbGeo, err := mdraid.Geometry{Level: sb.Level, Layout: sb.Layout, ChunkBytes: sb.ChunkBytes, RaidDisks: sb.RaidDisks}.Normalize()
			if sb.Level == best.geo.Level && (err != nil || sbGeo.Layout != best.geo.Layout) {
				diffs = append(diffs, "layout "+sb.Layout)
			}
			if sb.DataOffset != best.geo.DataOffset {
				diffs = append(diffs, fmt.Sprintf("data offset %d", sb.DataOffset))
			}
			if sb.Role >= 0 && sb.Role != roleOf[i] && s.groupOf(best.order[sb.Role%len(best.order)]) != s.groupOf(i) {
				diffs = append(diffs, fmt.Sprintf("role %d", sb.Role))
			}
			what := fmt.Sprintf("%s: %s superblock at %d (array %s, events %d, updated %s)", s.devs[i].Name(), sb.Version, sb.Offset,
				sb.ArrayUUID, sb.Events, sb.UTime.Format("2006-01-02T15:04:05Z"))
			if len(diffs) == 0 {
				out = append(out, what+" agrees with the data")
			} else {
				out = append(out, what+" contradicts the data: it says "+strings.Join(diffs, ", ")+" (stale or written by another array)")
			}
		}
	}
	return out
}

// superblockVotes counts the members whose md superblock names the role,
// chunk and data offset of the candidate.
func (s *solver) superblockVotes(g mdraid.Geometry, order []int) int {
	votes := 0
	for r, i := range order {
		if i < 0 {
			continue
		}
		for _, sb := range s.scan.superblocks[i] {
			if sb.Role == r && sb.DataOffset == g.DataOffset && (g.ChunkBytes == 0 || sb.ChunkBytes == g.ChunkBytes) {
				votes++
				break
			}
		}
	}
	return votes
}
