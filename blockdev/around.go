package blockdev

import (
	"io"
	"slices"
)

// sector is the finest unit a disk (and a ddrescue mapfile) loses bytes
// in; a hole whose end cannot be told from the layers below is taken one
// sector at a time.
const sector = 512

// ReadAround reads len(p) bytes of d at off and goes on past unreadable
// ranges instead of stopping at the first. It returns those ranges, in d's
// own offsets, sorted and merged; their bytes in p are zeroed and mean
// nothing. Any other error (a short device, an I/O error) ends the read.
//
// The ranges are exact: an UnreadableError names its range on the device
// that lacks the bytes, which may lie layers below d (a member under an
// array, an image under a partition), so where the hole ends in d is asked
// of d itself: the layers below say where it ends at most, and one-byte
// reads find the first byte d can read before that.
func ReadAround(d Device, p []byte, off int64) ([]Extent, error) {
	var holes []Extent
	end := off + int64(len(p))
	for pos := off; pos < end; {
		n, err := d.ReadAt(p[pos-off:], pos)
		if int64(n) == end-pos && (err == nil || err == io.EOF) {
			break
		}
		u, ok := AsUnreadable(err)
		if !ok {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return holes, err
		}
		pos += int64(n)
		if readable(d, pos) {
			// The device gave back fewer bytes than it holds before the
			// gap: find the gap's first byte as the longest read that
			// succeeds from pos.
			pos = firstUnreadable(d, p[pos-off:], pos)
			if pos == end {
				break
			}
		}
		holeEnd := unreadableUntil(d, pos, end, u)
		clear(p[pos-off : holeEnd-off])
		if k := len(holes); k > 0 && holes[k-1].End() == pos {
			holes[k-1].Len += holeEnd - pos
		} else {
			holes = append(holes, Extent{pos, holeEnd - pos})
		}
		pos = holeEnd
	}
	return holes, nil
}

// UnreadableIn lists the unreadable ranges of [off, off+length) of d by
// reading it all, in chunks of at most chunk bytes.
func UnreadableIn(d Device, off, length int64, chunk int) ([]Extent, error) {
	buf := make([]byte, min(int64(chunk), max(length, 0)))
	var holes []Extent
	for pos, end := off, off+length; pos < end; {
		n := min(int64(len(buf)), end-pos)
		h, err := ReadAround(d, buf[:n], pos)
		if err != nil {
			return nil, err
		}
		for _, e := range h {
			if k := len(holes); k > 0 && holes[k-1].End() == e.Off {
				holes[k-1].Len += e.Len
			} else {
				holes = append(holes, e)
			}
		}
		pos += n
	}
	return holes, nil
}

// unreadableUntil returns the end of the unreadable run of d that starts at
// pos (which d cannot read), at most limit.
func unreadableUntil(d Device, pos, limit int64, u *UnreadableError) int64 {
	rest, linear := holeBelow(d, pos, u)
	bound := min(limit, pos+rest)
	lo := pos + 1 // d cannot read lo-1
	if !linear {
		// An array may hold some of these bytes on another copy: ask d
		// one sector at a time (disks lose whole sectors), and find the
		// byte within the first sector it reads.
		for next := pos - pos%sector + sector; next < bound && !readable(d, next); next += sector {
			lo = next + 1
		}
		bound = min(bound, lo-1-(lo-1)%sector+sector)
	}
	// Through linear layers (and within a sector) the run is a prefix of
	// [lo-1, bound): find its end by halving.
	hi := bound
	for lo < hi {
		mid := lo + (hi-lo)/2
		if readable(d, mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return max(lo, min(limit, pos+1))
}

// firstUnreadable reads p at pos, for as long as d can, and returns the
// offset of the first byte it cannot (pos+len(p) if none); p holds the
// bytes before it.
func firstUnreadable(d Device, p []byte, pos int64) int64 {
	ok := func(n int) bool { k, err := d.ReadAt(p[:n], pos); return k == n && (err == nil || err == io.EOF) }
	lo, hi := 1, len(p) // reading lo bytes works; is hi the shortest that fails?
	if ok(hi) {
		return pos + int64(hi)
	}
	for lo < hi-1 {
		mid := lo + (hi-lo)/2
		if ok(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	ok(lo)
	return pos + int64(lo)
}

func readable(d Device, off int64) bool {
	var b [1]byte
	_, err := d.ReadAt(b[:], off)
	_, hole := AsUnreadable(err)
	return !hole
}

// holeBelow says how many bytes from pos on d lie, at most, in the hole
// that stopped a read at pos: it follows pos down the layers to the one
// holding the hole and takes the rest of the hole there, cut to the bytes
// the layers map linearly onto it. linear is true when every layer down to
// the hole is a window on the next (a partition, a byte range), so that all
// those bytes are in the hole; an array or an LV may read some of them
// elsewhere. Without a layer naming the hole it is the rest of a sector.
func holeBelow(d Device, pos int64, u *UnreadableError) (rest int64, linear bool) {
	// A layer's own holes (WithHoles) are exact in its offsets; a layer
	// merely named like the error's device may be a window of it that
	// carries its name (an array member's data area), so the name counts
	// only where no layer has the hole.
	type layer struct {
		at               Location
		ownRest, errRest int64
		window           bool
	}
	var path []layer
	walkLayers(d, pos, func(dev Device, off int64) bool {
		l := layer{at: Location{dev.Name(), off}, window: isWindow(dev)}
		for _, h := range HolesOf(dev) {
			if h.Off <= off && off < h.End() {
				l.ownRest = h.End() - off
			}
		}
		if dev.Name() == u.Dev && u.Off <= off && off < u.Off+u.Len {
			l.errRest = u.Off + u.Len - off
		}
		path = append(path, l)
		return l.ownRest == 0
	})
	depth := slices.IndexFunc(path, func(l layer) bool { return l.ownRest > 0 })
	if depth >= 0 {
		rest = path[depth].ownRest
	} else if depth = slices.IndexFunc(path, func(l layer) bool { return l.errRest > 0 }); depth >= 0 {
		rest = path[depth].errRest
	} else {
		return sector - pos%sector, false
	}
	linear = !slices.ContainsFunc(path[:depth], func(l layer) bool { return !l.window })
	// A chunked layer (an array) maps pos+rest-1 elsewhere: halve until the
	// last byte lands in the same hole at the same distance.
	for rest > sector && !mapsLinearly(d, pos, rest-1, depth, path[depth].at) {
		rest /= 2
	}
	return rest, linear
}

// isWindow says whether d's bytes are those of one range of the device
// below, in order.
func isWindow(d Device) bool {
	switch d.(type) {
	case *Section, *holey, *stack, *borrowed:
		return true
	}
	return false
}

// mapsLinearly says whether byte pos+dist of d lies at depth layers down on
// the device named at, dist bytes after at.
func mapsLinearly(d Device, pos, dist int64, depth int, at Location) bool {
	same := false
	i := 0
	walkLayers(d, pos+dist, func(dev Device, off int64) bool {
		if i == depth {
			same = dev.Name() == at.Dev && off == at.Off+dist
			return false
		}
		i++
		return true
	})
	return same
}

// walkLayers calls fn with d and off, then with every device and offset the
// layers map off onto, top down, until fn returns false or no layer maps it.
func walkLayers(d Device, off int64, fn func(dev Device, off int64) bool) {
	for range maxTraceDepth {
		if !fn(d, off) {
			return
		}
		m, ok := d.(Mapper)
		if !ok {
			return
		}
		next, nextOff, ok := m.MapOffset(off)
		if !ok || next == nil {
			return
		}
		d, off = next, nextOff
	}
}
