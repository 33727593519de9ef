package ext

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"holmes/blockdev"
)

// Namespace is what a full scan of the inode table knows about names:
// every directory that could be read, where each directory is named, and
// which directories and files no readable entry names. It keeps only what
// path rebuilding needs (names of directories, one bit per named file), so
// that filesystems with millions of files fit in memory.
type Namespace struct {
	fs *FS
	// dirs holds every in-use directory found in the inode table.
	dirs map[uint32]*dirFacts
	// LostDirs are directories whose own name is lost (no readable
	// directory names them): they appear in paths as #INODE.
	LostDirs []uint32
	// Unreferenced are in-use regular files that no readable directory
	// names: what e2fsck would move to lost+found.
	Unreferenced []*Inode
	// Problems are the directory read errors met during the scan.
	Problems []string
	// Foreign are the inode slots that hold inodes of the filesystem
	// written over this one (a newer mkfs): left out of everything above.
	Foreign []ForeignInode
	// JournalProblem says why the journal gives no names, when it cannot
	// be read.
	JournalProblem string

	// names holds the first entry naming each inode scanInodes was asked
	// to keep names for.
	names map[uint32]nameRef

	hints map[uint32]journalHint // read on first need: find does not need them
}

// dirFacts is what the scan remembers of one directory.
type dirFacts struct {
	size    uint64
	mtime   time.Time
	names   []nameRef // the entries naming this directory
	dotdot  uint32    // its own ".." entry
	entries int
	sample  []string // the first names it holds
}

type nameRef struct {
	dir  uint32
	name string
}

// LostDir describes a directory whose own name is lost, with what is left
// to identify it: its ".." parent and the names it holds.
type LostDir struct {
	Path    string    `json:"path"`
	Inode   uint32    `json:"inode"`
	Parent  uint32    `json:"parent"` // from its ".." entry; 0 if unreadable
	Entries int       `json:"entries"`
	Sample  []string  `json:"sample"` // the first few names in it
	Size    uint64    `json:"size"`
	Mtime   time.Time `json:"mtime"`
	// JournalName is the name an older copy of the parent's directory
	// block in the journal gives it (history: a hint, not proof), with
	// the transaction that logged the copy.
	JournalName     string `json:"journal_name,omitempty"`
	JournalSequence uint32 `json:"journal_sequence,omitempty"`
}

// sampleNames is how many names LostDir.Sample keeps.
const sampleNames = 5

// Lost describes every directory in LostDirs.
func (ns *Namespace) Lost() []LostDir {
	out := make([]LostDir, 0, len(ns.LostDirs))
	hints := ns.journalHints()
	for _, d := range ns.LostDirs {
		f := ns.dirs[d]
		ld := LostDir{Path: ns.Path(d), Inode: d, Parent: f.dotdot, Entries: f.entries,
			Sample: append([]string{}, f.sample...), Size: f.size, Mtime: f.mtime}
		ld.JournalName, ld.JournalSequence = hints[d].name, hints[d].seq
		out = append(out, ld)
	}
	return out
}

// UnreferencedFiles describes every file in Unreferenced.
func (ns *Namespace) UnreferencedFiles() []UnreferencedFile {
	out := make([]UnreferencedFile, 0, len(ns.Unreferenced))
	hints := ns.journalHints()
	for _, in := range ns.Unreferenced {
		h := hints[in.Num]
		out = append(out, UnreferencedFile{Path: ns.Path(in.Num), Inode: in.Num, Size: in.Size, Mtime: fmtTime(in.Mtime),
			JournalName: h.name, JournalSequence: h.seq})
	}
	return out
}

// ScanInodes reads the whole inode table, reads every directory it finds
// and works out which directories and files have lost their names. It
// never trusts the bitmaps (they may be gone), only the inodes.
func (fs *FS) ScanInodes() (*Namespace, error) { return fs.scanInodes(nil, nil) }

