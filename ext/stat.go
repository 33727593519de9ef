package ext

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Stat is the JSON form of an inode, with the fields debugfs stat shows.
type Stat struct {
	Inode       uint32   `json:"inode"`
	Type        string   `json:"type"`
	Mode        uint16   `json:"mode"` // permission bits (07777)
	Flags       uint32   `json:"flags"`
	Generation  uint32   `json:"generation"`
	Version     uint64   `json:"version"`
	UID         uint32   `json:"uid"`
	GID         uint32   `json:"gid"`
	Project     uint32   `json:"project"`
	Size        uint64   `json:"size"`
	FileACL     uint64   `json:"file_acl"`
	Links       uint16   `json:"links"`
	Blockcount  uint64   `json:"blockcount"`
	Ctime       string   `json:"ctime"`
	Atime       string   `json:"atime"`
	Mtime       string   `json:"mtime"`
	Crtime      string   `json:"crtime,omitempty"`
	Dtime       uint32   `json:"dtime,omitempty"`
	ExtraIsize  uint16   `json:"extra_isize"`
	ChecksumOK  *bool    `json:"checksum_ok"`
	LinkTarget  string   `json:"link_target,omitempty"`
	InlineBytes int      `json:"inline_bytes,omitempty"`
	ExtentDepth *int     `json:"extent_depth,omitempty"`
	Runs        []Run    `json:"runs,omitempty"`
	MapBlocks   []uint64 `json:"map_blocks,omitempty"` // indirect or extent tree blocks
	MapError    string   `json:"map_error,omitempty"`
	// ChecksumProblems lists extent blocks whose metadata_csum fails.
	ChecksumProblems []string `json:"checksum_problems,omitempty"`
	Xattrs           []Xattr  `json:"xattrs,omitempty"`
}

// StatInode collects what stat shows about in.
func (fs *FS) StatInode(in *Inode) *Stat {
	st := &Stat{
		Inode: in.Num, Type: in.TypeName(), Mode: in.Mode & 0o7777, Flags: in.Flags, Generation: in.Generation,
		Version: in.Version, UID: in.UID, GID: in.GID, Project: in.ProjectID, Size: in.Size, FileACL: in.FileACL,
		Links: in.Links, Blockcount: in.Blocks, Dtime: in.Dtime, ExtraIsize: in.ExtraIsize,
		Ctime: in.Ctime.Format(time.RFC3339Nano), Atime: in.Atime.Format(time.RFC3339Nano), Mtime: in.Mtime.Format(time.RFC3339Nano),
	}
	if in.hasExtra(0x94) {
		st.Crtime = in.Crtime.Format(time.RFC3339Nano)
	}
	if in.ChecksumPresent {
		ok := in.ChecksumOK
		st.ChecksumOK = &ok
	}
	st.Xattrs, _ = fs.Xattrs(in)
	if in.IsSymlink() {
		if t, err := fs.ReadLink(in); err == nil {
			st.LinkTarget = t
		}
	}
	m, err := fs.Map(in)
	switch {
	case err != nil:
		st.MapError = err.Error()
	case m.Inline != nil:
		st.InlineBytes = len(m.Inline)
	default:
		st.Runs, st.MapBlocks, st.ChecksumProblems = m.Runs, m.Meta, m.ChecksumErrors
		if m.Depth >= 0 {
			d := m.Depth
			st.ExtentDepth = &d
		}
	}
	return st
}

// hasExtra reports whether the large-inode field ending at byte end is present.
func (in *Inode) hasExtra(end int) bool {
	return len(in.raw) >= end && 128+int(in.ExtraIsize) >= end
}

