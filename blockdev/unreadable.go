package blockdev

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Extent is a byte range of a device.
type Extent struct {
	Off, Len int64
}

// End is the first byte after the extent.
func (e Extent) End() int64 { return e.Off + e.Len }

// UnreadableError is what a read of bytes the evidence does not hold
// returns: a range a ddrescue mapfile does not mark finished, a region a
// collect archive did not keep. It is never answered with zeros. Off and Len
// are the whole unreadable range on Dev (which may extend past the read that
// met it), so a caller can route around it or report it.
//
// An md array (mdraid) reads around its members' unreadable ranges (from
// another copy, or rebuilt from parity) and returns one only for array
// bytes no member can give: then Dev is the array, Off the first array
// byte of the read that is lost, and Len runs from there to where some
// member reads again or to the end of that read's part in one chunk,
// whichever comes first (a loss that continues past it shows on the next
// read, from Off+Len on). Why names each member's cause. Layers above
// (a logical volume, a partition) pass it up as it is: Dev and Off stay the
// array's; UnreadableFrom puts it in the reader's own offsets.
type UnreadableError struct {
	Dev      string
	Off, Len int64
	// Why says where the gap comes from: "not finished in ddrescue mapfile
	// disk1.map", "not collected".
	Why string
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("%s: bytes %d-%d unreadable (%s)", e.Dev, e.Off, e.Off+e.Len-1, e.Why)
}

// End is the first byte after the unreadable range.
func (e *UnreadableError) End() int64 { return e.Off + e.Len }

// NotCollected is the Why of the bytes a collect archive did not keep: they
// are on the disks, only not in the archive, so their absence loses nothing.
const NotCollected = "not collected"

// AsUnreadable finds the UnreadableError anywhere in err's chain.
func AsUnreadable(err error) (*UnreadableError, bool) {
	var u *UnreadableError
	ok := errors.As(err, &u)
	return u, ok
}

// WithHoles is d with the given ranges unreadable: a read that reaches one
// returns the bytes before it and an *UnreadableError naming the whole
// range. The holes are clipped to the device, sorted and merged; empty ones
// are dropped. Name, size and MapOffset are d's.
func WithHoles(d Device, holes []Extent, why string) Device {
	merged := normalize(holes, d.Size())
	each := make([]Hole, len(merged))
	for i, e := range merged {
		each[i] = Hole{e, why}
	}
	return &holey{Device: d, holes: each}
}

// Hole is an unreadable range and why it is one.
type Hole struct {
	Extent
	Why string
}

// WithEachHole is WithHoles with a reason for each hole (a ddrescue
// mapfile's bad sectors and its non-tried blocks). Holes are clipped to the
// device and sorted; touching holes of one reason are merged, touching holes
// of different reasons stay apart (a read meets the first and then, reading
// on, the next); overlapping holes are merged with both reasons.
func WithEachHole(d Device, holes []Hole) Device {
	var out []Hole
	for _, h := range holes {
		start, end := max(h.Off, 0), min(h.End(), d.Size())
		if h.Len <= 0 || h.End() < h.Off || start >= end {
			continue
		}
		out = append(out, Hole{Extent{start, end - start}, h.Why})
	}
	slices.SortStableFunc(out, func(a, b Hole) int { return cmp.Compare(a.Off, b.Off) })
	merged := out[:0]
	for _, h := range out {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			if h.Off < last.End() || h.Off == last.End() && h.Why == last.Why {
				last.Len = max(last.End(), h.End()) - last.Off
				if !strings.Contains(last.Why, h.Why) {
					last.Why += "; " + h.Why
				}
				continue
			}
		}
		merged = append(merged, h)
	}
	return &holey{Device: d, holes: merged}
}

// ReadableOnly is d with every byte outside readable unreadable.
func ReadableOnly(d Device, readable []Extent, why string) Device {
	return WithHoles(d, Complement(readable, d.Size()), why)
}

// Complement is the ranges of [0, size) that no extent covers, in order.
func Complement(extents []Extent, size int64) []Extent {
	var out []Extent
	at := int64(0)
	for _, e := range normalize(extents, size) {
		if e.Off > at {
			out = append(out, Extent{at, e.Off - at})
		}
		at = e.End()
	}
	if at < size {
		out = append(out, Extent{at, size - at})
	}
	return out
}

// normalize clips extents to [0, size), sorts and merges them.
func normalize(extents []Extent, size int64) []Extent {
	var out []Extent
	for _, e := range extents {
		start, end := max(e.Off, 0), min(e.End(), size)
		if e.Len <= 0 || e.End() < e.Off || start >= end { // empty or overflowing
			continue
		}
		out = append(out, Extent{start, end - start})
	}
	slices.SortFunc(out, func(a, b Extent) int { return cmp.Compare(a.Off, b.Off) })
	merged := out[:0]
	for _, e := range out {
		if n := len(merged); n > 0 && e.Off <= merged[n-1].End() {
			merged[n-1].Len = max(merged[n-1].End(), e.End()) - merged[n-1].Off
			continue
		}
		merged = append(merged, e)
	}
	return merged
}

type holey struct {
	Device
	holes []Hole
}

func (h *holey) ReadAt(p []byte, off int64) (int, error) {
	// The first hole that ends after off.
	i := sort.Search(len(h.holes), func(i int) bool { return h.holes[i].End() > off })
	if i < len(h.holes) && h.holes[i].Off < off+int64(len(p)) {
		hole := h.holes[i]
		n := 0
		if hole.Off > off {
			var err error
			n, err = h.Device.ReadAt(p[:hole.Off-off], off)
			if err != nil {
				return n, err
			}
		}
		return n, &UnreadableError{Dev: h.Name(), Off: hole.Off, Len: hole.Len, Why: hole.Why}
	}
	return h.Device.ReadAt(p, off)
}

// MapOffset keeps the layers under d visible to Trace.
func (h *holey) MapOffset(off int64) (Device, int64, bool) {
	if m, ok := h.Device.(Mapper); ok {
		return m.MapOffset(off)
	}
	return nil, 0, false
}

// HolesOf says which ranges of d are unreadable, when d is (or stacks over,
// at the top) a device made by WithHoles, or a byte range (a partition) of
// one; nil otherwise.
func HolesOf(d Device) []Extent {
	for {
		switch v := d.(type) {
		case *holey:
			out := make([]Extent, len(v.holes))
			for i, h := range v.holes {
				out[i] = h.Extent
			}
			return out
		case *stack:
			d = v.Device
		case *borrowed:
			d = v.Device
		case *Section:
			var in []Extent
			for _, h := range HolesOf(v.parent) {
				in = append(in, Extent{h.Off - v.start, h.Len})
			}
			return normalize(in, v.size)
		default:
			return nil
		}
	}
}

// UnreadableFrom says how far the unreadable range err names reaches on d,
// for a read of d that met it at byte off (the first byte that did not
// read): the range [off, end) of d, in d's own offsets. It follows off down
// d's layers (Trace) to the device err names, so a range met on a disk
// image under a partition and a member's data area comes back in the data
// area's offsets. ok is false when err holds no UnreadableError on a device
// below d at off.
func UnreadableFrom(d Device, off int64, err error) (Extent, bool) {
	u, ok := AsUnreadable(err)
	if !ok {
		return Extent{}, false
	}
	for _, l := range Trace(d, off) {
		if l.Dev == u.Dev && l.Off >= u.Off && l.Off < u.End() {
			end := min(off+(u.End()-l.Off), d.Size())
			return Extent{off, end - off}, end > off
		}
	}
	return Extent{}, false
}
