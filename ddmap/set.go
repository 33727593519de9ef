package ddmap

import (
	"fmt"
	"os"

	"holmes/blockdev"
)

// Set is the mapfiles given for images (--map IMAGE=MAPFILE, a case
// file's "maps"), and the one place they are applied: every image a DEV
// names is opened through OpenFile, which gives it the holes of its map.
// An image is recognised by the file it is (device and inode), however
// the path to it is spelled.
type Set struct {
	entries []*entry
}

type entry struct {
	image, mapfile string
	info           os.FileInfo
	m              *Map
	opened         bool
}

// Add reads mapfile for image. The image must exist; one image takes one
// mapfile (the same pair given twice, from the command line and the case
// file, is one).
func (s *Set) Add(image, mapfile string) error {
	info, err := os.Stat(image)
	if err != nil {
		return fmt.Errorf("ddrescue mapfile %s for %s: image: %w", mapfile, image, err)
	}
	for _, e := range s.entries {
		if os.SameFile(e.info, info) {
			if same, _ := sameFile(e.mapfile, mapfile); same {
				return nil
			}
			return fmt.Errorf("image %s has two ddrescue mapfiles: %s and %s", image, e.mapfile, mapfile)
		}
	}
	m, err := ReadFile(mapfile)
	if err != nil {
		return err
	}
	s.entries = append(s.entries, &entry{image: image, mapfile: mapfile, info: info, m: m})
	return nil
}

func sameFile(a, b string) (bool, error) {
	ia, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	ib, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(ia, ib), nil
}

// OpenFile opens path read-only (blockdev.OpenFile); when a mapfile was
// given for that file, its unfinished bytes read as
// blockdev.UnreadableError naming the mapfile and the status. A mapfile
// that describes more bytes than the image holds is refused: it belongs to
// another image (or the image was cut short). One that describes fewer
// leaves the rest unfinished ("not in ddrescue mapfile"), as ddrescue would
// when resumed.
func (s *Set) OpenFile(path string) (blockdev.Device, error) {
	f, err := blockdev.OpenFile(path)
	if err != nil || s == nil || len(s.entries) == 0 {
		return f, err
	}
	info, err := os.Stat(path)
	if err != nil {
		f.Close()
		return nil, err
	}
	for _, e := range s.entries {
		if !os.SameFile(e.info, info) {
			continue
		}
		if end := e.m.End(); end > f.Size() {
			f.Close()
			return nil, fmt.Errorf("%s: ddrescue mapfile %s describes %d bytes, the image holds %d: not this image's map, or the image is cut short", path, e.mapfile, end, f.Size())
		}
		e.opened = true
		return blockdev.WithEachHole(f, e.m.Unfinished(f.Size(), e.mapfile)), nil
	}
	return f, nil
}

// Resolve is blockdev.Open's answer for a name that is no file, when no
// case file names layers: the same error as without a resolver.
func (s *Set) Resolve(name string) (blockdev.Device, error) {
	return blockdev.Open(name, nil)
}

// Opened says whether image, which has a mapfile in the set, was opened
// through it (a map for an image never read is most likely a mistyped
// path, which a command reports).
func (s *Set) Opened(image string) bool {
	info, err := os.Stat(image)
	if err != nil {
		return false
	}
	for _, e := range s.entries {
		if os.SameFile(e.info, info) {
			return e.opened
		}
	}
	return false
}
