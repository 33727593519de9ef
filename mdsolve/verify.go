package mdsolve

import (
	"fmt"
	"io"
	"strings"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/mdraid"
)

// Bounds of the read-through of one filesystem (deep verification).
const (
	maxVerifyDirs     = 48
	maxVerifyFiles    = 96
	maxVerifyFileRead = 256 << 10
)

// readThrough reads a filesystem the way a user would, breadth first from
// the root: every directory must list "." as itself and ".." as its
// parent, with names a filesystem allows and inode numbers it has; every
// file's block map (extent tree or indirect blocks) must map; a file that
// starts as text must stay text to its end (a block from the wrong member,
// or parity, reads as binary in the middle of text). It returns how much
// was read, or what first failed.
func readThrough(fs *ext.FS) (dirs, files int, err error) {
	type dir struct {
		inode, parent uint32
		path          string
	}
	queue := []dir{{2, 2, "/"}}
	for len(queue) > 0 && dirs < maxVerifyDirs {
		d := queue[0]
		queue = queue[1:]
		in, err := fs.Inode(d.inode)
		if err != nil {
			return dirs, files, fmt.Errorf("directory %s: %w", d.path, err)
		}
		if !in.IsDir() {
			return dirs, files, fmt.Errorf("%s (inode %d) is not a directory", d.path, d.inode)
		}
		entries, err := fs.ReadDir(in)
		if err != nil {
			return dirs, files, fmt.Errorf("directory %s: %w", d.path, err)
		}
		dirs++
		dot, dotdot := false, false
		for _, e := range entries {
			switch {
			case e.Inode == 0 || e.Inode > fs.SB.InodesCount:
				return dirs, files, fmt.Errorf("directory %s: entry %q names inode %d of %d", d.path, e.Name, e.Inode, fs.SB.InodesCount)
			case e.Name == "" || strings.ContainsAny(e.Name, "/\x00"):
				return dirs, files, fmt.Errorf("directory %s: entry name %q", d.path, e.Name)
			case e.Name == ".":
				dot = e.Inode == d.inode
				continue
			case e.Name == "..":
				dotdot = e.Inode == d.parent
				continue
			}
			child, err := fs.Inode(e.Inode)
			if err != nil {
				return dirs, files, fmt.Errorf("%s%s: %w", d.path, e.Name, err)
			}
			switch {
			case child.IsDir():
				queue = append(queue, dir{e.Inode, d.inode, d.path + e.Name + "/"})
			case child.IsRegular() && files < maxVerifyFiles:
				if err := readFile(fs, child); err != nil {
					if _, gap := blockdev.AsUnreadable(err); gap {
						continue // bytes the evidence lacks: not checked
					}
					return dirs, files + 1, fmt.Errorf("%s%s: %w", d.path, e.Name, err)
				}
				files++
			}
		}
		if !dot || !dotdot {
			return dirs, files, fmt.Errorf("directory %s: \".\" or \"..\" missing or pointing elsewhere", d.path)
		}
	}
	return dirs, files, nil
}

// readFile reads the start of a file through its block map and checks that
// text stays text.
func readFile(fs *ext.FS, in *ext.Inode) error {
	r, err := fs.Reader(in)
	if err != nil {
		return err
	}
	buf := make([]byte, min(r.Size(), maxVerifyFileRead))
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return err
	}
	if len(buf) < 512 || !isText(buf[:512]) {
		return nil
	}
	for off := 0; off+512 <= len(buf); off += 512 {
		if !isText(buf[off : off+512]) {
			return fmt.Errorf("text turns to binary at byte %d", off)
		}
	}
	return nil
}

// isText: printable ASCII, tabs and newlines, nearly throughout.
func isText(b []byte) bool {
	odd := 0
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\t' && c != '\r' {
			odd++
		}
	}
	return odd*50 <= len(b)
}

// verifyVolume opens the filesystem of volume v through the candidate
// array and reads through it.
func verifyVolume(v volume, e *evidence) {
	fs, err := ext.Open(v.dev, v.dev.Size(), ext.Options{Superblock: ext.SuperblockPrimary})
	if err != nil {
		e.unreadable = append(e.unreadable, v.name)
		e.add(-8, "%s does not open as ext: %v", v.name, err)
		return
	}
	dirs, files, err := readThrough(fs)
	if _, gap := blockdev.AsUnreadable(err); gap {
		// Bytes the evidence lacks say nothing for or against the candidate.
		e.add(0, "%s could not be read through (%d directories, %d files read first): %v", v.name, dirs, files, err)
		return
	}
	if err != nil {
		e.unreadable = append(e.unreadable, v.name)
		e.add(-8, "%s does not read through (%d directories, %d files read first): %v", v.name, dirs, files, err)
		return
	}
	e.verified = append(e.verified, v.name)
	e.add(4, "%s reads through: %d directories and %d files, names, links and file text sane", v.name, dirs, files)
}

// arrayDevice lets an array be sliced like any device without giving the
// slice the power to close it.
type arrayDevice struct{ *mdraid.Array }

func (arrayDevice) Close() error { return nil }

// shadowed says whether the n array bytes at off, read through candidate
// c, are also what another member holds at the same place. Under a parity
// layout, where the rest of a stripe is zero, P (and Q for the first data
// slot) equals the data: such bytes read the same whichever of those
// members is put in the data role, so they say nothing about the order and
// are not counted as evidence for it.
func (s *solver) shadowed(arr *mdraid.Array, c *candidate, off int64, n int) bool {
	g := arr.Geometry()
	if g.Level != "raid4" && g.Level != "raid5" && g.Level != "raid6" || off < 0 || off >= arr.Size() {
		return false
	}
	role, areaOff, _, _ := arr.Locate(off)
	n = int(min(int64(n), g.ChunkBytes-off%g.ChunkBytes))
	if role >= len(c.order) || c.order[role] < 0 {
		return false
	}
	mine := make([]byte, n)
	if _, err := s.devs[c.order[role]].ReadAt(mine, g.DataOffset+areaOff); err != nil || isZero(mine) {
		return false
	}
	other := make([]byte, n)
	for r, d := range c.order {
		if r == role || d < 0 {
			continue
		}
		if _, err := s.devs[d].ReadAt(other, g.DataOffset+areaOff); err == nil && string(other) == string(mine) {
			return true
		}
	}
	return false
}
