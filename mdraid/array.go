package mdraid

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"holmes/blockdev"
)

// Array is an md array assembled in user space: a read-only
// blockdev.Device over the data areas of its members, mapped the way the
// kernel's md drivers map them. Missing members (nil) are tolerated as far as
// the level's redundancy allows: mirrors read a surviving copy, raid4/5/6
// reconstruct from parity.
type Array struct {
	geo    Geometry
	areas  []blockdev.Device // data area of each member in role order; nil = missing
	layout layout
	name   string
}

// place is where some array bytes live: a member (role) and an offset in its data area.
type place struct {
	member int
	offset int64
}

// layout is a level's address mapping.
type layout interface {
	// size is the array's size in bytes.
	size() int64
	// locate returns the places holding the array bytes at off (several for
	// mirrors: any one will do) and how many bytes from off stay contiguous there.
	locate(off int64) (places []place, run int64)
}

// rebuilder is a layout that can recompute bytes of a member from the
// others (raid4/5/6).
type rebuilder interface {
	// readAround fills buf (array bytes from off, inside one chunk) from the
	// member holding them and, where it does not read, from the rest of the
	// stripe; it returns how many bytes it filled.
	readAround(a *Array, buf []byte, off int64) (int, error)
}

// Open assembles members (role order, nil = missing) with geometry g. More
// members may be missing than the level survives: what lies on the present
// ones still reads, and reads that need a lost member fail saying so. Each
// member's data area starts at g.DataOffset; it is g.DataSize long, or runs to
// the end of the member when DataSize is 0.
func Open(g Geometry, members []blockdev.Device, name string) (*Array, error) {
	areas := make([]blockdev.Device, len(members))
	for i, m := range members {
		if m == nil {
			continue
		}
		size := g.DataSize
		if size == 0 {
			size = m.Size() - g.DataOffset
		}
		area, err := blockdev.Slice(m, g.DataOffset, size, m.Name())
		if err != nil {
			return nil, fmt.Errorf("%s: member %d: data area: %w", name, i, err)
		}
		areas[i] = area
	}
	return openAreas(g, areas, name)
}

// openAreas assembles members already cut to their data areas (superblocks
// may give each member its own data offset).
func openAreas(g Geometry, areas []blockdev.Device, name string) (*Array, error) {
	g, err := g.Normalize()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(areas) != g.RaidDisks {
		return nil, fmt.Errorf("%s: %d members given for %d raid disks", name, len(areas), g.RaidDisks)
	}
	missing := 0
	for _, m := range areas {
		if m == nil {
			missing++
		}
	}
	if missing == len(areas) {
		return nil, fmt.Errorf("%s: every member is missing", name)
	}
	a := &Array{geo: g, areas: areas, name: name}
	if g.DataSize == 0 && g.Level != "raid0" && g.Level != "linear" {
		a.geo.DataSize = a.smallestArea() // raid0 and linear use each member whole
	}
	switch g.Level {
	case "raid0":
		a.layout, err = newRaid0(g, a.areaSizes(), g.Layout == raid0Alternate)
	case "linear":
		a.layout, err = newLinear(g, a.areaSizes())
	case "raid1":
		a.layout = raid1{n: g.RaidDisks, dev: a.geo.DataSize}
	case "raid10":
		a.layout, err = newRaid10(a.geo)
	case "raid4", "raid5", "raid6":
		a.layout, err = newParity(a.geo)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return a, nil
}

// smallestArea is the size of the smallest present data area.
func (a *Array) smallestArea() int64 {
	var min int64 = -1
	for _, m := range a.areas {
		if m != nil && (min < 0 || m.Size() < min) {
			min = m.Size()
		}
	}
	return min
}

// areaSizes gives each member's data size (raid0 and linear use each
// member whole); a missing member's own size is unknown: it is taken to be
// the geometry's DataSize if set, else the smallest present member's.
func (a *Array) areaSizes() []int64 {
	guess := a.geo.DataSize
	if guess == 0 {
		guess = a.smallestArea()
	}
	sizes := make([]int64, len(a.areas))
	for i, m := range a.areas {
		sizes[i] = guess
		if m != nil {
			sizes[i] = m.Size()
		}
	}
	return sizes
}

// Geometry is the resolved geometry (defaults filled in, DataSize known).
func (a *Array) Geometry() Geometry { return a.geo }

func (a *Array) Size() int64  { return a.layout.size() }
func (a *Array) Name() string { return a.name }

// Close releases the array. The members stay open: whoever opened them
// closes them (a constructor never closes what it was given).
func (a *Array) Close() error { return nil }

// ReadAt reads array bytes, from one copy on mirrors, reconstructing
// through parity where a member is missing or fails.
func (a *Array) ReadAt(p []byte, off int64) (int, error) {
	size := a.Size()
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", a.name, off)
	}
	if off >= size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > size-off {
		p = p[:size-off]
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		places, run := a.layout.locate(pos)
		n := int(min(run, int64(len(p)-done)))
		k, err := a.readPlaces(p[done:done+n], pos, places)
		done += k
		if err != nil {
			return done, err
		}
	}
	if done < want {
		return done, io.EOF
	}
	return done, nil
}

