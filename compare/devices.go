package compare

import (
	"fmt"

	"holmes/blockdev"
)

// DataArea is the part of an md member that holds array data: the bytes
// the two halves of a mirror have in common. Everything else on a member
// (superblock, bitmap, bad-block log, padding) legitimately differs.
type DataArea struct {
	Offset   int64  // bytes from the start of the device
	Size     int64  // bytes
	Metadata string // superblock version, for the report: "0.90", "1.2", ...
	// SuperOffset is where the superblock that describes the area lies.
	SuperOffset int64
}

// Locator finds the md data area of a device. found is false when the
// device carries no usable md superblock. Package compare does not read md
// metadata itself; the caller plugs in its md reader (holmes uses mdraid).
type Locator func(d blockdev.Device) (area DataArea, found bool, err error)

// Request says what Devices compares.
type Request struct {
	// Offset and Limit narrow the comparison to [Offset, Offset+Limit) of A,
	// like cmp -i and -n. A negative Limit means no limit.
	Offset, Limit int64
	// Raw compares every byte even when both devices carry md superblocks.
	Raw bool
	// Locate finds md data areas; nil compares raw.
	Locate Locator
	// Tuning of the comparison itself; its range fields are ignored.
	Options Options
}

// Report is the outcome of Devices. All offsets are offsets in A.
type Report struct {
	A      string `json:"a"`
	B      string `json:"b"`
	SizeA  int64  `json:"size_a"`
	SizeB  int64  `json:"size_b"`
	StartA int64  `json:"start_a"` // first byte of A compared
	StartB int64  `json:"start_b"` // the byte of B compared with it
	*Result
	Excluded []Excluded `json:"excluded"`
	Notes    []string   `json:"notes"`
}

// Excluded is a byte range of A that was not compared, and why.
type Excluded struct {
	Start int64  `json:"start"`
	End   int64  `json:"end"`
	Why   string `json:"why"`
}

// Devices compares a and b the way an operator means it: when both carry md
// superblocks only their data areas, aligned on each member's data offset;
// devices of different sizes over their common length; then the window
// Offset/Limit. It says what it left out and why.
func Devices(a, b blockdev.Device, req Request) (*Report, error) {
	if req.Offset < 0 {
		return nil, fmt.Errorf("compare: negative offset %d", req.Offset)
	}
	if req.Offset > a.Size() {
		return nil, fmt.Errorf("compare: %s: offset %d is past the end of the device (%d bytes)", a.Name(), req.Offset, a.Size())
	}
	rep := &Report{A: a.Name(), B: b.Name(), SizeA: a.Size(), SizeB: b.Size(), Excluded: []Excluded{}, Notes: []string{}}
	areaA, areaB := span{0, a.Size()}, span{0, b.Size()}
	var why [2]string // why A's bytes before and after the area are left out
	if !req.Raw && req.Locate != nil {
		mdA, okA, err := req.Locate(a)
		if err != nil {
			return nil, err
		}
		mdB, okB, err := req.Locate(b)
		if err != nil {
			return nil, err
		}
		switch {
		case okA && okB:
			var noteA, noteB string
			areaA, why, noteA = mdSpan(a, mdA)
			areaB, _, noteB = mdSpan(b, mdB)
			rep.Notes = appendNonEmpty(rep.Notes, noteA, noteB)
			if areaA.start != areaB.start {
				rep.Notes = append(rep.Notes, fmt.Sprintf("data areas aligned on their data offsets: %s+%d against %s+%d", a.Name(), areaA.start, b.Name(), areaB.start))
			}
		case okA || okB:
			with, without := a.Name(), b.Name()
			if okB {
				with, without = without, with
			}
			rep.Notes = append(rep.Notes, fmt.Sprintf("only %s carries an md superblock (%s has none): compared raw", with, without))
		}
	}
	n := min(areaA.size, areaB.size)
	if areaA.size != areaB.size {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s has %d bytes to compare and %s has %d: compared the common %d", a.Name(), areaA.size, b.Name(), areaB.size, n))
	}
	rep.exclude(0, areaA.start, why[0])
	start, end := areaA.start, areaA.start+n
	rep.exclude(start, max(start, min(end, req.Offset)), "before the requested offset")
	start = max(start, min(end, req.Offset))
	if req.Limit >= 0 && req.Limit < end-start {
		rep.exclude(start+req.Limit, end, "after the requested limit")
		end = start + req.Limit
	}
	rep.exclude(areaA.start+n, areaA.start+areaA.size, fmt.Sprintf("beyond the %d bytes %s has to compare", n, b.Name()))
	rep.exclude(areaA.start+areaA.size, a.Size(), why[1])

	rep.StartA, rep.StartB = start, start-areaA.start+areaB.start
	opt := req.Options
	opt.StartA, opt.StartB, opt.Length = rep.StartA, rep.StartB, end-start
	res, err := Ranges(a, b, opt)
	if err != nil {
		return nil, err
	}
	rep.Result = res
	return rep, nil
}

type span struct{ start, size int64 }

// mdSpan turns a member's data area into the span compared, bounded by the
// device (a corrupted superblock may claim more than there is), and says why
// the bytes around it are left out.
func mdSpan(d blockdev.Device, md DataArea) (s span, why [2]string, note string) {
	s = span{min(max(md.Offset, 0), d.Size()), max(md.Size, 0)}
	if s.size > d.Size()-s.start {
		note = fmt.Sprintf("md %s superblock at %d of %s claims data %d+%d beyond the device (size %d): compared up to its end",
			md.Metadata, md.SuperOffset, d.Name(), md.Offset, md.Size, d.Size())
		s.size = d.Size() - s.start
	}
	before := fmt.Sprintf("md %s metadata before the data offset (superblock at %d)", md.Metadata, md.SuperOffset)
	after := fmt.Sprintf("md %s metadata after the data area", md.Metadata)
	if md.SuperOffset >= s.start+s.size {
		after = fmt.Sprintf("md %s metadata after the data area (superblock at %d)", md.Metadata, md.SuperOffset)
	}
	return s, [2]string{before, after}, note
}

func appendNonEmpty(list []string, items ...string) []string {
	for _, s := range items {
		if s != "" {
			list = append(list, s)
		}
	}
	return list
}

func (r *Report) exclude(start, end int64, why string) {
	if end > start {
		r.Excluded = append(r.Excluded, Excluded{start, end, why})
	}
}
