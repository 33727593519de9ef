// Package blockdev opens evidence read-only and presents every layer of a
// storage stack (an image file, a partition, a byte range, an assembled
// array, a logical volume) as the same thing: a named io.ReaderAt with a size.
package blockdev

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Device is a read-only, random-access view of bytes with a known size.
// Offsets passed to ReadAt are relative to the start of the device.
type Device interface {
	io.ReaderAt
	// Size is the length of the device in bytes.
	Size() int64
	// Name says what the device is, for error messages and reports
	// (the DEV argument as the user gave it, or a derived name).
	Name() string
	io.Closer
}

// ErrOutOfRange is wrapped by errors about a byte range that does not lie
// on its device: a slice that does not fit, a structure said to lie past
// the end. (A read at or past the end returns io.EOF, as io.ReaderAt says.)
var ErrOutOfRange = errors.New("outside the device")

// File is an image file or block device opened read-only.
type File struct {
	f    *os.File
	size int64
	name string
}

// OpenFile opens path read-only. For a block device the size comes from the
// kernel (BLKGETSIZE64); for a regular file from its length. Directories and
// other special files are refused.
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path) // O_RDONLY: evidence is never opened for writing
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	var size int64
	switch mode := st.Mode(); {
	case mode.IsRegular():
		size = st.Size()
	case mode&os.ModeDevice != 0 && mode&os.ModeCharDevice == 0:
		size, err = blockDeviceSize(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: size of block device: %w", path, err)
		}
	case mode.IsDir():
		f.Close()
		return nil, fmt.Errorf("%s: is a directory", path)
	default:
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file or block device", path)
	}
	return &File{f: f, size: size, name: path}, nil
}

func (d *File) ReadAt(p []byte, off int64) (int, error) { return readAtBounded(d.f, d.size, p, off) }
func (d *File) Size() int64                             { return d.size }
func (d *File) Name() string                            { return d.name }
func (d *File) Close() error                            { return d.f.Close() }

// Section is a byte range of a parent device. Closing it does not close the parent.
type Section struct {
	parent Device
	start  int64
	size   int64
	name   string
}

// Slice returns the bytes [start, start+size) of parent as a device.
func Slice(parent Device, start, size int64, name string) (*Section, error) {
	if start < 0 || size < 0 || start > parent.Size() || size > parent.Size()-start {
		return nil, fmt.Errorf("%s: range %d+%d lies %w (size %d)", parent.Name(), start, size, ErrOutOfRange, parent.Size())
	}
	return &Section{parent: parent, start: start, size: size, name: name}, nil
}

func (s *Section) ReadAt(p []byte, off int64) (int, error) {
	return readAtBounded(readerAtFunc(func(b []byte, o int64) (int, error) {
		return s.parent.ReadAt(b, s.start+o)
	}), s.size, p, off)
}
func (s *Section) Size() int64    { return s.size }
func (s *Section) Name() string   { return s.name }
func (s *Section) Close() error   { return nil }
func (s *Section) Start() int64   { return s.start }
func (s *Section) Parent() Device { return s.parent }

type readerAtFunc func(p []byte, off int64) (int, error)

func (f readerAtFunc) ReadAt(p []byte, off int64) (int, error) { return f(p, off) }

// readAtBounded implements io.ReaderAt semantics over r limited to size bytes:
// a short read at the end returns io.EOF, a read at a negative offset fails.
func readAtBounded(r io.ReaderAt, size int64, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := len(p)
	if rem := size - off; int64(want) > rem {
		p = p[:rem]
	}
	n, err := r.ReadAt(p, off)
	if err == nil && n < want {
		err = io.EOF
	}
	return n, err
}

// Borrowed is d lent to a caller who must not close it: Close does
// nothing; its bytes, its layers (MapOffset, Trace) and its holes
// (HolesOf) are d's.
func Borrowed(d Device) Device { return &borrowed{d} }

type borrowed struct{ Device }

func (borrowed) Close() error { return nil }

// MapOffset keeps the layers under d visible to Trace.
func (b *borrowed) MapOffset(off int64) (Device, int64, bool) {
	if m, ok := b.Device.(Mapper); ok {
		return m.MapOffset(off)
	}
	return nil, 0, false
}

// Stack is d, a device built on the devices below it, as the one who
// opened them all hands it on: closing it closes d and then below. Who opens
// closes: a constructor (Slice, mdraid.Open, lvmmeta.OpenLV) never closes
// what it was given, so the resolver that opened a chain stacks it.
func Stack(d Device, below ...Device) Device { return &stack{d, below} }

type stack struct {
	Device
	below []Device
}

// MapOffset lets Trace see through the stack to the layers d maps onto.
func (s *stack) MapOffset(off int64) (Device, int64, bool) {
	if m, ok := s.Device.(Mapper); ok {
		return m.MapOffset(off)
	}
	return nil, 0, false
}

func (s *stack) Close() error {
	err := s.Device.Close()
	for _, b := range s.below {
		if b == nil {
			continue
		}
		if e := b.Close(); err == nil {
			err = e
		}
	}
	return err
}
