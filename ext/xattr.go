package ext

import (
	"encoding/binary"
	"fmt"
)

const xattrMagic = 0xEA020000

// Xattr is one extended attribute, its name with the namespace prefix.
type Xattr struct {
	Name  string `json:"name"`
	Value []byte `json:"value"`
}

var xattrPrefixes = map[byte]string{
	1: "user.", 2: "system.posix_acl_access", 3: "system.posix_acl_default",
	4: "trusted.", 6: "security.", 7: "system.", 8: "system.richacl",
}

// Xattrs returns the extended attributes of in: those in the inode body,
// then those in its attribute block. Values stored in separate inodes
// (ea_inode) are returned empty.
func (fs *FS) Xattrs(in *Inode) ([]Xattr, error) {
	xs := inodeXattrs(in)
	if in.FileACL == 0 {
		return xs, nil
	}
	blk, err := fs.readBlock(in.FileACL)
	if err != nil {
		return xs, fmt.Errorf("ext: inode %d attribute block: %w", in.Num, err)
	}
	if binary.LittleEndian.Uint32(blk) != xattrMagic {
		return xs, fmt.Errorf("ext: inode %d attribute block %d: bad magic", in.Num, in.FileACL)
	}
	return append(xs, parseXattrs(blk[32:], blk)...), nil
}

// inodeXattrs reads the attributes stored after the large-inode fields.
func inodeXattrs(in *Inode) []Xattr {
	start := 128 + int(in.ExtraIsize)
	if len(in.raw) < start+4 || binary.LittleEndian.Uint32(in.raw[start:]) != xattrMagic {
		return nil
	}
	region := in.raw[start+4:]
	return parseXattrs(region, region)
}

// parseXattrs decodes entries until the terminating zero word; value
// offsets are relative to base. Entries that point outside are skipped.
func parseXattrs(entries, base []byte) []Xattr {
	le := binary.LittleEndian
	var xs []Xattr
	for off := 0; off+16 <= len(entries) && le.Uint32(entries[off:]) != 0; {
		e := entries[off:]
		nameLen := int(e[0])
		if off+16+nameLen > len(entries) {
			break
		}
		voff, vsize := int(le.Uint16(e[2:])), int(le.Uint32(e[8:]))
		var value []byte
		if le.Uint32(e[4:]) == 0 && voff+vsize <= len(base) && voff >= 0 {
			value = base[voff : voff+vsize]
		}
		xs = append(xs, Xattr{Name: xattrPrefixes[e[1]] + string(e[16:16+nameLen]), Value: value})
		off += (16 + nameLen + 3) &^ 3
	}
	return xs
}