// scanInodes is ScanInodes with two hooks for callers that need the same
// single pass over the inode tables: visit sees every in-use inode as it
// is read; keepNames, asked once the pass is over, lists the inodes (not
// directories) whose first naming entry the directory walk keeps in
// ns.names.
func (fs *FS) scanInodes(visit func(*Inode), keepNames func() map[uint32]bool) (*Namespace, error) {
	ns := &Namespace{fs: fs, dirs: map[uint32]*dirFacts{}}
	var files []uint32 // ascending: eachInode goes in inode order
	shared, err := fs.eachInode(func(in *Inode) {
		if f, ok := fs.foreign(in); ok {
			ns.Foreign = append(ns.Foreign, f)
			return
		}
		switch {
		case in.IsDir():
			ns.dirs[in.Num] = &dirFacts{size: in.Size, mtime: in.Mtime}
		case in.IsRegular() && in.Num >= fs.SB.FirstIno:
			files = append(files, in.Num)
		}
		if visit != nil {
			visit(in)
		}
	})
	if err != nil {
		return nil, err
	}
	ns.Problems = append(ns.Problems, shared...)
	nums := make([]uint32, 0, len(ns.dirs))
	for n := range ns.dirs {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	// One bit per file found, set when an entry names it: memory follows
	// the inode tables read, not the inode count the superblock claims.
	named := make([]uint64, len(files)/64+1)
	markNamed := func(ino uint32) {
		if i, ok := slices.BinarySearch(files, ino); ok {
			named[i/64] |= 1 << (i % 64)
		}
	}
	var keep map[uint32]bool
	if keepNames != nil {
		keep, ns.names = keepNames(), map[uint32]nameRef{}
	}
	for _, n := range nums {
		in, err := fs.Inode(n)
		if err != nil {
			ns.Problems = append(ns.Problems, err.Error())
			continue
		}
		f := ns.dirs[n]
		err = fs.WalkDir(in, false, func(e DirEntry) bool {
			switch e.Name {
			case ".":
			case "..":
				f.dotdot = e.Inode
			default:
				markNamed(e.Inode)
				if _, ok := ns.names[e.Inode]; !ok && keep[e.Inode] {
					ns.names[e.Inode] = nameRef{n, e.Name}
				}
				if child, ok := ns.dirs[e.Inode]; ok {
					child.names = append(child.names, nameRef{n, e.Name})
				}
				if f.entries++; len(f.sample) < sampleNames {
					f.sample = append(f.sample, e.Name)
				}
			}
			return true
		})
		if err != nil {
			ns.Problems = append(ns.Problems, err.Error())
		}
	}
	for _, n := range nums {
		if n != RootIno && n >= fs.SB.FirstIno && len(ns.dirs[n].names) == 0 {
			ns.LostDirs = append(ns.LostDirs, n)
		}
	}
	for i, n := range files {
		if named[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		in, err := fs.Inode(n)
		if err != nil {
			ns.Problems = append(ns.Problems, err.Error())
			continue
		}
		ns.Unreferenced = append(ns.Unreferenced, in)
	}
	return ns, nil
}

// eachInode calls fn for every in-use inode, reading the inode tables a
// group at a time. Groups the checksummed descriptors mark as never used
// are skipped, and so are groups whose table overlaps another group's
// (damaged or crafted descriptors): each table block is read once, and
// those groups are returned as problems.
func (fs *FS) eachInode(fn func(*Inode)) (shared []string, err error) {
	sb := fs.SB
	isz := int64(sb.InodeSize)
	trustFlags := sb.HasMetadataCsum() || sb.FeatureROCompat&roCompatGdtCsum != 0
	skip := fs.sharedInodeTables()
	// Read the tables in bounded chunks: a group may hold 512 MiB of inodes.
	perChunk := max(1, int64(4<<20)/isz)
	buf := make([]byte, min(int64(sb.InodesPerGroup), perChunk)*isz)
	for g, gd := range fs.groups {
		if other, ok := skip[g]; ok {
			if len(shared) < maxProblems {
				shared = append(shared, fmt.Sprintf("ext: group %d inode table at block %d overlaps group %d's: not read again", g, gd.inodeTable, other))
			}
			continue
		}
		count := int64(sb.InodesPerGroup)
		if trustFlags && gd.checksumOK && !gd.fromOtherTable {
			if gd.flags&bgInodeUninit != 0 {
				continue
			}
			count -= min(count, int64(gd.itableUnused))
		}
		first := uint32(g)*sb.InodesPerGroup + 1
		if count == 0 || first > sb.InodesCount {
			continue
		}
		off, err := fs.inodeLocation(first)
		if err != nil {
			return shared, fmt.Errorf("ext: scanning inodes: %w", err)
		}
		for start := int64(0); start < count; start += perChunk {
			k := min(perChunk, count-start)
			var gaps []blockdev.Extent
			if err := fs.readAt(buf[:k*isz], off+start*isz); err != nil {
				if _, gap := blockdev.AsUnreadable(err); !gap {
					return shared, fmt.Errorf("ext: inode table of group %d: %w", g, err)
				}
				// The evidence lacks part of the table: read around it and
				// name the inodes lost with it.
				at := off + start*isz
				if gaps, err = fs.readAround(buf[:k*isz], at); err != nil {
					return shared, fmt.Errorf("ext: inode table of group %d: %w", g, err)
				}
				for _, gp := range gaps {
					from := first + uint32(start+(gp.Off-at)/isz)
					to := first + uint32(start+(gp.End()-at-1)/isz)
					if len(shared) < maxProblems {
						shared = append(shared, fmt.Sprintf("ext: inodes %d-%d (inode table of group %d, bytes %d+%d): unreadable, not scanned", from, to, g, gp.Off, gp.Len))
					}
				}
			}
			for i := range k {
				n := first + uint32(start+i)
				if n > sb.InodesCount {
					break
				}
				at := off + (start+i)*isz
				if slices.ContainsFunc(gaps, func(e blockdev.Extent) bool { return e.Off < at+isz && at < e.End() }) {
					continue
				}
				if in := fs.decodeInode(n, buf[i*isz:(i+1)*isz]); in.InUse() {
					in.raw = append([]byte(nil), in.raw...) // buf is reused
					fn(in)
				}
			}
		}
	}
	return shared, nil
}

// sharedInodeTables maps each group whose inode table overlaps that of a
// group met earlier in block order to that group.
func (fs *FS) sharedInodeTables() map[int]int {
	itBlocks := (uint64(fs.SB.InodesPerGroup)*uint64(fs.SB.InodeSize) + uint64(fs.bs) - 1) / uint64(fs.bs)
	order := make([]int, len(fs.groups))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(fs.groups[a].inodeTable, fs.groups[b].inodeTable) })
	shared := map[int]int{}
	end, owner := uint64(0), -1
	for _, g := range order {
		t := fs.groups[g].inodeTable
		if owner >= 0 && t < end {
			shared[g] = owner
			continue
		}
		end, owner = t+itBlocks, g
	}
	return shared
}

