package ext

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DirEntry is one name in a directory.
type DirEntry struct {
	Name  string `json:"name"`
	Inode uint32 `json:"inode"`
	Type  uint8  `json:"-"` // dirent file type (0 when the filetype feature is off)
	// Deleted marks a removed entry still readable in the slack space of
	// the entry before it; its inode may since have been reused.
	Deleted bool `json:"deleted,omitempty"`
	// Encrypted marks an entry of an encrypted directory: Name is then
	// "_" and the base64url of the NameBytes stored bytes of ciphertext.
	Encrypted bool `json:"encrypted,omitempty"`
	NameBytes int  `json:"name_bytes,omitempty"`
}

// maxProblems bounds how many damaged blocks one error message names.
const maxProblems = 8

// maxDirBytes bounds how much of a directory is read: large_dir allows
// 3-level htrees, far below this.
const maxDirBytes = 1 << 31

// ReadDir returns the entries of directory inode in, "." and ".." included,
// in on-disk order. Damage inside a block skips the rest of that block and
// is reported in the returned error after every readable entry.
func (fs *FS) ReadDir(in *Inode) ([]DirEntry, error) {
	entries, err := fs.readDir(in, false)
	return markEncryptedNames(in, entries), err
}

// ReadDirWithDeleted is ReadDir plus the removed entries that can still be
// read where the kernel left them (marked Deleted), like debugfs ls -d.
func (fs *FS) ReadDirWithDeleted(in *Inode) ([]DirEntry, error) {
	entries, err := fs.readDir(in, true)
	return markEncryptedNames(in, entries), err
}

func (fs *FS) readDir(in *Inode, deleted bool) ([]DirEntry, error) {
	if !in.IsDir() {
		return nil, fmt.Errorf("ext: inode %d is not a directory", in.Num)
	}
	if in.Flags&flagInlineData != 0 {
		return fs.readInlineDir(in, deleted)
	}
	r, err := fs.Reader(in)
	if err != nil {
		return nil, err
	}
	if r.Size() > maxDirBytes {
		return nil, fmt.Errorf("ext: directory inode %d claims %d bytes", in.Num, r.Size())
	}
	var entries []DirEntry
	var problems []string
	block := make([]byte, fs.bs)
	for off := int64(0); off < r.Size(); off += fs.bs {
		n, err := r.ReadAt(block, off)
		if err != nil && err != io.EOF {
			return entries, err
		}
		if allZero(block[:n]) {
			problems = append(problems, fmt.Sprintf("block %d is all zeros", off/fs.bs))
			continue
		}
		if !fs.dirBlockChecksumOK(in, block[:n]) {
			problems = append(problems, fmt.Sprintf("block %d: bad checksum", off/fs.bs))
		}
		// htree index blocks hide binary index data in slack: no deleted
		// entries there.
		index := in.Flags&flagIndex != 0 && (off == 0 || isIndexNode(block[:n]))
		if e := fs.parseDirBlock(block[:n], deleted && !index, &entries); e != nil {
			problems = append(problems, fmt.Sprintf("block %d: %v", off/fs.bs, e))
		}
	}
	if len(problems) > maxProblems {
		problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", len(problems)-maxProblems))
	}
	if len(problems) > 0 {
		return entries, fmt.Errorf("ext: directory inode %d: %s", in.Num, strings.Join(problems, "; "))
	}
	return entries, nil
}

// dirBlockChecksumOK checks the metadata_csum tail of a leaf directory
// block: a fake 12-byte entry (inode 0, rec_len 12, type 0xDE) holding the
// crc32c of the block before it. Blocks without the tail (htree index
// blocks keep theirs elsewhere) are not judged.
func (fs *FS) dirBlockChecksumOK(in *Inode, b []byte) bool {
	if !fs.SB.HasMetadataCsum() || len(b) < 12 {
		return true
	}
	t := b[len(b)-12:]
	le := binary.LittleEndian
	if le.Uint32(t) != 0 || le.Uint16(t[4:]) != 12 || t[6] != 0 || t[7] != 0xDE {
		return true
	}
	return crc32c(fs.inodeSeed(in.Num, in.Generation), b[:len(b)-12]) == le.Uint32(t[8:])
}

// parseDirBlock appends the live entries of one linear directory block,
// and with deleted the removed ones it can still see. htree interior
// blocks read as one empty entry, so a plain walk of every block sees each
// name once.
func (fs *FS) parseDirBlock(b []byte, deleted bool, out *[]DirEntry) error {
	le := binary.LittleEndian
	fileType := fs.SB.FeatureIncompat&incompatFiletype != 0
	for off := 0; off < len(b); {
		if off+8 > len(b) {
			return fmt.Errorf("entry at byte %d truncated", off)
		}
		ino := le.Uint32(b[off:])
		recLen := int(le.Uint16(b[off+4:]))
		if recLen == 0 || recLen == 65535 {
			recLen = 65536 // large blocks encode 64 KiB this way
		}
		nameLen := int(b[off+6])
		typ := b[off+7]
		if !fileType {
			nameLen |= int(typ) << 8
			typ = 0
		}
		if recLen < 8 || recLen%4 != 0 || off+recLen > len(b) || 8+nameLen > recLen {
			return fmt.Errorf("bad entry at byte %d (rec_len %d, name_len %d)", off, recLen, nameLen)
		}
		switch {
		case ino != 0 && nameLen > 0:
			if ino > fs.SB.InodesCount {
				return fmt.Errorf("entry at byte %d names inode %d, beyond %d", off, ino, fs.SB.InodesCount)
			}
			*out = append(*out, DirEntry{Name: string(b[off+8 : off+8+nameLen]), Inode: ino, Type: typ})
		case deleted && nameLen > 0 && plausibleName(b[off+8:off+8+nameLen]):
			// The first entry of a block is deleted by zeroing its inode.
			*out = append(*out, DirEntry{Name: string(b[off+8 : off+8+nameLen]), Type: typ, Deleted: true})
		}
		if deleted {
			used := (8 + nameLen + 3) &^ 3
			fs.deletedEntries(b[off+used:off+recLen], fileType, out)
		}
		off += recLen
	}
	return nil
}

