package ext

import "fmt"

// What the ext commands report (docs/cli.md), built here so that every
// caller (the CLI, triage) says the same: the info summary, directory
// listings, find with its lost-directory fallback, and the orphan list.

// Info is the summary of an open filesystem: which superblock is used and
// why, identity, sizes, features, checks and problems.
type Info struct {
	Device           string      `json:"device"`
	SuperblockOffset int64       `json:"superblock_offset"`
	Group            uint16      `json:"superblock_group"`
	Why              string      `json:"why"`
	UUID             string      `json:"uuid"`
	Label            string      `json:"label"`
	LastMounted      string      `json:"last_mounted"`
	BlockSize        int         `json:"block_size"`
	Blocks           uint64      `json:"blocks"`
	FreeBlocks       uint64      `json:"free_blocks"`
	Inodes           uint32      `json:"inodes"`
	FreeInodes       uint32      `json:"free_inodes"`
	InodeSize        uint16      `json:"inode_size"`
	Groups           uint32      `json:"groups"`
	BlocksPerGroup   uint32      `json:"blocks_per_group"`
	InodesPerGroup   uint32      `json:"inodes_per_group"`
	Features         []string    `json:"features"`
	MkfsTime         string      `json:"mkfs_time,omitempty"`
	WriteTime        string      `json:"write_time,omitempty"`
	MountTime        string      `json:"mount_time,omitempty"`
	SuperChecksumOK  *bool       `json:"checksum_ok"` // null: the filesystem has no superblock checksum
	GroupChecksumBad int         `json:"group_checksum_errors"`
	BackupOffsets    []int64     `json:"backup_offsets"`
	Candidates       []Candidate `json:"candidates,omitempty"` // only when they disagree
	Problems         []string    `json:"problems"`
}

// Info summarises fs, read from the device named device.
func (fs *FS) Info(device string) *Info {
	sb := fs.SB
	v := &Info{
		Device: device, SuperblockOffset: fs.Choice.Used, Group: fs.Choice.Group, Why: fs.Choice.Why,
		UUID: sb.UUIDString(), Label: sb.VolumeName, LastMounted: sb.LastMounted, BlockSize: sb.BlockSize(),
		Blocks: sb.BlocksCount, FreeBlocks: sb.FreeBlocksCount, Inodes: sb.InodesCount, FreeInodes: sb.FreeInodesCount,
		InodeSize: sb.InodeSize, Groups: sb.GroupCount(), BlocksPerGroup: sb.BlocksPerGroup, InodesPerGroup: sb.InodesPerGroup,
		Features: sb.Features(), MkfsTime: fmtTime(sb.MkfsTime), WriteTime: fmtTime(sb.WriteTime), MountTime: fmtTime(sb.MountTime),
		GroupChecksumBad: fs.GroupChecksumErrors, BackupOffsets: sb.BackupOffsets(), Problems: fs.Problems(),
	}
	if v.Problems == nil {
		v.Problems = []string{}
	}
	if sb.ChecksumPresent {
		ok := sb.ChecksumOK
		v.SuperChecksumOK = &ok
	}
	// Candidates are shown when they disagree: more than one filesystem, or
	// a copy that failed a check.
	uuids := map[string]bool{}
	disagree := false
	for _, c := range fs.Choice.Candidates {
		uuids[c.UUID] = true
		disagree = disagree || !c.RootDirOK || !c.GroupsOK
	}
	if len(uuids) > 1 || disagree {
		v.Candidates = fs.Choice.Candidates
	}
	return v
}

// ListEntry is one line of a directory listing, as debugfs ls -l shows it.
type ListEntry struct {
	Name     string `json:"name"`
	Inode    uint32 `json:"inode"`
	Type     string `json:"type"`
	Mode     uint16 `json:"mode"` // full i_mode, type bits included
	FileType uint8  `json:"dirent_type"`
	UID      uint32 `json:"uid"`
	GID      uint32 `json:"gid"`
	Size     uint64 `json:"size"`
	Mtime    string `json:"mtime"`
	Deleted  bool   `json:"deleted,omitempty"`
	// Encrypted: Name is the no-key form of a ciphertext name (DirEntry).
	Encrypted bool   `json:"encrypted,omitempty"`
	Error     string `json:"error,omitempty"`
}

