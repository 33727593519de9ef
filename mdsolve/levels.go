package mdsolve

import (
	"bytes"
	"fmt"
	"slices"
	"sort"

	"holmes/blockdev"
	"holmes/compare"
)

// contentFacts are what samples taken at the same offsets on every member
// say about the level, before any geometry is tried: which members are
// copies of each other, and whether the members XOR to zero (raid5) or to
// one of themselves (raid6's Q).
type contentFacts struct {
	samples int     // samples with data on some member
	groups  [][]int // members whose samples are equal (mirror halves); singletons for the rest
	xorZero float64 // fraction of samples whose XOR over all members is zero
	xorIsQ  float64 // fraction whose XOR equals one member's block (P+data cancel, Q remains)
	// stale: the groups hold a half that missed writes (it agrees with
	// its copies on fewer samples than copies do).
	stale bool
}

const sampleSize = compare.BlockSize

// sampleMembers reads blocks at the same offsets on every member: up to
// count of the offsets where the scan saw data (past start), spread evenly,
// or evenly spaced offsets past start when the scan saw none there.
func sampleMembers(devs []blockdev.Device, start int64, dataBlocks []int64, count int) (*contentFacts, error) {
	size := devs[0].Size()
	for _, d := range devs {
		size = min(size, d.Size())
	}
	end := size - 128<<10 // 0.90 and 1.0 keep superblocks at the end
	offsets := pickOffsets(dataBlocks, start, end, count)
	if len(offsets) == 0 {
		if end-start < sampleSize*int64(count) {
			return nil, fmt.Errorf("members of %d bytes leave no room to sample past offset %d", size, start)
		}
		step := (end - start) / int64(count) / sampleSize * sampleSize
		for k := range int64(count) {
			offsets = append(offsets, start+k*step)
		}
	}
	f := &contentFacts{}
	n := len(devs)
	areas := make([]compare.DataArea, n)
	for i := range areas {
		areas[i] = compare.DataArea{Size: size}
	}
	agree := compare.NewAgreement(n) // mirror halves: the same sampling compare pairs devices by
	xor := make([]byte, sampleSize)
	zeroCount, qCount := 0, 0
	err := compare.SampleBlocks(devs, areas, offsets, func(blocks [][]byte) {
		if !slices.ContainsFunc(blocks, func(b []byte) bool { return !isZero(b) }) {
			return
		}
		f.samples++
		agree.Add(blocks)
		clear(xor)
		for _, b := range blocks {
			for k := range xor {
				xor[k] ^= b[k]
			}
		}
		if isZero(xor) {
			zeroCount++
		} else if slices.ContainsFunc(blocks, func(b []byte) bool { return bytes.Equal(xor, b) }) {
			qCount++
		}
	})
	if err != nil {
		return nil, err
	}
	if f.samples == 0 {
		return f, nil
	}
	f.xorZero = float64(zeroCount) / float64(f.samples)
	f.xorIsQ = float64(qCount) / float64(f.samples)
	// Mirror groups: members equal on (nearly) every sample with data.
	f.groups = mirrorGroups(agree, n, sameCopy)
	if !f.cleanMirrors() {
		// A half that missed writes (kicked out, then its mirror kept
		// running) still agrees with its copies on most samples, and with
		// no other member: accepted when that completes the mirrors.
		if g := mirrorGroups(agree, n, staleCopy); len(g) < len(f.groups) && (&contentFacts{groups: g}).cleanMirrors() {
			f.groups = g
			f.stale = true
		}
	}
	return f, nil
}

// Agreement on the samples with data that makes two members copies of each
// other, and the least a stale half (one that missed writes) keeps.
const (
	sameCopy  = 0.9
	staleCopy = 0.5
)

// mirrorGroups joins members that agree on at least the fraction least of
// the samples both hold data on.
func mirrorGroups(agree *compare.Agreement, n int, least float64) [][]int {
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if seen := agree.Seen(i, j); seen >= 2 && float64(agree.Same(i, j)) >= least*float64(seen) {
				parent[find(j)] = find(i)
			}
		}
	}
	byRoot := map[int][]int{}
	for i := 0; i < n; i++ {
		byRoot[find(i)] = append(byRoot[find(i)], i)
	}
	var groups [][]int
	for _, g := range byRoot {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(a, b int) bool { return groups[a][0] < groups[b][0] })
	return groups
}