// readPlaces fills p (array bytes from off, which places hold) from the
// first copy that reads; where it does not, from another copy or by
// rebuilding, range by range: members unreadable in different ranges (a
// ddrescue image's bad sectors on each) still give every byte.
func (a *Array) readPlaces(p []byte, off int64, places []place) (int, error) {
	for _, pl := range places { // the common case: a copy reads it all
		if a.areas[pl.member] != nil && a.readMember(pl.member, p, pl.offset) == nil {
			return len(p), nil
		}
	}
	if r, ok := a.layout.(rebuilder); ok {
		return r.readAround(a, p, off)
	}
	srcs := make([]*source, len(places))
	for i, pl := range places {
		srcs[i] = a.newSource(pl.member, pl.offset, len(p))
	}
	x := 0
next:
	for x < len(p) {
		end := len(p)
		for _, s := range srcs {
			ok, until := a.at(s, x)
			if ok {
				copy(p[x:until], s.buf[x:until])
				x = until
				continue next
			}
			end = min(end, until)
		}
		what := "no copy left"
		if len(srcs) == 1 {
			what = "no redundancy"
		}
		return x, a.lost(off, x, end, srcs, places, what)
	}
	return x, nil
}

// source is a member range that holds the bytes wanted (or helps rebuild
// them), read lazily: what of it has been read, and where it stops reading.
type source struct {
	member  int
	off     int64  // where the wanted bytes start in the member's data area
	buf     []byte // the wanted bytes as the member holds them
	from    int    // buf[from:good] is read
	good    int
	bad     int   // buf[good:bad] does not read
	why     error // what was met at good
	missing bool
}

func (a *Array) newSource(member int, off int64, n int) *source {
	s := &source{member: member, off: off, buf: make([]byte, n)}
	if a.areas[member] == nil {
		s.missing, s.bad, s.why = true, n, fmt.Errorf("member %d is missing", member)
	}
	return s
}

// at says whether s reads at byte x of the wanted range, and up to where it
// reads or, if not, up to where it does not. A member read that meets an
// unreadable range (blockdev.UnreadableError) knows where that range ends
// and reads again there; a member that fails otherwise reads no further.
func (a *Array) at(s *source, x int) (readable bool, until int) {
	switch {
	case x >= s.from && x < s.good:
		return true, s.good
	case x >= s.good && x < s.bad:
		return false, s.bad
	}
	m := a.areas[s.member]
	n, err := m.ReadAt(s.buf[x:], s.off+int64(x))
	s.from, s.good, s.bad, s.why = x, x+n, len(s.buf), nil
	if err == nil || err == io.EOF && x+n == len(s.buf) {
		s.good = len(s.buf)
		return true, s.good
	}
	if hole, ok := blockdev.UnreadableFrom(m, s.off+int64(s.good), err); ok {
		s.bad, s.why = min(len(s.buf), s.good+int(min(hole.Len, int64(len(s.buf))))), err
		// Holes of other causes may follow on (a ddrescue bad sector, then
		// the non-scraped rest of the area): one unreadable run.
		var probe [1]byte
		for s.bad < len(s.buf) {
			_, err := m.ReadAt(probe[:], s.off+int64(s.bad))
			next, ok := blockdev.UnreadableFrom(m, s.off+int64(s.bad), err)
			if !ok {
				break
			}
			s.bad = min(len(s.buf), s.bad+int(min(next.Len, int64(len(s.buf)))))
		}
	} else {
		s.why = blockdev.At(m, s.off+int64(s.good), fmt.Sprintf("member %d", s.member), err)
	}
	if n > 0 {
		return true, s.good
	}
	return false, s.bad
}

// lost is the error for array bytes [off+x, off+end) that no source gives.
// Where a member's unreadable range (a ddrescue gap) is among the causes,
// the array bytes are unreadable too: a blockdev.UnreadableError on the
// array naming each member's cause. Otherwise it is a failed read.
func (a *Array) lost(off int64, x, end int, srcs []*source, places []place, what string) error {
	var whys []string
	var hole bool
	var failure error
	missing := true
	for _, s := range srcs {
		if s.why == nil {
			continue
		}
		if _, ok := blockdev.AsUnreadable(s.why); ok {
			hole = true
		}
		if !s.missing {
			missing = false
			if failure == nil { // the first copy that failed names the failure
				failure = s.why
			}
		}
		whys = append(whys, s.why.Error())
	}
	if hole {
		return &blockdev.UnreadableError{Dev: a.name, Off: off + int64(x), Len: int64(end - x),
			Why: what + ": " + strings.Join(whys, "; ")}
	}
	switch {
	case what != "no copy left" && what != "no redundancy":
		return a.readError(off+int64(x), errors.New(what))
	case missing && places != nil:
		return a.readError(off+int64(x), errMissing(places))
	}
	return a.readError(off+int64(x), failure)
}