// List lists directory dir with each entry's inode fields; withDeleted adds
// the removed entries still readable (their inode may belong to another
// file by now, so it is not read). A damaged directory returns what could
// be read together with the error.
func (fs *FS) List(dir *Inode, withDeleted bool) ([]ListEntry, error) {
	read := fs.ReadDir
	if withDeleted {
		read = fs.ReadDirWithDeleted
	}
	entries, dirErr := read(dir)
	if dirErr != nil && len(entries) == 0 && dir.Num == RootIno {
		if lost := fs.RootProblem(); lost != "" {
			dirErr = fmt.Errorf("ext: %s", lost)
		}
	}
	list := make([]ListEntry, 0, len(entries))
	for _, e := range entries {
		x := ListEntry{Name: e.Name, Inode: e.Inode, FileType: e.Type, Deleted: e.Deleted, Encrypted: e.Encrypted}
		if e.Encrypted {
			x.Name = fmt.Sprintf("%s (encrypted name, %d bytes of ciphertext)", e.Name, e.NameBytes)
		}
		if !e.Deleted {
			if in, err := fs.Inode(e.Inode); err != nil {
				x.Error = err.Error()
			} else {
				x.Type, x.Mode, x.UID, x.GID, x.Size, x.Mtime = in.TypeName(), in.Mode, in.UID, in.GID, in.Size, fmtTime(in.Mtime)
			}
		}
		list = append(list, x)
	}
	return list, dirErr
}

// FindResult is what FindAll found.
type FindResult struct {
	Matches  []Match  `json:"matches"`
	LostDirs []string `json:"lost_dirs"` // the #INODE roots also walked
	// UnnamedFiles counts the in-use regular files the inode scan found
	// that no readable directory names (ext orphans lists them).
	UnnamedFiles int      `json:"unnamed_files"`
	Problems     []string `json:"problems"`
}

// FindAll finds the entries whose name matches glob under root (a path as
// Lookup takes it), or under / when root is "". Searching the whole
// filesystem, when a directory is damaged or lost is set, it also scans
// the inode table and walks every directory whose own name is lost (their
// paths start with #INODE). A bad glob is an error wrapping
// path.ErrBadPattern.
func (fs *FS) FindAll(root, glob string, lost bool) (*FindResult, error) {
	roots := []string{"/"}
	if root != "" {
		roots = []string{root}
	}
	matches, problems, err := fs.Find(roots, glob)
	if err != nil {
		return nil, err
	}
	res := &FindResult{Matches: matches, LostDirs: []string{}, Problems: problems}
	if root == "" && (lost || len(problems) > 0) {
		ns, err := fs.ScanInodes()
		if err != nil {
			return nil, err
		}
		res.LostDirs = ns.Roots()[1:]
		res.UnnamedFiles = len(ns.Unreferenced)
		more, moreProblems, _ := fs.Find(res.LostDirs, glob)
		res.Matches = append(res.Matches, more...)
		res.Problems = append(res.Problems, moreProblems...)
	}
	if res.Matches == nil {
		res.Matches = []Match{}
	}
	if res.Problems == nil {
		res.Problems = []string{}
	}
	return res, nil
}

// Orphans are the directories whose own name is lost and the regular
// files no directory names.
type Orphans struct {
	LostDirs     []LostDir          `json:"lost_dirs"`
	Unreferenced []UnreferencedFile `json:"unreferenced_files"`
	// Foreign are inodes of the filesystem written over this one, found
	// in its inode table: not its files.
	Foreign []ForeignInode `json:"foreign_inodes"`
	// JournalProblem says why no journal names could be looked up.
	JournalProblem string   `json:"journal_problem,omitempty"`
	Problems       []string `json:"problems"`
}

// UnreferencedFile is an in-use regular file that no directory names.
type UnreferencedFile struct {
	Path  string `json:"path"` // #INODE
	Inode uint32 `json:"inode"`
	Size  uint64 `json:"size"`
	Mtime string `json:"mtime"`
	// JournalName is the name a journal copy of a directory block gives
	// it (a hint), with the transaction that logged the copy.
	JournalName     string `json:"journal_name,omitempty"`
	JournalSequence uint32 `json:"journal_sequence,omitempty"`
}

// Orphans scans the inode table for what the directory tree no longer reaches.
func (fs *FS) Orphans() (*Orphans, error) {
	ns, err := fs.ScanInodes()
	if err != nil {
		return nil, err
	}
	res := &Orphans{LostDirs: ns.Lost(), Unreferenced: ns.UnreferencedFiles(), Foreign: ns.Foreign, Problems: ns.Problems}
	if res.Problems == nil {
		res.Problems = []string{}
	}
	if res.Foreign == nil {
		res.Foreign = []ForeignInode{}
	}
	res.JournalProblem = ns.JournalProblem
	return res, nil
}
