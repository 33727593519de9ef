package ext

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// probeGroups are the backup groups auto looks at for each default
// geometry: the first sparse_super groups, enough to find survivors of an
// overwritten start without reading the whole device.
var probeGroups = []uint32{1, 3, 5, 7, 9, 25, 27, 49}

// openAuto checks the primary superblock against its group descriptors,
// its root directory and its backups; when the primary is missing or is
// outvoted (a newer mkfs that wrote only the start of the device), it uses
// the best backup and says why.
func openAuto(r io.ReaderAt, size int64) (*FS, error) {
	cands := findCandidates(r, size)
	if len(cands) == 0 {
		return nil, fmt.Errorf("ext: no superblock: none at byte %d and no backup copy at the usual places", PrimaryOffset)
	}
	copies := map[[16]byte]int{}
	for _, c := range cands {
		copies[c.sb.UUID]++
	}
	for i := range cands {
		cands[i].Copies = copies[cands[i].sb.UUID]
	}
	best := 0
	for i := range cands {
		if cands[i].score() > cands[best].score() {
			best = i
		}
	}
	b := &cands[best]
	if b.fs == nil {
		return nil, fmt.Errorf("ext: superblock at %d: %s", b.Offset, b.Problem)
	}
	fs := b.fs
	fs.Choice = Choice{Used: b.Offset, Group: b.Group, Why: explain(cands, best), Candidates: cands}
	for i := range fs.Choice.Candidates {
		fs.Choice.Candidates[i].fs = nil
	}
	return fs, nil
}

// score ranks candidates: a readable root directory first, then sane
// group descriptors and agreement between copies. The primary wins ties by
// coming first.
func (c *Candidate) score() int {
	s := 0
	if c.fs != nil {
		s++
	}
	if c.GroupsOK {
		s += 2
	}
	if c.Copies > 1 {
		s += 4
	}
	if c.RootInodeOK {
		s += 8
	}
	if c.RootDirOK {
		s += 16
	}
	return s
}

func explain(cands []Candidate, best int) string {
	b := cands[best]
	if b.Group == 0 {
		if b.Copies > 1 {
			return fmt.Sprintf("primary superblock agrees with its group descriptors, root directory and %d backup copies", b.Copies-1)
		}
		return "primary superblock is consistent; no backup copy contradicts it"
	}
	why := fmt.Sprintf("backup superblock in group %d (byte %d) used", b.Group, b.Offset)
	var p *Candidate
	for i := range cands {
		if cands[i].Group == 0 {
			p = &cands[i]
		}
	}
	switch {
	case p == nil:
		why += ": no valid primary superblock at byte 1024"
	case p.UUID != b.UUID:
		why += fmt.Sprintf(": the primary belongs to another filesystem (UUID %s, made %s, %s) written over this one (UUID %s, made %s, %s)",
			p.UUID, orUnknown(p.MkfsTime), copies(p.Copies), b.UUID, orUnknown(b.MkfsTime), copies(b.Copies))
	default:
		why += ": the primary " + p.Problem
	}
	if b.sb.GroupFromPlace {
		why += fmt.Sprintf("; the copy says group 0, as old mke2fs wrote every copy, but sits where group %d's belongs and agrees with the other copies", b.Group)
	}
	if !b.RootDirOK {
		why += "; the root directory is unreadable, so names will be rebuilt from the inode table"
	}
	return why
}

func orUnknown(s string) string {
	if s == "" {
		return "at an unknown time"
	}
	return s
}

// scanLimit bounds the last-resort search for superblock copies: group 1
// of any geometry with blocks up to 8 KiB starts within it.
const scanLimit = 1 << 30

// findCandidates reads the primary and the backups its geometry places,
// plus backups at the default geometry of every block size (one group is
// 8 × block size blocks), and checks each. When none of those gives a
// usable filesystem (a primary gone and a non-default geometry), it
// searches the first GiB for the superblock magic at every 1 KiB.
func findCandidates(r io.ReaderAt, size int64) []Candidate {
	seen := map[int64]bool{}
	var cands []Candidate
	try := func(offs []int64) {
		for _, o := range offs {
			if o < 0 || o+SuperblockSize > size || seen[o] {
				continue
			}
			seen[o] = true
			sb, err := ReadSuperblock(r, o)
			if err == nil && sb.FSOffset() != 0 && agreesWithACopy(r, size, sb) {
				sb.AdoptOldBackup()
			}
			if err != nil || sb.FSOffset() != 0 {
				continue // not a superblock, or a copy of a filesystem that starts elsewhere
			}
			cands = append(cands, checkCandidate(r, size, sb))
		}
	}
	try([]int64{PrimaryOffset})
	if sb, err := ReadSuperblock(r, PrimaryOffset); err == nil {
		offs := sb.BackupOffsets()
		try(offs[:min(len(offs), len(probeGroups))])
	}
	try(defaultBackupOffsets())
	usable := false
	for _, c := range cands {
		usable = usable || (c.GroupsOK && c.RootInodeOK)
	}
	if !usable {
		try(scanMagic(r, min(size, scanLimit)))
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Offset < cands[j].Offset })
	return cands
}