// cleanMirrors: the members form one group of copies, or equal groups of
// two or more (raid1, raid10 near).
func (f *contentFacts) cleanMirrors() bool {
	return len(f.groups) == 1 || f.mirrorWidth() > 0
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// mirrorWidth is the size shared by every mirror group, or 0 when the
// members do not split into equal groups of copies.
func (f *contentFacts) mirrorWidth() int {
	k := len(f.groups[0])
	for _, g := range f.groups {
		if len(g) != k {
			return 0
		}
	}
	if k < 2 {
		return 0
	}
	return k
}

// family is a set of level/layout hypotheses the content allows.
type family struct {
	level   string
	layouts []string
	chunked bool
	width   int    // members per unit: mirror groups move together
	why     string // what in the content points here
}

var (
	raid5Layouts = []string{"left-symmetric", "left-asymmetric", "right-symmetric", "right-asymmetric", "parity-first", "parity-last"}
	raid6Layouts = append(slices.Clone(raid5Layouts),
		"left-symmetric-6", "left-asymmetric-6", "right-symmetric-6", "right-asymmetric-6", "parity-first-6")
)

// families lists the hypotheses worth trying for an array of n members of
// which missing are not given, most specific first.
func (f *contentFacts) families(n, missing int) []family {
	if f.samples == 0 {
		return nil
	}
	if missing > 0 {
		return f.degradedFamilies(n, missing)
	}
	stale := ""
	if f.stale {
		stale = " (a half that missed writes agrees on fewer samples)"
	}
	if len(f.groups) == 1 {
		return []family{{level: "raid1", width: n, why: fmt.Sprintf("all %d members hold the same data%s", n, stale)}}
	}
	if k := f.mirrorWidth(); k > 0 {
		return []family{{level: "raid10", layouts: []string{fmt.Sprintf("n%d", k)}, chunked: true, width: k,
			why: fmt.Sprintf("members form %d groups of %d identical copies%s", len(f.groups), k, stale)}}
	}
	var out []family
	if f.xorZero >= 0.9 && n >= 3 {
		out = append(out, family{level: "raid5", chunked: true, width: 1, layouts: raid5Layouts,
			why: fmt.Sprintf("the members XOR to zero on %.0f%% of %d samples (single parity)", 100*f.xorZero, f.samples)})
	}
	if f.xorIsQ >= 0.9 && n >= 4 {
		out = append(out, family{level: "raid6", chunked: true, width: 1, layouts: raid6Layouts,
			why: fmt.Sprintf("the XOR of all members equals one member's block on %.0f%% of %d samples (P and Q)", 100*f.xorIsQ, f.samples)})
	}
	if len(out) > 0 {
		return out
	}
	why := "no mirror groups and no parity: striped or concatenated"
	out = append(out, family{level: "raid0", chunked: true, width: 1, why: why},
		family{level: "linear", width: 1, why: why})
	far := []string{"f2", "o2"}
	if n >= 3 {
		far = append(far, "n2", "f3", "o3")
	}
	out = append(out, family{level: "raid10", layouts: far, chunked: true, width: 1, why: why + "; far/offset copies possible"})
	return out
}

// pickOffsets chooses up to count of the offsets in [start, end), evenly
// spread over the list.
func pickOffsets(all []int64, start, end int64, count int) []int64 {
	var in []int64
	for _, o := range all {
		if o >= start && o+sampleSize <= end {
			in = append(in, o)
		}
	}
	if len(in) <= count {
		return in
	}
	out := make([]int64, count)
	for k := range out {
		out[k] = in[k*len(in)/count]
	}
	return out
}

// degradedFamilies: with members missing, parity no longer shows in
// samples (the XOR includes the lost member), so every level that survives
// the loss is a hypothesis and the scoring, reading through parity,
// decides. Mirror groups still show, short of their lost halves.
func (f *contentFacts) degradedFamilies(n, missing int) []family {
	widest := 0
	for _, g := range f.groups {
		widest = max(widest, len(g))
	}
	if widest >= 2 && n%widest == 0 && len(f.groups) <= n/widest {
		if widest*len(f.groups) == n-missing || len(f.groups) == n/widest {
			if n/widest == 1 {
				return []family{{level: "raid1", width: n, why: fmt.Sprintf("the %d members given hold the same data", n-missing)}}
			}
			return []family{{level: "raid10", layouts: []string{fmt.Sprintf("n%d", widest)}, chunked: true, width: widest,
				why: fmt.Sprintf("members form groups of up to %d identical copies, %d missing", widest, missing)}}
		}
	}
	why := fmt.Sprintf("%d of %d members missing: parity cannot show in samples, every level that survives the loss is tried", missing, n)
	var out []family
	if missing == 1 && n >= 3 {
		out = append(out, family{level: "raid5", chunked: true, width: 1, layouts: raid5Layouts, why: why})
	}
	if missing <= 2 && n >= 4 {
		out = append(out, family{level: "raid6", chunked: true, width: 1, layouts: raid6Layouts, why: why})
	}
	if missing == 1 {
		out = append(out, family{level: "raid10", layouts: []string{"f2", "o2"}, chunked: true, width: 1, why: why})
	}
	return out
}
