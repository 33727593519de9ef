package compare

import (
	"fmt"
	"slices"
	"sync"

	"holmes/blockdev"
)

// Defaults for PairOptions.
const (
	// DefaultSamples is the number of 4 KiB blocks sampled per device:
	// enough that a mirror's agreement stands out by hundreds of blocks,
	// few enough (4 MiB) that sampling a disk takes seconds.
	DefaultSamples = 1024
	// DefaultMinSame is the fraction of informative sampled blocks two
	// devices must share to be taken as a pair. Unrelated devices share
	// almost none at the same data offset; a mirror whose one half was
	// written behind the other's back still shares what was not rewritten.
	DefaultMinSame = 0.25
	// minAgree is the fewest identical informative samples that can make a
	// pair at all, whatever the fraction.
	minAgree = 4
)

// PairOptions tunes Pairs.
type PairOptions struct {
	Locate  Locator // md data areas; nil treats devices as raw
	Samples int     // blocks sampled per device; DefaultSamples if 0
	MinSame float64 // DefaultMinSame if 0
	// Options tunes the confirming full comparisons (range fields ignored).
	Options Options
}

// PairsReport says which devices are halves of the same mirror.
type PairsReport struct {
	Pairs    []Pair          `json:"pairs"`
	Unpaired []string        `json:"unpaired"`
	Devices  []SampledDevice `json:"devices"`
	Notes    []string        `json:"notes"`
}

// Pair is two devices found to be halves of one mirror, confirmed by a full
// comparison of their data areas. Offsets are in Members[0].
type Pair struct {
	Members   [2]string `json:"members"`
	FirstDiff *int64    `json:"first_diff"`
	DiffBytes int64     `json:"diff_bytes"`
	// DiffBlocks counts differing 4 KiB blocks; Compared the bytes compared.
	DiffBlocks int64 `json:"diff_blocks"`
	Compared   int64 `json:"compared_bytes"`
	// SameFraction is the fraction of informative sampled blocks (those not
	// filled with one repeated byte on both sides) that are identical.
	SameFraction float64  `json:"same_fraction"`
	Sampled      int      `json:"sampled_blocks"`
	Confidence   string   `json:"confidence"` // "high", "medium" or "low"
	Reasons      []string `json:"reasons"`
}

// SampledDevice is what Pairs looked at on one device.
type SampledDevice struct {
	Device      string `json:"device"`
	DataOffset  int64  `json:"data_offset"` // where the compared data starts
	DataSize    int64  `json:"data_size"`
	Metadata    string `json:"metadata"` // md superblock version, "" if none
	Samples     int    `json:"samples"`
	Informative int    `json:"informative_samples"` // not one repeated byte
}

