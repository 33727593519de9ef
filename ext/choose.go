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
	if c.unfinished {
		return min(1, c.rawScore()) // loses to any other filesystem that opens with sane descriptors
	}
	return c.rawScore()
}

func (c *Candidate) rawScore() int {
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
		if p.unfinished {
			why += "; " + p.Problem
		}
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

// checkFinished marks a primary whose mkfs never finished: none of its own
// backup superblocks exists, and where the first of them belongs sits
// another filesystem's copy. A complete mkfs writes its backups, so the
// newer filesystem stopped at the start of the device, over that one
// (an installer's format, interrupted or cut short).
func (c *Candidate) checkFinished(r io.ReaderAt, size int64) {
	if c.Offset != PrimaryOffset || c.Copies > 1 {
		return
	}
	places := c.sb.BackupOffsets()
	for _, o := range places[:min(len(places), len(probeGroups))] {
		if o+SuperblockSize > size {
			return
		}
		other, err := ReadSuperblock(r, o)
		if err != nil || other.UUID == c.sb.UUID {
			continue
		}
		g, _ := c.sb.backupGroupAt(o)
		c.unfinished = true
		c.Problem = fmt.Sprintf("its mkfs never finished: where its backup superblock of group %d belongs (byte %d) sits a copy of filesystem %s (made %s), which it was written over",
			g, o, other.UUIDString(), orUnknown(fmtTime(other.MkfsTime)))
		return
	}
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
	checked := map[[16]byte]int{} // candidates fully checked per UUID
	extra := map[[16]byte]int{}   // further copies only counted
	var cands []Candidate
	try := func(offs []int64) {
		for _, o := range offs {
			if o < 0 || o+SuperblockSize > size || seen[o] {
				continue
			}
			seen[o] = true
			sb, err := ReadSuperblock(r, o)
			if err == nil && sb.FSOffset() != 0 {
				sb.PlaceOldBackup(r, size) // a backup of old mke2fs says group 0
			}
			if err != nil || sb.FSOffset() != 0 {
				continue // not a superblock, or a copy of a filesystem that starts elsewhere
			}
			if checked[sb.UUID] >= maxChecksPerFS || len(cands) >= maxCandidates {
				extra[sb.UUID]++
				continue
			}
			checked[sb.UUID]++
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
	for i := range cands {
		cands[i].Copies = checked[cands[i].sb.UUID] + extra[cands[i].sb.UUID]
	}
	for i := range cands {
		cands[i].checkFinished(r, size)
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Offset < cands[j].Offset })
	return cands
}

// Caps on the superblock candidates auto opens and checks (each check
// reads a group descriptor table and a root directory): copies of one
// filesystem beyond the first few are only counted, and crafted devices
// full of magic numbers cannot multiply the work (docs/hostile-input.md).
const (
	maxChecksPerFS = 4
	maxCandidates  = 32
	maxMagicHits   = 4096
)

// maxAgreementProbes bounds how many copy places each reading of a
// group-0 copy is checked at.
const maxAgreementProbes = 8

// PlaceOldBackup decides what a copy that says group 0 is, read at
// sb.Offset of r, where the filesystem's start is not known (scan): the
// backup of group g (old mke2fs wrote 0 into every copy) when, for the
// filesystem start that makes sb.Offset group g's place, more copies with
// the same UUID and size sit at that filesystem's copy places than at
// those of a filesystem starting 1024 bytes before it, which it is the
// primary of otherwise. It reports whether it made the copy a backup.
func (sb *Superblock) PlaceOldBackup(r io.ReaderAt, size int64) bool {
	if sb.BlockGroupNr != 0 {
		return false
	}
	best, bestGroup := sb.copiesAgreeAt(r, size, sb.Offset-PrimaryOffset), uint32(0)
	places := sb.BackupOffsets()
	for _, place := range places[:min(len(places), maxAgreementProbes)] {
		if start := sb.Offset - place; start >= 0 {
			if n := sb.copiesAgreeAt(r, size, start); n > best {
				best = n
				bestGroup, _ = sb.backupGroupAt(place)
			}
		}
	}
	if bestGroup == 0 {
		return false
	}
	sb.BlockGroupNr, sb.GroupFromPlace = uint16(bestGroup), true
	return true
}

// copiesAgreeAt counts the other copies of sb (same UUID, size and group
// size) at the primary's and the first backups' places of a filesystem
// starting at byte start.
func (sb *Superblock) copiesAgreeAt(r io.ReaderAt, size int64, start int64) int {
	places := append([]int64{PrimaryOffset}, sb.BackupOffsets()...)
	n := 0
	for _, place := range places[:min(len(places), maxAgreementProbes+1)] {
		o := start + place
		if o == sb.Offset || o < 0 || o+SuperblockSize > size {
			continue
		}
		other, err := ReadSuperblock(r, o)
		if err == nil && other.UUID == sb.UUID && other.BlocksCount == sb.BlocksCount && other.BlocksPerGroup == sb.BlocksPerGroup {
			n++
		}
	}
	return n
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

// scanMagic returns the 1 KiB-aligned offsets below limit whose would-be
// superblock carries the ext magic, the first maxMagicHits of them. Read
// errors end the search early.
func scanMagic(r io.ReaderAt, limit int64) []int64 {
	const chunk = 4 << 20
	buf := make([]byte, chunk)
	var offs []int64
	for base := int64(0); base < limit; base += chunk {
		n, _ := r.ReadAt(buf[:min(chunk, limit-base)], base)
		for p := 0; p+0x3A <= n; p += 1024 {
			if ProbeSuperblock(buf[p:n]) {
				if offs = append(offs, base+int64(p)); len(offs) == maxMagicHits {
					return offs
				}
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
	var dirOK bool
	if c.RootInodeOK, dirOK, _ = fs.rootCheck(); !c.RootInodeOK {
		c.Problem = "has no root directory inode"
		return c
	}
	if c.RootDirOK = dirOK; !dirOK && c.Problem == "" {
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
