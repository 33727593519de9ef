package mdraid

import (
	"bytes"
	"errors"
	"fmt"
	"io"

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

// rebuilder is a layout that can recompute bytes of a lost member from the
// others (raid4/5/6).
type rebuilder interface {
	rebuild(a *Array, p []byte, off int64, lost map[int]bool) error
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
		if err := a.readPlaces(p[done:done+n], pos, places); err != nil {
			return done, err
		}
		done += n
	}
	if done < want {
		return done, io.EOF
	}
	return done, nil
}

// readPlaces fills p from the first place that reads, else by rebuilding.
func (a *Array) readPlaces(p []byte, off int64, places []place) error {
	lost := map[int]bool{}
	var lastErr error
	for _, pl := range places {
		m := a.areas[pl.member]
		if m == nil {
			lost[pl.member] = true
			continue
		}
		if _, err := m.ReadAt(p, pl.offset); err != nil {
			lost[pl.member] = true
			lastErr = fmt.Errorf("member %d (%s) at %d: %w", pl.member, m.Name(), pl.offset, err)
			continue
		}
		return nil
	}
	if r, ok := a.layout.(rebuilder); ok {
		return r.rebuild(a, p, off, lost)
	}
	if lastErr != nil {
		return fmt.Errorf("%s: offset %d: %w", a.name, off, lastErr)
	}
	return fmt.Errorf("%s: offset %d: %w", a.name, off, errMissing(places))
}

func errMissing(places []place) error {
	roles := make([]int, len(places))
	for i, pl := range places {
		roles[i] = pl.member
	}
	return fmt.Errorf("every copy is on a missing member (roles %v)", roles)
}

// readMember reads from member i's data area, failing clearly if it is gone.
func (a *Array) readMember(i int, p []byte, off int64) error {
	m := a.areas[i]
	if m == nil {
		return errors.New("missing")
	}
	_, err := m.ReadAt(p, off)
	return err
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
			return false, fmt.Errorf("%s: member %d at %d: %w", a.name, pl.member, pl.offset, err)
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