// readError locates a failed read of array byte off; err says which member
// failed where, or why no member could serve it.
func (a *Array) readError(off int64, err error) error {
	return &blockdev.Error{What: a.name + ": read", Where: []blockdev.Location{{Dev: a.name, Off: off}}, Err: err}
}

// MapOffset places array byte off on the first present member holding it
// (on mirrors any copy does); ok is false when only missing members hold it.
func (a *Array) MapOffset(off int64) (blockdev.Device, int64, bool) {
	if off < 0 || off >= a.Size() {
		return nil, 0, false
	}
	places, _ := a.layout.locate(off)
	for _, pl := range places {
		if m := a.areas[pl.member]; m != nil {
			return m, pl.offset, true
		}
	}
	return nil, 0, false
}

func errMissing(places []place) error {
	roles := make([]int, len(places))
	for i, pl := range places {
		roles[i] = pl.member
	}
	return fmt.Errorf("every copy is on a missing member (roles %v)", roles)
}

// readMember reads from member i's data area, failing clearly if it is
// gone; a failed read names the member's device and byte down the stack.
func (a *Array) readMember(i int, p []byte, off int64) error {
	m := a.areas[i]
	if m == nil {
		return fmt.Errorf("member %d is missing", i)
	}
	if n, err := m.ReadAt(p, off); err != nil && !(err == io.EOF && n == len(p)) {
		return blockdev.At(m, off, fmt.Sprintf("member %d", i), err)
	}
	return nil
}

// ErrNoRedundancy is returned by CheckRedundancy for levels without copies or parity.
var ErrNoRedundancy = errors.New("level has no redundancy")

// CheckRedundancy reports whether the redundancy agrees with the data for
// array bytes [off, off+n) (n is cut at the chunk's end): every copy equal
// on mirrors, P (and Q) equal to what the data gives on raid4/5/6. It reads
// present members only; a copy on a missing member is not checked.
func (a *Array) CheckRedundancy(off int64, n int) (bool, error) {
	if off < 0 || off >= a.Size() {
		return false, fmt.Errorf("%s: offset %d outside the array (size %d)", a.name, off, a.Size())
	}
	places, run := a.layout.locate(off)
	n = int(min(int64(n), run, a.Size()-off))
	if p, ok := a.layout.(*parity); ok {
		return p.check(a, off, n)
	}
	if len(places) < 2 {
		return false, ErrNoRedundancy
	}
	var first []byte
	for _, pl := range places {
		if a.areas[pl.member] == nil {
			continue
		}
		b := make([]byte, n)
		if err := a.readMember(pl.member, b, pl.offset); err != nil {
			return false, fmt.Errorf("%s: redundancy at %d: %w", a.name, off, err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			return false, nil
		}
	}
	return true, nil
}

// FirstRole is the role whose data area starts with the array's first
// bytes under geometry g (the layout decides: right-symmetric raid5 puts
// parity first, for example).
func FirstRole(g Geometry) int {
	g, err := g.Normalize()
	if err != nil {
		return 0
	}
	switch g.Level {
	case "raid10":
		return 0
	case "raid4", "raid5", "raid6":
		p, err := newParity(Geometry{Level: g.Level, Layout: g.Layout, ChunkBytes: g.ChunkBytes, RaidDisks: g.RaidDisks, DataSize: g.ChunkBytes})
		if err != nil {
			return 0
		}
		return p.stripe(0).data[0]
	}
	return 0
}

// Locate says where the array bytes at off live: the role holding them (the
// first copy on mirrors) and the offset in that role's data area, and for
// raid4/5/6 the roles holding the stripe's P and Q (-1 where there is none).
// The solver uses it to ask, per candidate geometry, which role a structure
// found on some member would have to be.
func (a *Array) Locate(off int64) (role int, areaOff int64, p, q int) {
	places, _ := a.layout.locate(off)
	p, q = -1, -1
	if par, ok := a.layout.(*parity); ok {
		s := par.stripe(off / par.chunk / int64(par.dataDisks))
		p, q = s.pd, s.qd
	}
	return places[0].member, places[0].offset, p, q
}

// ArrayOffset is Locate's inverse for raid4/5/6: the array offset of the
// data at areaOff in role's data area. ok is false where the role holds P
// or Q, past the end, or for other levels.
func (a *Array) ArrayOffset(role int, areaOff int64) (off int64, ok bool) {
	par, isParity := a.layout.(*parity)
	if !isParity || areaOff < 0 || areaOff >= par.devSize || role < 0 || role >= par.disks {
		return 0, false
	}
	stripe, inChunk := areaOff/par.chunk, areaOff%par.chunk
	s := par.stripe(stripe)
	for dd, m := range s.data {
		if m == role {
			return (stripe*int64(par.dataDisks)+int64(dd))*par.chunk + inChunk, true
		}
	}
	return 0, false
}