// Path names directory n the best the scan can: from the root when every
// directory on the way is named, else from the nearest directory whose
// name is lost, written #INODE. Anything else (a file, an unknown inode)
// is #INODE.
func (ns *Namespace) Path(n uint32) string {
	var parts []string
	seen := map[uint32]bool{}
	for {
		if n == RootIno {
			slices.Reverse(parts)
			return "/" + strings.Join(parts, "/")
		}
		f := ns.dirs[n]
		if f == nil || len(f.names) == 0 || seen[n] {
			parts = append(parts, "#"+strconv.FormatUint(uint64(n), 10))
			slices.Reverse(parts)
			return strings.Join(parts, "/")
		}
		seen[n] = true
		parts = append(parts, f.names[0].name) // leaf first; reversed at the end
		n = f.names[0].dir
	}
}

// Roots returns where a walk of the whole namespace starts: the root
// directory, then every directory whose name is lost.
func (ns *Namespace) Roots() []string {
	roots := []string{"/"}
	for _, d := range ns.LostDirs {
		roots = append(roots, "#"+strconv.FormatUint(uint64(d), 10))
	}
	return roots
}

// Match is one path found by Find.
type Match struct {
	Path  string `json:"path"`
	Inode uint32 `json:"inode"`
	Type  string `json:"type"`
	Size  uint64 `json:"size"`
}

// Find walks the trees under roots (paths as Lookup takes them) and
// returns every entry whose name matches the shell pattern glob. Each
// directory is visited once, so cycles and hard-linked directories end.
// Damaged directories are skipped and reported in problems.
func (fs *FS) Find(roots []string, glob string) (matches []Match, problems []string, err error) {
	if _, err := path.Match(glob, ""); err != nil {
		return nil, nil, fmt.Errorf("ext: pattern %q: %w", glob, err)
	}
	visited := map[uint32]bool{}
	var walk func(p string, dir *Inode)
	walk = func(p string, dir *Inode) {
		if visited[dir.Num] {
			return
		}
		visited[dir.Num] = true
		// Only subdirectories are kept until the directory is read: the
		// rest streams.
		type sub struct {
			path string
			in   *Inode
		}
		var subs []sub
		err := fs.WalkDir(dir, false, func(e DirEntry) bool {
			if e.Name == "." || e.Name == ".." {
				return true
			}
			child := strings.TrimSuffix(p, "/") + "/" + e.Name
			in, err := fs.Inode(e.Inode)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", child, err))
				return true
			}
			if ok, _ := path.Match(glob, e.Name); ok {
				matches = append(matches, Match{Path: child, Inode: in.Num, Type: in.TypeName(), Size: in.Size})
			}
			if in.IsDir() && !visited[in.Num] {
				subs = append(subs, sub{child, in})
			}
			return true
		})
		if err != nil {
			problems = append(problems, err.Error())
		}
		for _, c := range subs {
			walk(c.path, c.in)
		}
	}
	for _, r := range roots {
		in, err := fs.Lookup(r)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !in.IsDir() {
			if lost := fs.RootProblem(); in.Num == RootIno && lost != "" {
				problems = append(problems, "ext: "+lost)
			} else {
				problems = append(problems, fmt.Sprintf("%s: not a directory", r))
			}
			continue
		}
		walk(r, in)
	}
	return matches, problems, nil
}
