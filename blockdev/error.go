package blockdev

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Mapper is a device whose bytes lie on another device: a byte range of a
// disk, an md array over its members, a logical volume over its PVs.
// MapOffset says which device holds byte off and where; ok is false where
// no device does (a missing member, an offset past the end).
type Mapper interface {
	MapOffset(off int64) (dev Device, devOff int64, ok bool)
}

// Location is a byte of a device, named as the device is.
type Location struct {
	Dev string `json:"device"`
	Off int64  `json:"offset"`
}

func (l Location) String() string {
	if l.Dev == "" {
		return fmt.Sprintf("byte %d", l.Off)
	}
	return fmt.Sprintf("%s @ %d", l.Dev, l.Off)
}

// maxTraceDepth bounds Trace: real stacks are a handful of layers deep,
// and a mapping that points back at itself must not loop.
const maxTraceDepth = 16

// Trace follows byte off of r down through every layer that maps its bytes
// onto another device, to the device that holds it (the physical disk, as
// far as the mapping is known). The first location is r's own. A layer
// named like the one below it (a member's data area carries the member's
// name) is shown once, at the lower layer's offset.
func Trace(r io.ReaderAt, off int64) []Location {
	trace := []Location{{Dev: nameOf(r), Off: off}}
	for range maxTraceDepth {
		m, ok := r.(Mapper)
		if !ok {
			break
		}
		dev, devOff, ok := m.MapOffset(off)
		if !ok || dev == nil {
			break
		}
		r, off = dev, devOff
		if last := &trace[len(trace)-1]; last.Dev == dev.Name() {
			last.Off = off
			continue
		}
		trace = append(trace, Location{Dev: dev.Name(), Off: off})
	}
	return trace
}

func nameOf(r io.ReaderAt) string {
	if n, ok := r.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}

// Error is a failure at a place: what was being read or decoded, the byte
// it lies at on every layer down to the disk, and what was wrong. Like
// debug/elf's FormatError it carries the offset; unlike it, the offset on
// each device of the stack, so that an error deep inside an LV on an array
// names the physical disk and byte:
//
//	ext: directory inode 12 block 0 (guests/home @ 8653824 = md1 @ 26214400 = disk03.img:p2 @ 14155776 = disk03.img @ 15204352): bad checksum
type Error struct {
	What  string     // the structure: "ext: directory inode 12 block 0"
	Where []Location // where it lies: the device it was read from first, the disk last
	Err   error      // what was wrong
}

// At returns the error err met reading what at byte off of r, located down
// the stack below r.
func At(r io.ReaderAt, off int64, what string, err error) *Error {
	return &Error{What: what, Where: Trace(r, off), Err: err}
}

// Dev and Off are where the structure was read: the top of the stack.
func (e *Error) Dev() string { return e.top().Dev }
func (e *Error) Off() int64  { return e.top().Off }

func (e *Error) top() Location {
	if len(e.Where) == 0 {
		return Location{}
	}
	return e.Where[0]
}

// Error prints what, where and the cause. A cause that is itself an Error
// located on a device of this one's stack (a read of an LV failing in the
// array below it) continues the same chain, so the message shows one path
// from the top device to the failing one, and the innermost cause.
func (e *Error) Error() string {
	where, cause := e.joined()
	var b strings.Builder
	b.WriteString(e.What)
	if len(where) > 0 {
		b.WriteString(" (")
		for i, l := range where {
			if i > 0 {
				b.WriteString(" = ")
			}
			b.WriteString(l.String())
		}
		b.WriteString(")")
	}
	if cause != nil {
		b.WriteString(": ")
		b.WriteString(cause.Error())
	}
	return b.String()
}

// joined splices the locations of directly nested Errors into one chain:
// an inner Error whose first location (device and offset) appears in the
// chain so far replaces the chain from there (the inner one knows the path
// its failure took).
func (e *Error) joined() ([]Location, error) {
	where, cause := slices.Clone(e.Where), e.Err
	for range maxTraceDepth {
		inner, ok := cause.(*Error)
		if !ok || len(inner.Where) == 0 {
			break
		}
		k := slices.Index(where, inner.Where[0])
		if k < 0 {
			break
		}
		where, cause = append(where[:k], inner.Where...), inner.Err
	}
	return where, cause
}

func (e *Error) Unwrap() error { return e.Err }

// MapOffset places byte off of the section on its parent.
func (s *Section) MapOffset(off int64) (Device, int64, bool) {
	if off < 0 || off >= s.size {
		return nil, 0, false
	}
	return s.parent, s.start + off, true
}
