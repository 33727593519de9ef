package compare

// Region is a byte range [Start, End) of the first device.
type Region struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// DefaultMaxRegions bounds the region list so that memory stays constant on
// devices that differ everywhere in small pieces.
const DefaultMaxRegions = 10000

// regionList collects differing blocks in increasing order and merges those
// closer than gap. When the list would exceed max entries the gap doubles and
// the list is merged again; the result equals merging the blocks with the
// final gap from the start, so it does not depend on chunk order.
type regionList struct {
	regions []Region
	gap     int64
	max     int
}

func (l *regionList) add(r Region) {
	if n := len(l.regions); n > 0 && r.Start-l.regions[n-1].End <= l.gap {
		l.regions[n-1].End = max(l.regions[n-1].End, r.End)
		return
	}
	l.regions = append(l.regions, r)
	for len(l.regions) > l.max {
		l.coarsen()
	}
}

func (l *regionList) coarsen() {
	if l.gap == 0 {
		l.gap = BlockSize
	} else {
		l.gap *= 2
	}
	merged := l.regions[:1]
	for _, r := range l.regions[1:] {
		last := &merged[len(merged)-1]
		if r.Start-last.End <= l.gap {
			last.End = max(last.End, r.End)
			continue
		}
		merged = append(merged, r)
	}
	l.regions = merged
}
