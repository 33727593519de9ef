package mdraid

// The inverse of the layouts' locate: what the array keeps at a byte of a
// member's data area. trace walks the stack upwards with it, from a member
// range to the array bytes it holds.

// MemberRun is one run of a member's data area and what the array keeps there.
type MemberRun struct {
	AreaOffset int64 `json:"area_offset"` // bytes from the start of the member's data area
	Length     int64 `json:"length"`
	// ArrayOffset is the array byte the run's first byte holds; -1 when
	// the run holds no array data (parity, or past the array's end).
	ArrayOffset int64 `json:"array_offset"`
	// Parity is "P" or "Q" when the run holds that parity of Stripe.
	Parity string `json:"parity,omitempty"`
	Stripe int64  `json:"stripe"`
}

// MemberRuns says what the array keeps in bytes [off, off+n) of role's
// data area, one run per piece that maps contiguously (a chunk on striped
// levels), at most max runs; a run past the array's data has ArrayOffset
// -1 and no parity. It needs no member present: the geometry decides.
func (a *Array) MemberRuns(role int, off, n int64, max int) []MemberRun {
	var runs []MemberRun
	if role < 0 || role >= len(a.areas) || off < 0 || n <= 0 {
		return nil
	}
	end := off + min(n, 1<<62-off)
	for pos := off; pos < end && len(runs) < max; {
		r := a.memberRun(role, pos)
		r.Length = min(r.Length, end-pos)
		runs = append(runs, r)
		pos += r.Length
	}
	return runs
}

// memberRun is the run starting at byte pos of role's data area.
func (a *Array) memberRun(role int, pos int64) MemberRun {
	unused := func(length int64) MemberRun {
		return MemberRun{AreaOffset: pos, Length: length, ArrayOffset: -1, Stripe: -1}
	}
	switch l := a.layout.(type) {
	case raid1:
		if pos >= l.dev {
			return unused(1 << 62)
		}
		return MemberRun{AreaOffset: pos, Length: l.dev - pos, ArrayOffset: pos, Stripe: -1}
	case *linear:
		start := int64(0)
		if role > 0 {
			start = l.ends[role-1]
		}
		if pos >= l.ends[role]-start {
			return unused(1 << 62)
		}
		return MemberRun{AreaOffset: pos, Length: l.ends[role] - start - pos, ArrayOffset: start + pos, Stripe: -1}
	case *raid0:
		for _, z := range l.zones {
			n := int64(len(z.members))
			zoneEnd := z.devStart + (z.end-z.start)/n
			k := -1
			for i, m := range z.members {
				if m == role {
					k = i
				}
			}
			if k < 0 || pos < z.devStart || pos >= zoneEnd {
				continue
			}
			row, within := (pos-z.devStart)/l.chunk, pos%l.chunk
			slot := int64(k)
			if !l.alternate { // the original layout picks the member by the absolute chunk
				slot = ((int64(k)-z.start/l.chunk)%n + n) % n
			}
			return a.checked(role, pos, z.start+(row*n+slot)*l.chunk+within, l.chunk-within)
		}
		return unused(l.chunk - pos%l.chunk)
	case *raid10:
		if off, ok := l.virtual(role, pos); ok {
			return a.checked(role, pos, off, l.chunk-pos%l.chunk)
		}
		return unused(l.chunk - pos%l.chunk)
	case *parity:
		stripe, within := pos/l.chunk, pos%l.chunk
		if pos >= l.devSize {
			return unused(1 << 62)
		}
		s := l.stripe(stripe)
		run := MemberRun{AreaOffset: pos, Length: l.chunk - within, ArrayOffset: -1, Stripe: stripe}
		switch role {
		case s.pd:
			run.Parity = "P"
		case s.qd:
			run.Parity = "Q"
		default:
			for dd, m := range s.data {
				if m == role {
					return a.checked(role, pos, (stripe*int64(l.dataDisks)+int64(dd))*l.chunk+within, l.chunk-within)
				}
			}
		}
		return run
	}
	return unused(1 << 62)
}

// checked returns the run holding array byte off at pos of role's data
// area after asking locate the way round: an inverse that disagrees with
// the forward mapping (a geometry corner the inverse misreads) says
// "unused" rather than a wrong array offset.
func (a *Array) checked(role int, pos, off, length int64) MemberRun {
	if off >= 0 && off < a.Size() {
		places, _ := a.layout.locate(off)
		for _, p := range places {
			if p.member == role && p.offset == pos {
				return MemberRun{AreaOffset: pos, Length: min(length, a.Size()-off), ArrayOffset: off, Stripe: -1}
			}
		}
	}
	return MemberRun{AreaOffset: pos, Length: length, ArrayOffset: -1, Stripe: -1}
}

// virtual is the array offset whose copy lives at byte pos of member dev
// (the kernel's raid10_find_virt): undo the far copies' shift by near
// members per stride (or per chunk with the offset layout), then read the
// chunk number off the near layout.
func (r *raid10) virtual(dev int, pos int64) (int64, bool) {
	setStart := dev / r.farSetSize * r.farSetSize
	setSize := r.farSetSize
	if r.disks%r.farSetSize != 0 {
		if last := (r.disks/r.farSetSize - 1) * r.farSetSize; dev >= last {
			setStart, setSize = last, r.farSetSize+r.disks%r.farSetSize
		}
	}
	within := pos % r.chunk
	var chunk int64
	if r.l.offset {
		chunk = pos / r.chunk
		fc := int(chunk % int64(r.l.far))
		chunk /= int64(r.l.far)
		dev -= fc * r.l.near
		if dev < setStart {
			dev += setSize
		}
	} else {
		copies := pos / r.stride
		if copies >= int64(r.l.far) {
			return 0, false // past the last far copy
		}
		pos -= copies * r.stride
		for range copies {
			if dev < r.l.near+setStart {
				dev += setSize - r.l.near
			} else {
				dev -= r.l.near
			}
		}
		chunk = pos / r.chunk
	}
	if dev < 0 || dev >= r.disks {
		return 0, false
	}
	v := (chunk*int64(r.disks) + int64(dev)) / int64(r.l.near)
	return v*r.chunk + within, true
}

// SuperblockRange is where an md superblock of the given version
// ("0.90", "1.0", "1.1", "1.2") lives on a member of size bytes, with the
// 4 KiB mdadm reserves for it; ok is false for an unknown version or a
// member too small to hold one.
func SuperblockRange(version string, size int64) (off, length int64, ok bool) {
	for _, p := range standardPositions(size) {
		if p.version == version {
			return p.offset, 4096, true
		}
	}
	return 0, 0, false
}
