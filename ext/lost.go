package ext

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
)

// What is left of a filesystem whose root directory is gone: the checks
// that say so, the inodes a newer filesystem written over it left in its
// inode table (not its own), and the names its journal remembers.

// rootCheck reads the root inode and the start of its directory. It says
// whether the inode is a live directory, whether its first block opens
// with "." and ".." naming it, and why not.
func (fs *FS) rootCheck() (inodeOK, dirOK bool, why string) {
	root, err := fs.Inode(RootIno)
	switch {
	case err != nil:
		return false, false, err.Error()
	case !root.InUse():
		return false, false, "inode 2 is not in use"
	case !root.IsDir():
		return false, false, fmt.Sprintf("inode 2 is not a directory (its mode says %s)", root.TypeName())
	}
	// "." and ".." open the directory: read no further.
	var entries []DirEntry
	err = fs.WalkDir(root, false, func(e DirEntry) bool {
		entries = append(entries, e)
		return len(entries) < 2
	})
	switch {
	case err != nil:
		return true, false, err.Error()
	case len(entries) < 2 || entries[0].Name != "." || entries[0].Inode != RootIno || entries[1].Name != ".." || entries[1].Inode != RootIno:
		return true, false, `its first block does not open with "." and ".." naming inode 2`
	}
	return true, true, ""
}

// RootProblem says why the root directory cannot be read ("" when it can).
func (fs *FS) RootProblem() string {
	if _, ok, why := fs.rootCheck(); !ok {
		return "the root directory is lost: " + why + "; names are rebuilt from the inode table (directories and files no readable directory names are #INODE)"
	}
	return ""
}

// overwriter opens the filesystem whose primary superblock now sits where
// this one's was (a newer mkfs written over it), when this one is read
// from a backup copy; nil when there is none.
func (fs *FS) overwriter() *FS {
	if fs.SB.Offset == PrimaryOffset {
		return nil
	}
	sb, err := ReadSuperblock(fs.r, PrimaryOffset)
	if err != nil || sb.UUID == fs.SB.UUID {
		return nil
	}
	other, err := openWith(fs.r, fs.size, sb)
	if err != nil {
		return nil
	}
	return other
}

// ForeignInode is an inode slot of this filesystem that holds an inode of
// the filesystem written over it: not this filesystem's file.
type ForeignInode struct {
	Inode  uint32 `json:"inode"`       // the slot's number here
	Theirs uint32 `json:"their_inode"` // its number in the other filesystem
	Type   string `json:"type"`
	UUID   string `json:"uuid"` // the other filesystem's
}

// foreign reports whether in, read from this filesystem's inode table, is
// an inode the filesystem written over this one put there: its slot starts
// an inode slot of that filesystem's inode table, and it checks out as
// that filesystem's inode (its checksum with metadata_csum; without, a
// change time no earlier than that filesystem's creation).
func (fs *FS) foreign(in *Inode) (ForeignInode, bool) {
	ov := fs.overwrittenBy
	if ov == nil || len(in.raw) != int(ov.SB.InodeSize) {
		return ForeignInode{}, false
	}
	off, err := fs.inodeLocation(in.Num)
	if err != nil {
		return ForeignInode{}, false
	}
	m, ok := ov.inodeAt(off)
	if !ok {
		return ForeignInode{}, false
	}
	theirs := ov.decodeInode(m, in.raw)
	mine := false
	switch {
	case !theirs.InUse():
	case ov.SB.HasMetadataCsum():
		mine = theirs.ChecksumOK
	default:
		mine = !ov.SB.MkfsTime.IsZero() && !theirs.Ctime.Before(ov.SB.MkfsTime)
	}
	return ForeignInode{Inode: in.Num, Theirs: m, Type: theirs.TypeName(), UUID: ov.SB.UUIDString()}, mine
}

// inodeAt is the inode whose slot starts at byte off of the device, if
// one does.
func (fs *FS) inodeAt(off int64) (uint32, bool) {
	if fs.tableStarts == nil {
		for g, gd := range fs.groups {
			fs.tableStarts = append(fs.tableStarts, [2]int64{int64(gd.inodeTable) * fs.bs, int64(g)})
		}
		slices.SortFunc(fs.tableStarts, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	}
	i := sort.Search(len(fs.tableStarts), func(i int) bool { return fs.tableStarts[i][0] > off }) - 1
	if i < 0 {
		return 0, false
	}
	start, g := fs.tableStarts[i][0], fs.tableStarts[i][1]
	isz := int64(fs.SB.InodeSize)
	idx := (off - start) / isz
	if (off-start)%isz != 0 || idx >= int64(fs.SB.InodesPerGroup) {
		return 0, false
	}
	n := uint64(g)*uint64(fs.SB.InodesPerGroup) + uint64(idx) + 1
	if n > uint64(fs.SB.InodesCount) {
		return 0, false
	}
	return uint32(n), true
}

// journalHint is the name a journal copy of a directory block gives an
// inode, and the transaction that logged the copy.
type journalHint struct {
	name string
	seq  uint32
}

// journalHints finds, for every lost directory and unreferenced file, the
// newest name the journal's copies of any directory's blocks give it.
// They are history: a hint, not proof. Without a readable journal there
// are none, and JournalProblem says why.
func (ns *Namespace) journalHints() map[uint32]journalHint {
	if ns.hints != nil {
		return ns.hints
	}
	ns.hints = map[uint32]journalHint{}
	j, err := ns.fs.Journal()
	if err != nil {
		ns.JournalProblem = err.Error()
		return ns.hints
	}
	if len(j.copies) == 0 {
		return ns.hints
	}
	wanted := map[uint32]bool{}
	for _, d := range ns.LostDirs {
		wanted[d] = true
	}
	for _, f := range ns.Unreferenced {
		wanted[f.Num] = true
	}
	dirs := make([]uint32, 0, len(ns.dirs))
	for d := range ns.dirs {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		in, err := ns.fs.Inode(d)
		if err != nil {
			continue
		}
		m, err := ns.fs.Map(in)
		if err != nil {
			continue
		}
		looked := 0
		for _, r := range m.Runs {
			for b := r.Physical; b < r.Physical+r.Len && looked < maxJournalDirBlocks; b++ {
				looked++
				if len(j.copies[b]) == 0 {
					continue
				}
				copies, _ := j.Copies(b)
				for _, c := range copies {
					var entries []DirEntry
					ns.fs.parseDirBlock(c.Data, false, &entries) // damage ends the copy early; what was read counts
					for _, e := range entries {
						h, seen := ns.hints[e.Inode]
						if wanted[e.Inode] && e.Name != "." && e.Name != ".." && (!seen || int32(c.Sequence-h.seq) > 0) {
							ns.hints[e.Inode] = journalHint{e.Name, c.Sequence}
						}
					}
				}
			}
		}
	}
	return ns.hints
}

// maxJournalDirBlocks bounds how many blocks of one directory are looked
// up in the journal.
const maxJournalDirBlocks = 1024