// Pairs finds mirror halves among devs from their content. It samples the
// same data-relative 4 KiB blocks on every device (one forward sweep each,
// all devices in parallel), pairs devices greedily by the fraction of
// identical samples, then confirms each pair with a full comparison. It
// never needs a full read per pair of devices.
func Pairs(devs []blockdev.Device, opt PairOptions) (*PairsReport, error) {
	if opt.Samples <= 0 {
		opt.Samples = DefaultSamples
	}
	if opt.MinSame <= 0 {
		opt.MinSame = DefaultMinSame
	}
	seen := map[string]bool{}
	for _, d := range devs {
		if seen[d.Name()] {
			// The same device twice would pair with itself, perfectly.
			return nil, fmt.Errorf("compare: %s given twice", d.Name())
		}
		seen[d.Name()] = true
	}
	rep := &PairsReport{Pairs: []Pair{}, Unpaired: []string{}, Notes: []string{}}
	areas := make([]DataArea, len(devs))
	for i, d := range devs {
		areas[i] = DataArea{Size: d.Size()}
		sd := SampledDevice{Device: d.Name(), DataSize: d.Size()}
		if opt.Locate != nil {
			md, ok, err := opt.Locate(d)
			if err != nil {
				return nil, err
			}
			if ok {
				area, _, note := mdSpan(d, md)
				areas[i] = DataArea{Offset: area.start, Size: area.size}
				rep.Notes = appendNonEmpty(rep.Notes, note)
				sd.DataOffset, sd.DataSize, sd.Metadata = area.start, area.size, md.Metadata
			}
		}
		rep.Devices = append(rep.Devices, sd)
	}
	agree, err := sampleAll(devs, areas, opt.Samples, rep.Devices)
	if err != nil {
		return nil, err
	}
	scores := scoreAll(agree, len(devs))
	paired := make([]bool, len(devs))
	var candidates []score
	for _, e := range scores {
		if paired[e.i] || paired[e.j] || e.agree < minAgree || e.fraction() < opt.MinSame {
			continue
		}
		paired[e.i], paired[e.j] = true, true
		candidates = append(candidates, e)
	}
	if rep.Pairs, err = confirmAll(devs, candidates, scores, opt); err != nil {
		return nil, err
	}
	for i, d := range devs {
		if paired[i] {
			continue
		}
		rep.Unpaired = append(rep.Unpaired, d.Name())
		// A device that agrees with a paired one as well as a pair's halves
		// agree is a further copy (a three-way mirror), not unrelated.
		for _, e := range scores {
			if (e.i == i || e.j == i) && e.agree >= minAgree && e.fraction() >= opt.MinSame {
				other := devs[e.i+e.j-i].Name()
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s is unpaired but %.0f%% of its sampled blocks match %s: a further copy (three-way mirror?)",
					d.Name(), 100*e.fraction(), other))
				break
			}
		}
	}
	return rep, nil
}

// sampleAll samples, on every device in parallel, the blocks at the same
// offsets from the start of its data area, counting on each device what
// it held. The grid spans the longest data area so that devices of
// different sizes share their common points.
func sampleAll(devs []blockdev.Device, areas []DataArea, count int, sampled []SampledDevice) (*Agreement, error) {
	var longest int64
	for _, a := range areas {
		longest = max(longest, a.Size)
	}
	stride := max(BlockSize, (longest/int64(count)+BlockSize-1)&^(BlockSize-1))
	offsets := make([]int64, (longest+stride-1)/stride)
	for k := range offsets {
		offsets[k] = int64(k) * stride
	}
	agree := NewAgreement(len(devs))
	err := SampleBlocks(devs, areas, offsets, func(blocks [][]byte) {
		for i, b := range blocks {
			if b != nil {
				sampled[i].Samples++
				if !IsConstant(b) {
					sampled[i].Informative++
				}
			}
		}
		agree.Add(blocks)
	})
	return agree, err
}

// score is the sample agreement of devices i < j.
type score struct {
	i, j        int
	agree, seen int // identical and compared informative samples
}

func (s score) fraction() float64 {
	if s.seen == 0 {
		return 0
	}
	return float64(s.agree) / float64(s.seen)
}

// scoreAll scores every two devices, best first.
func scoreAll(agree *Agreement, n int) []score {
	var scores []score
	for i := range n {
		for j := i + 1; j < n; j++ {
			scores = append(scores, score{i: i, j: j, agree: agree.Same(i, j), seen: agree.Seen(i, j)})
		}
	}
	slices.SortStableFunc(scores, func(x, y score) int {
		if c := compareFloat(y.fraction(), x.fraction()); c != 0 {
			return c
		}
		return y.agree - x.agree
	})
	return scores
}

func compareFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// maxConfirming bounds the pairs compared at once (each holds about 4 MiB
// of buffers). Pairs share no device, so on disks they run side by side at
// full speed instead of one after another.
const maxConfirming = 8