// deletedEntries finds removed entries in the slack after a live entry:
// removing an entry only grows the rec_len of the one before it, so the
// old header and name stay until overwritten. Candidates are checked like
// live entries and their names must be plausible.
func (fs *FS) deletedEntries(slack []byte, fileType bool, out *[]DirEntry) {
	le := binary.LittleEndian
	for p := 0; p+8 <= len(slack); {
		ino := le.Uint32(slack[p:])
		recLen := int(le.Uint16(slack[p+4:]))
		nameLen := int(slack[p+6])
		typ := slack[p+7]
		if !fileType {
			nameLen |= int(typ) << 8
			typ = 0
		}
		if nameLen == 0 || 8+nameLen > len(slack)-p || recLen < 8+nameLen || recLen%4 != 0 ||
			ino > fs.SB.InodesCount || !plausibleName(slack[p+8:p+8+nameLen]) {
			p += 4 // entries are 4-byte aligned: try the next position
			continue
		}
		*out = append(*out, DirEntry{Name: string(slack[p+8 : p+8+nameLen]), Inode: ino, Type: typ, Deleted: true})
		p += (8 + nameLen + 3) &^ 3
	}
}

// isIndexNode recognises an htree interior block: one empty entry
// spanning the whole block, the index after its header.
func isIndexNode(b []byte) bool {
	le := binary.LittleEndian
	recLen := int(le.Uint16(b[4:]))
	return le.Uint32(b) == 0 && b[6] == 0 && (recLen == len(b) || (len(b) == 65536 && (recLen == 0 || recLen == 65535)))
}

// plausibleName rejects bytes no file name contains.
func plausibleName(b []byte) bool {
	for _, c := range b {
		if c == 0 || c == '/' {
			return false
		}
	}
	return true
}

// readInlineDir: the parent inode number in the first 4 bytes of i_block,
// entries in the rest and in the system.data attribute.
func (fs *FS) readInlineDir(in *Inode, deleted bool) ([]DirEntry, error) {
	data, err := fs.inlineData(in)
	if err != nil {
		return nil, err
	}
	entries := []DirEntry{{Name: ".", Inode: in.Num}, {Name: "..", Inode: binary.LittleEndian.Uint32(data[0:])}} // synthesized: no dirent type, as debugfs shows
	if err := fs.parseDirBlock(data[4:60], deleted, &entries); err != nil {
		return entries, fmt.Errorf("ext: inline directory inode %d: %w", in.Num, err)
	}
	if len(data) > 60 {
		if err := fs.parseDirBlock(data[60:], deleted, &entries); err != nil {
			return entries, fmt.Errorf("ext: inline directory inode %d: %w", in.Num, err)
		}
	}
	return entries, nil
}

// lookup finds name in directory dir.
func (fs *FS) lookup(dir *Inode, name string) (uint32, error) {
	entries, err := fs.ReadDir(dir)
	for _, e := range entries {
		if e.Name == name {
			return e.Inode, nil
		}
	}
	if n, ok := casefoldMatch(entries, name); ok && dir.IsCasefolded() {
		return n, nil
	}
	if err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("not found")
}

// Lookup resolves a path to an inode. Paths are absolute ("/etc/fstab"),
// start at an inode number as find prints them ("#12/lvm/backup"), or are
// an inode alone as debugfs writes it ("<12>").
// Symbolic links are not followed.
func (fs *FS) Lookup(path string) (*Inode, error) {
	ino := uint32(RootIno)
	rest := path
	if strings.HasPrefix(path, "<") && strings.HasSuffix(path, ">") {
		path = "#" + path[1:len(path)-1] // debugfs's spelling of an inode
		rest = path
	}
	if strings.HasPrefix(path, "#") {
		head, tail, _ := strings.Cut(path[1:], "/")
		n, err := strconv.ParseUint(head, 10, 32)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("ext: %q: bad inode number after #", path)
		}
		ino, rest = uint32(n), tail
	} else if !strings.HasPrefix(path, "/") && path != "" {
		return nil, fmt.Errorf("ext: %q: paths start with / or #INODE", path)
	}
	cur, err := fs.Inode(ino)
	if err != nil {
		return nil, err
	}
	walked := path[:len(path)-len(rest)]
	for _, name := range strings.Split(rest, "/") {
		if name == "" || name == "." {
			continue
		}
		if !cur.IsDir() {
			return nil, fmt.Errorf("ext: %s: not a directory", strings.TrimSuffix(walked, "/"))
		}
		n, err := fs.lookup(cur, name)
		walked = strings.TrimSuffix(walked, "/") + "/" + name
		if err != nil {
			return nil, fmt.Errorf("ext: %s: %w", walked, err)
		}
		if cur, err = fs.Inode(n); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