// maxAgreementProbes bounds how many other copies agreesWithACopy reads.
const maxAgreementProbes = 8

// agreesWithACopy reports whether a copy that says group 0 but sits where
// its own geometry puts a backup has a twin (same UUID and size) at the
// primary's place or at another backup place: then it is an old mke2fs
// backup, not the primary of a filesystem starting 1024 bytes before it.
func agreesWithACopy(r io.ReaderAt, size int64, sb *Superblock) bool {
	if _, ok := sb.backupGroupAt(sb.Offset); !ok || sb.BlockGroupNr != 0 {
		return false
	}
	offs := append([]int64{PrimaryOffset}, sb.BackupOffsets()...)
	probed := 0
	for _, o := range offs {
		if o == sb.Offset || o+SuperblockSize > size {
			continue
		}
		if probed++; probed > maxAgreementProbes {
			break
		}
		other, err := ReadSuperblock(r, o)
		if err == nil && other.UUID == sb.UUID && other.BlocksCount == sb.BlocksCount && other.BlocksPerGroup == sb.BlocksPerGroup {
			return true
		}
	}
	return false
}

// defaultBackupOffsets are where mke2fs's default geometry puts the first
// sparse_super backups, for every block size.
func defaultBackupOffsets() []int64 {
	var offs []int64
	for bs := int64(1024); bs <= 65536; bs *= 2 {
		first := int64(0)
		if bs == 1024 {
			first = 1
		}
		for _, g := range probeGroups {
			offs = append(offs, (int64(g)*8*bs+first)*bs)
		}
	}
	return offs
}

// scanMagic returns every 1 KiB-aligned offset below limit whose would-be
// superblock carries the ext magic. Read errors end the search early.
func scanMagic(r io.ReaderAt, limit int64) []int64 {
	const chunk = 4 << 20
	buf := make([]byte, chunk)
	var offs []int64
	for base := int64(0); base < limit; base += chunk {
		n, _ := r.ReadAt(buf[:min(chunk, limit-base)], base)
		for p := 0; p+0x3A <= n; p += 1024 {
			if ProbeSuperblock(buf[p:n]) {
				offs = append(offs, base+int64(p))
			}
		}
		if n < int(min(chunk, limit-base)) {
			break
		}
	}
	return offs
}

// checkCandidate opens the filesystem a superblock describes and checks
// its group descriptors and root directory.
func checkCandidate(r io.ReaderAt, size int64, sb *Superblock) Candidate {
	c := Candidate{
		Offset: sb.Offset, Group: sb.BlockGroupNr, UUID: sb.UUIDString(), BlockSize: sb.BlockSize(),
		Blocks: sb.BlocksCount, MkfsTime: fmtTime(sb.MkfsTime), WriteTime: fmtTime(sb.WriteTime), sb: sb,
	}
	if sb.ChecksumPresent {
		ok := sb.ChecksumOK
		c.ChecksumOK = &ok
	}
	fs, err := openWith(r, size, sb)
	if err != nil {
		c.Problem = err.Error()
		return c
	}
	c.fs = fs
	if err := fs.checkGroups(); err != nil {
		c.Problem = "has bad group descriptors: " + err.Error()
		return c
	}
	c.GroupsOK = fs.GroupChecksumErrors*2 <= len(fs.groups)
	if !c.GroupsOK {
		c.Problem = fmt.Sprintf("has %d group descriptors with bad checksums", fs.GroupChecksumErrors)
	}
	root, err := fs.Inode(RootIno)
	if err != nil || !root.IsDir() || !root.InUse() {
		c.Problem = "has no root directory inode"
		return c
	}
	c.RootInodeOK = true
	entries, err := fs.ReadDir(root)
	if err == nil && len(entries) >= 2 && entries[0].Name == "." && entries[0].Inode == RootIno && entries[1].Name == ".." && entries[1].Inode == RootIno {
		c.RootDirOK = true
	} else if c.Problem == "" {
		c.Problem = "has an unreadable root directory"
	}
	return c
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func copies(n int) string {
	if n == 1 {
		return "1 copy"
	}
	return fmt.Sprintf("%d copies", n)
}
