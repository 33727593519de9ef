package ext

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"holmes/blockdev"
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

// maxDirBytes bounds the size a directory may claim: large_dir allows
// 3-level htrees, far below this. (Only mapped blocks are ever read.)
const maxDirBytes = 1 << 31

// ReadDir returns the entries of directory inode in, "." and ".." included,
// in on-disk order. Damage inside a block skips the rest of that block and
// is reported in the returned error after every readable entry.
func (fs *FS) ReadDir(in *Inode) ([]DirEntry, error) { return fs.collectDir(in, false) }

// ReadDirWithDeleted is ReadDir plus the removed entries that can still be
// read where the kernel left them (marked Deleted), like debugfs ls -d.
func (fs *FS) ReadDirWithDeleted(in *Inode) ([]DirEntry, error) { return fs.collectDir(in, true) }

func (fs *FS) collectDir(in *Inode, deleted bool) ([]DirEntry, error) {
	var entries []DirEntry
	err := fs.WalkDir(in, deleted, func(e DirEntry) bool {
		entries = append(entries, e)
		return true
	})
	return entries, err
}

// WalkDir calls fn with each entry of directory in, in on-disk order, until
// fn returns false; with deleted, removed entries still readable come too.
// It holds one block at a time and reads only the blocks the directory's
// map gives it, each once: holes are counted, not read, so a directory
// claiming gigabytes without blocks costs nothing. Damage inside a block
// skips the rest of that block and is reported in the returned error after
// every readable entry.
func (fs *FS) WalkDir(in *Inode, deleted bool, fn func(DirEntry) bool) error {
	if !in.IsDir() {
		return fmt.Errorf("ext: inode %d is not a directory", in.Num)
	}
	var p dirProblems
	if in.Flags&flagInlineData != 0 {
		fs.walkInlineDir(in, deleted, fn, &p)
		return p.err(in.Num)
	}
	if in.Size > maxDirBytes {
		return fmt.Errorf("ext: directory inode %d claims %d bytes", in.Num, in.Size)
	}
	m, err := fs.Map(in)
	if err != nil {
		return err
	}
	nblocks := fs.maxLogical(in)
	mapped := uint64(0)
	block := make([]byte, fs.bs)
	var ents []DirEntry
	for _, r := range m.Runs {
		for i := range min(r.Len, nblocks-min(nblocks, r.Logical)) {
			mapped++
			lb := r.Logical + i
			n := min(fs.bs, int64(in.Size)-int64(lb)*fs.bs)
			b := block[:n]
			if r.Unwritten {
				p.add(fmt.Sprintf("block %d is all zeros", lb))
				continue
			}
			if err := fs.readAt(b, int64(r.Physical+i)*fs.bs); err != nil {
				if _, gap := blockdev.AsUnreadable(err); gap {
					// A block the evidence lacks loses its own entries only.
					p.addErr(fmt.Errorf("block %d: %w", lb, err))
					continue
				}
				return fmt.Errorf("ext: directory inode %d block %d (physical %d): %w", in.Num, lb, r.Physical+i, err)
			}
			at := func(what string) error { // located down the stack
				return fs.errorAt(int64(r.Physical+i)*fs.bs, fmt.Sprintf("block %d = fs block %d", lb, r.Physical+i), errors.New(what))
			}
			if allZero(b) {
				p.addErr(at("all zeros"))
				continue
			}
			if !fs.dirBlockChecksumOK(in, b) {
				p.addErr(at("bad checksum"))
			}
			// htree index blocks hide binary index data in slack: no deleted
			// entries there.
			index := in.Flags&flagIndex != 0 && (lb == 0 || isIndexNode(b))
			ents = ents[:0]
			if e := fs.parseDirBlock(b, deleted && !index, &ents); e != nil {
				p.addErr(at(e.Error()))
			}
			for _, e := range markEncryptedNames(in, ents) {
				if !fn(e) {
					return p.err(in.Num)
				}
			}
		}
	}
	if holes := nblocks - mapped; holes > 0 {
		p.add(fmt.Sprintf("%d of %d blocks are holes", holes, nblocks))
	}
	return p.err(in.Num)
}

// dirProblems collects what is wrong with one directory, naming the first
// few and counting the rest.
type dirProblems struct {
	first    []string
	more     int
	firstErr error // the first problem, when located: errors.As finds where it lies
}

func (p *dirProblems) addErr(err error) {
	if len(p.first) == 0 {
		p.firstErr = err
	}
	p.add(err.Error())
}

func (p *dirProblems) add(s string) {
	if len(p.first) < maxProblems {
		p.first = append(p.first, s)
	} else {
		p.more++
	}
}

func (p *dirProblems) err(ino uint32) error {
	if len(p.first) == 0 {
		return nil
	}
	rest := p.first[1:]
	if p.more > 0 {
		rest = append(rest, fmt.Sprintf("and %d more", p.more))
	}
	first := p.firstErr
	if first == nil {
		first = errors.New(p.first[0])
	}
	if len(rest) == 0 {
		return fmt.Errorf("ext: directory inode %d: %w", ino, first)
	}
	return fmt.Errorf("ext: directory inode %d: %w; %s", ino, first, strings.Join(rest, "; "))
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

// walkInlineDir: the parent inode number in the first 4 bytes of i_block,
// entries in the rest and in the system.data attribute.
func (fs *FS) walkInlineDir(in *Inode, deleted bool, fn func(DirEntry) bool, p *dirProblems) {
	data, _ := fs.inlineData(in)
	entries := []DirEntry{{Name: ".", Inode: in.Num}, {Name: "..", Inode: binary.LittleEndian.Uint32(data[0:])}} // synthesized: no dirent type, as debugfs shows
	if err := fs.parseDirBlock(data[4:60], deleted, &entries); err != nil {
		p.add(fmt.Sprintf("inline: %v", err))
	} else if len(data) > 60 {
		if err := fs.parseDirBlock(data[60:], deleted, &entries); err != nil {
			p.add(fmt.Sprintf("inline: %v", err))
		}
	}
	for _, e := range markEncryptedNames(in, entries) {
		if !fn(e) {
			return
		}
	}
}

// lookup finds name in directory dir.
func (fs *FS) lookup(dir *Inode, name string) (uint32, error) {
	var found, folded uint32
	err := fs.WalkDir(dir, false, func(e DirEntry) bool {
		if e.Name == name {
			found = e.Inode
		} else if folded == 0 && dir.IsCasefolded() && foldsTo(e.Name, name) {
			folded = e.Inode
		}
		return found == 0
	})
	switch {
	case found != 0:
		return found, nil
	case folded != 0:
		return folded, nil
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
