package triage

import (
	"cmp"
	"slices"

	"holmes/blockdev"
	"holmes/trace"
)

// Unreadable is one range of a DEV the evidence lacks (a gap of its
// ddrescue mapfile) and what it costs: which arrays still read its bytes
// from another copy or parity, and what the bytes no copy holds were.
type Unreadable struct {
	Dev   string `json:"dev"`
	Start int64  `json:"start"`
	End   int64  `json:"end"`
	Why   string `json:"why"`
	// RoutedAround are the array ranges the arrays read from elsewhere.
	RoutedAround []ArrayRange `json:"routed_around"`
	// LostInArrays are the array ranges no copy or parity holds.
	LostInArrays []ArrayRange `json:"lost_in_arrays"`
	// Lost is what the lost bytes held at the top of the stack (a file,
	// an inode table); empty when an array reads every byte elsewhere, or
	// the bytes are a member's own (md metadata, parity md rebuilds).
	Lost []Touch `json:"lost"`
}

// ArrayRange is [Start, End) of an array.
type ArrayRange struct {
	Array string `json:"array"`
	Start int64  `json:"start"`
	End   int64  `json:"end"`
}

// LostFile is a file with bytes no copy holds, in the file's own offsets.
type LostFile struct {
	FS     string      `json:"fs"` // the DEV of its filesystem: guests/home, md0
	Path   string      `json:"path"`
	Ranges []FileRange `json:"ranges"`
	Bytes  int64       `json:"bytes"`
}

// FileRange is [Start, End) of a file.
type FileRange struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// maxUnreadable bounds the gaps traced per run, as maxTraced does the
// divergent regions: a mapfile of a dying disk may hold thousands.
const maxUnreadable = 1024

// traceUnreadable takes every gap of the disks up the stack (trace.Holes)
// and records it, and the files it loses.
func (t *Triage) traceUnreadable() {
	var disks []string
	for _, d := range t.disks {
		// A collect archive's disk lacks what was not kept, which is on
		// the disk all the same: nothing is lost (the warnings say what
		// was not read).
		if lacking([]*unit{{dev: d}}) != blockdev.NotCollected {
			disks = append(disks, d.Name())
		}
	}
	holes, err := t.stack().Holes(disks)
	if err != nil {
		t.warn("tracing the unreadable ranges: %v", err)
		return
	}
	if len(holes) > maxUnreadable {
		t.warn("%d unreadable ranges: only the first %d are traced", len(holes), maxUnreadable)
		holes = holes[:maxUnreadable]
	}
	files := map[[2]string]*LostFile{}
	for _, h := range holes {
		u := Unreadable{Dev: h.Dev, Start: h.Offset, End: h.Offset + h.Length, Why: h.Why,
			RoutedAround: []ArrayRange{}, LostInArrays: []ArrayRange{}}
		var above []trace.Step // the steps of the bytes no array reads
		for _, s := range h.Steps {
			switch {
			case s.What == trace.RoutedAround:
				u.RoutedAround = append(u.RoutedAround, ArrayRange{s.Dev, s.Offset, s.Offset + s.Length})
			case s.What == trace.LostInArray:
				u.LostInArrays = append(u.LostInArrays, ArrayRange{s.Dev, s.Offset, s.Offset + s.Length})
				above = append(above, s)
			case s.Layer != "md" && s.Layer != "partition" && s.Layer != "":
				above = append(above, s)
			}
			if s.Layer == "ext" && s.What == "file" && s.Path != "" {
				key := [2]string{s.Dev, s.Path}
				if files[key] == nil {
					files[key] = &LostFile{FS: s.Dev, Path: s.Path}
				}
				files[key].Ranges = append(files[key].Ranges, FileRange{s.FileOffset, s.FileOffset + s.Length})
			}
		}
		if !slices.ContainsFunc(h.Steps, func(s trace.Step) bool { return s.Layer == "md" }) {
			above = h.Steps // no array between the disk and what it holds
		}
		u.Lost = topTouches(above)
		if u.Lost == nil {
			u.Lost = []Touch{}
		}
		t.Result.Unreadable = append(t.Result.Unreadable, u)
	}
	for _, f := range files {
		f.Ranges = mergeRanges(f.Ranges)
		for _, r := range f.Ranges {
			f.Bytes += r.End - r.Start
		}
		t.Result.LostFiles = append(t.Result.LostFiles, *f)
	}
	slices.SortFunc(t.Result.LostFiles, func(a, b LostFile) int {
		return cmp.Or(cmp.Compare(a.FS, b.FS), cmp.Compare(a.Path, b.Path))
	})
}

// mergeRanges sorts ranges and merges those that overlap or touch: the
// halves of a mirror name the same lost bytes twice.
func mergeRanges(rs []FileRange) []FileRange {
	slices.SortFunc(rs, func(a, b FileRange) int { return cmp.Compare(a.Start, b.Start) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}