// confirmAll confirms the candidate pairs concurrently, adding up their
// progress into one report.
func confirmAll(devs []blockdev.Device, candidates, scores []score, opt PairOptions) ([]Pair, error) {
	pairs := make([]Pair, len(candidates))
	errs := make([]error, len(candidates))
	var mu sync.Mutex
	done, total := make([]int64, len(candidates)), make([]int64, len(candidates))
	sem := make(chan struct{}, maxConfirming)
	var wg sync.WaitGroup
	for k, e := range candidates {
		popt := opt
		if opt.Options.Progress != nil {
			popt.Options.Progress = func(d, t int64) {
				mu.Lock()
				defer mu.Unlock()
				done[k], total[k] = d, t
				var sd, st int64
				for i := range done {
					sd, st = sd+done[i], st+total[i]
				}
				opt.Options.Progress(sd, st)
			}
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			pairs[k], errs[k] = confirm(devs[e.i], devs[e.j], e, scores, popt)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return pairs, nil
}

// confirm compares a pair in full and weighs the evidence.
func confirm(a, b blockdev.Device, e score, scores []score, opt PairOptions) (Pair, error) {
	rep, err := Devices(a, b, Request{Limit: -1, Locate: opt.Locate, Options: opt.Options})
	if err != nil {
		return Pair{}, err
	}
	p := Pair{Members: [2]string{a.Name(), b.Name()}, FirstDiff: rep.FirstDiff, DiffBytes: rep.DiffBytes,
		DiffBlocks: rep.DiffBlocks, Compared: rep.Compared, SameFraction: e.fraction(), Sampled: e.seen}
	// The best agreement either member has with any other device: a pair
	// is only as clear as its margin over the runner-up.
	var rival float64
	for _, o := range scores {
		if o != e && (o.i == e.i || o.j == e.i || o.i == e.j || o.j == e.j) && o.seen > 0 {
			rival = max(rival, o.fraction())
		}
	}
	margin := e.fraction() - rival
	p.Reasons = append(p.Reasons, fmt.Sprintf("%.1f%% of %d informative sampled blocks identical; best agreement of either with any other device %.1f%%",
		100*e.fraction(), e.seen, 100*rival))
	diffShare := 0.0
	if rep.Compared > 0 {
		diffShare = float64(rep.DiffBlocks*BlockSize) / float64(rep.Compared)
	}
	if rep.FirstDiff == nil {
		p.Reasons = append(p.Reasons, fmt.Sprintf("full compare: all %d bytes of the data areas identical", rep.Compared))
	} else {
		p.Reasons = append(p.Reasons, fmt.Sprintf("full compare: %d bytes differ in %d blocks of 4 KiB (%.2f%% of the data), first at %d (%.1f%% into the data)",
			rep.DiffBytes, rep.DiffBlocks, 100*diffShare, *rep.FirstDiff, 100*float64(*rep.FirstDiff-rep.StartA)/float64(max(rep.Compared, 1))),
			"the halves are out of sync: one received writes the other did not (or a resync was under way); decide which half to trust before assembling from one")
	}
	if len(rep.Notes) > 0 {
		p.Reasons = append(p.Reasons, rep.Notes...)
	}
	switch {
	case e.seen < 4*minAgree:
		p.Confidence = "low"
		p.Reasons = append(p.Reasons, fmt.Sprintf("only %d sampled blocks held data on either side: too little evidence", e.seen))
	case e.fraction() >= 0.9 && margin >= 0.5 && diffShare < 0.1:
		p.Confidence = "high"
	case margin >= 0.25 && diffShare < 0.5:
		p.Confidence = "medium"
		if e.fraction() < 0.9 {
			p.Reasons = append(p.Reasons, "a share of the blocks differ: one half was written while the other was absent, or a resync was interrupted")
		}
	case rival >= opt.MinSame:
		p.Confidence = "low"
		p.Reasons = append(p.Reasons, "another device agrees about as well: a further copy (three-way mirror) or an ambiguous pairing")
	default:
		p.Confidence = "low"
		p.Reasons = append(p.Reasons, "most blocks differ: the sampled agreement is the only evidence")
	}
	return p, nil
}
