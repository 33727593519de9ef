package ext

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Inode flags of fscrypt and casefolding.
const (
	flagEncrypt  = 0x800
	flagCasefold = 0x40000000
)

// IsEncrypted reports an fscrypt inode: its contents (and, for a
// directory, its entries' names; for a symlink, its target) are
// ciphertext, readable only with the key, which holmes never has.
func (in *Inode) IsEncrypted() bool { return in.Flags&flagEncrypt != 0 }

// IsCasefolded reports a directory whose names are looked up ignoring
// case (the casefold feature); they are stored, and listed, as created.
func (in *Inode) IsCasefolded() bool { return in.Flags&flagCasefold != 0 }

// errEncrypted is why encrypted contents are not read.
var errEncrypted = fmt.Errorf("encrypted (fscrypt): no key, contents not readable")

// markEncryptedNames replaces the ciphertext names of an encrypted
// directory's entries ("." and ".." excepted) by a printable no-key form,
// the base64url of the stored bytes, and marks them Encrypted, so that no
// ciphertext is ever shown as if it were a name.
func markEncryptedNames(dir *Inode, entries []DirEntry) []DirEntry {
	if !dir.IsEncrypted() {
		return entries
	}
	for i := range entries {
		if e := &entries[i]; e.Name != "." && e.Name != ".." {
			e.Encrypted, e.NameBytes = true, len(e.Name)
			e.Name = "_" + base64.RawURLEncoding.EncodeToString([]byte(e.Name))
		}
	}
	return entries
}

// casefoldMatch finds name among a casefolded directory's entries the way
// the kernel's lookup would, ignoring case (Unicode simple folding; the
// kernel also normalises, which matters only for names that differ in
// composition alone).
func casefoldMatch(entries []DirEntry, name string) (uint32, bool) {
	for _, e := range entries {
		if strings.EqualFold(e.Name, name) {
			return e.Inode, true
		}
	}
	return 0, false
}