// WriteDebugfsStat prints in the way debugfs stat does, field for field,
// so the two can be compared line by line (times in UTC).
func (fs *FS) WriteDebugfsStat(w io.Writer, in *Inode) error {
	var b strings.Builder
	raw := func(off int) uint32 {
		if in.hasExtra(off + 4) {
			return uint32(in.raw[off]) | uint32(in.raw[off+1])<<8 | uint32(in.raw[off+2])<<16 | uint32(in.raw[off+3])<<24
		}
		return 0
	}
	lo := func(off int) uint32 {
		return uint32(in.raw[off]) | uint32(in.raw[off+1])<<8 | uint32(in.raw[off+2])<<16 | uint32(in.raw[off+3])<<24
	}
	large := len(in.raw) > 128
	fmt.Fprintf(&b, "Inode: %d   Type: %s    Mode:  0%03o   Flags: 0x%x\n", in.Num, in.TypeName(), in.Mode&0o7777, in.Flags)
	if large && in.ExtraIsize >= 24 {
		fmt.Fprintf(&b, "Generation: %d    Version: 0x%08x:%08x\n", in.Generation, uint32(in.Version>>32), uint32(in.Version))
	} else {
		fmt.Fprintf(&b, "Generation: %d    Version: 0x%08x\n", in.Generation, uint32(in.Version))
	}
	fmt.Fprintf(&b, "User: %5d   Group: %5d", in.UID, in.GID)
	if large && in.ExtraIsize >= 32 {
		fmt.Fprintf(&b, "   Project: %5d", in.ProjectID)
	}
	fmt.Fprintf(&b, "   Size: %d\n", in.Size)
	fmt.Fprintf(&b, "File ACL: %d\n", in.FileACL)
	fmt.Fprintf(&b, "Links: %d   Blockcount: %d\n", in.Links, in.Blocks)
	fmt.Fprintf(&b, "Fragment:  Address: %d    Number: 0    Size: 0\n", lo(0x70))
	stamp := func(t time.Time) string { return t.Format("Mon Jan _2 15:04:05 2006") }
	if large && in.ExtraIsize >= 24 {
		fmt.Fprintf(&b, " ctime: 0x%08x:%08x -- %s\n", lo(0xC), raw(0x84), stamp(in.Ctime))
		fmt.Fprintf(&b, " atime: 0x%08x:%08x -- %s\n", lo(0x8), raw(0x8C), stamp(in.Atime))
		fmt.Fprintf(&b, " mtime: 0x%08x:%08x -- %s\n", lo(0x10), raw(0x88), stamp(in.Mtime))
		if in.hasExtra(0x98) {
			fmt.Fprintf(&b, "crtime: 0x%08x:%08x -- %s\n", raw(0x90), raw(0x94), stamp(in.Crtime))
		}
	} else {
		fmt.Fprintf(&b, "ctime: 0x%08x -- %s\n", lo(0xC), stamp(in.Ctime))
		fmt.Fprintf(&b, "atime: 0x%08x -- %s\n", lo(0x8), stamp(in.Atime))
		fmt.Fprintf(&b, "mtime: 0x%08x -- %s\n", lo(0x10), stamp(in.Mtime))
	}
	if in.Dtime != 0 {
		fmt.Fprintf(&b, " dtime: 0x%08x -- %s\n", in.Dtime, stamp(time.Unix(int64(in.Dtime), 0).UTC()))
	}
	if large {
		fmt.Fprintf(&b, "Size of extra inode fields: %d\n", in.ExtraIsize)
	}
	if xs, err := fs.Xattrs(in); len(xs) > 0 || err != nil {
		b.WriteString("Extended attributes:\n")
		for _, x := range xs {
			writeXattr(&b, x)
		}
		if err != nil {
			fmt.Fprintf(&b, "(holmes: %v)\n", err)
		}
	}
	if in.ChecksumPresent {
		fmt.Fprintf(&b, "Inode checksum: 0x%08x\n", in.Checksum)
		if !in.ChecksumOK {
			fmt.Fprintf(&b, "(holmes: inode checksum does not match)\n")
		}
	}
	switch {
	case in.IsSymlink() && (fs.isFastSymlink(in) || in.Flags&flagInlineData != 0):
		t, _ := fs.ReadLink(in)
		fmt.Fprintf(&b, "Fast link dest: %q\n", t)
	case in.Mode&modeType == modeChr || in.Mode&modeType == modeBlk:
		ma, mi := in.DeviceNumber()
		fmt.Fprintf(&b, "Device major/minor number: %02d:%02d (hex %02x:%02x)\n", ma, mi, ma, mi)
	default:
		fs.writeBlockList(&b, in)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (fs *FS) writeBlockList(b *strings.Builder, in *Inode) {
	m, err := fs.Map(in)
	if err != nil {
		fmt.Fprintf(b, "(holmes: %v)\n", err)
		return
	}
	if m.Inline != nil {
		fmt.Fprintf(b, "Size of inline data: %d\n", len(m.Inline))
		return
	}
	for _, e := range m.ChecksumErrors {
		fmt.Fprintf(b, "(holmes: %s)\n", e)
	}
	if in.Flags&flagExtents != 0 {
		b.WriteString("EXTENTS:\n")
	} else {
		b.WriteString("BLOCKS:\n")
	}
	var parts []string
	for _, blk := range m.Meta {
		parts = append(parts, fmt.Sprintf("(map):%d", blk))
	}
	total := uint64(len(m.Meta))
	for _, r := range m.Runs {
		u := ""
		if r.Unwritten {
			u = "[u]"
		}
		if r.Len == 1 {
			parts = append(parts, fmt.Sprintf("(%d%s):%d", r.Logical, u, r.Physical))
		} else {
			parts = append(parts, fmt.Sprintf("(%d-%d%s):%d-%d", r.Logical, r.Logical+r.Len-1, u, r.Physical, r.Physical+r.Len-1))
		}
		total += r.Len
	}
	if len(parts) > 0 {
		b.WriteString(strings.Join(parts, ", ") + "\n")
	}
	if in.Flags&flagExtents == 0 {
		fmt.Fprintf(b, "TOTAL: %d\n", total)
	}
	b.WriteString("\n")
}

// writeXattr prints an attribute as debugfs stat does: name and size, and
// a short value (never system.data, which is file content).
func writeXattr(b *strings.Builder, x Xattr) {
	fmt.Fprintf(b, "  %s (%d)", x.Name, len(x.Value))
	if len(x.Value) > 0 && len(x.Value) < 40 && x.Name != "system.data" {
		b.WriteString(" = " + quoteXattr(x.Value))
	}
	b.WriteString("\n")
}

// quoteXattr shows printable values as a quoted string, others as hex.
func quoteXattr(v []byte) string {
	printable := true
	for i, c := range v {
		if (c < 0x20 || c > 0x7e) && !(c == 0 && i == len(v)-1) {
			printable = false
		}
	}
	if printable {
		return fmt.Sprintf("%q", strings.TrimSuffix(string(v), "\x00"))
	}
	var h strings.Builder
	for _, c := range v {
		fmt.Fprintf(&h, "%02x ", c)
	}
	return h.String()
}
