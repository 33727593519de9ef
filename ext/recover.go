package ext

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Namespace is what a full scan of the inode table knows about names:
// every directory that could be read, which names point at which inodes,
// and which directories and files no readable entry names.
type Namespace struct {
	fs *FS
	// names maps an inode to the (directory, name) entries naming it.
	names map[uint32][]nameRef
	// dirs holds every in-use directory inode found in the table.
	dirs map[uint32]*Inode
	// LostDirs are directories whose own name is lost (no readable
	// directory names them): they appear in paths as #INODE.
	LostDirs []uint32
	// Unreferenced are in-use regular files that no readable directory
	// names: what e2fsck would move to lost+found.
	Unreferenced []*Inode
	// Problems are the directory read errors met during the scan.
	Problems []string

	dotdot   map[uint32]uint32   // a directory's own ".." entry
	contents map[uint32][]string // the names in each directory read
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
}

// sampleNames is how many names LostDir.Sample keeps.
const sampleNames = 5

// Lost describes every directory in LostDirs.
func (ns *Namespace) Lost() []LostDir {
	out := make([]LostDir, 0, len(ns.LostDirs))
	for _, d := range ns.LostDirs {
		in, names := ns.dirs[d], ns.contents[d]
		out = append(out, LostDir{Path: ns.Path(d), Inode: d, Parent: ns.dotdot[d], Entries: len(names),
			Sample: append([]string{}, names[:min(len(names), sampleNames)]...), Size: in.Size, Mtime: in.Mtime})
	}
	return out
}

type nameRef struct {
	dir  uint32
	name string
}

// ScanInodes reads the whole inode table, reads every directory it finds
// and works out which directories and files have lost their names. It
// never trusts the bitmaps (they may be gone), only the inodes.
func (fs *FS) ScanInodes() (*Namespace, error) {
	ns := &Namespace{fs: fs, names: map[uint32][]nameRef{}, dirs: map[uint32]*Inode{},
		dotdot: map[uint32]uint32{}, contents: map[uint32][]string{}}
	var files []*Inode
	err := fs.eachInode(func(in *Inode) {
		switch {
		case in.IsDir():
			ns.dirs[in.Num] = in
		case in.IsRegular() && in.Num >= fs.SB.FirstIno:
			files = append(files, in)
		}
	})
	if err != nil {
		return nil, err
	}
	nums := make([]uint32, 0, len(ns.dirs))
	for n := range ns.dirs {
		nums = append(nums, n)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	for _, n := range nums {
		entries, err := fs.ReadDir(ns.dirs[n])
		if err != nil {
			ns.Problems = append(ns.Problems, err.Error())
		}
		for _, e := range entries {
			switch e.Name {
			case ".":
			case "..":
				ns.dotdot[n] = e.Inode
			default:
				ns.names[e.Inode] = append(ns.names[e.Inode], nameRef{n, e.Name})
				ns.contents[n] = append(ns.contents[n], e.Name)
			}
		}
	}
	for _, n := range nums {
		if n != RootIno && n >= fs.SB.FirstIno && len(ns.names[n]) == 0 {
			ns.LostDirs = append(ns.LostDirs, n)
		}
	}
	for _, in := range files {
		if len(ns.names[in.Num]) == 0 {
			ns.Unreferenced = append(ns.Unreferenced, in)
		}
	}
	return ns, nil
}

// eachInode calls fn for every in-use inode, reading the inode tables a
// group at a time. Groups the checksummed descriptors mark as never used
// are skipped.
func (fs *FS) eachInode(fn func(*Inode)) error {
	sb := fs.SB
	isz := int64(sb.InodeSize)
	trustFlags := sb.HasMetadataCsum() || sb.FeatureROCompat&roCompatGdtCsum != 0
	for g, gd := range fs.groups {
		count := int64(sb.InodesPerGroup)
		if trustFlags && gd.checksumOK {
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
			return fmt.Errorf("ext: scanning inodes: %w", err)
		}
		// Read the table in bounded chunks: a group may hold 512 MiB of inodes.
		perChunk := max(1, int64(4<<20)/isz)
		buf := make([]byte, min(count, perChunk)*isz)
		for start := int64(0); start < count; start += perChunk {
			k := min(perChunk, count-start)
			if err := fs.readAt(buf[:k*isz], off+start*isz); err != nil {
				return fmt.Errorf("ext: inode table of group %d: %w", g, err)
			}
			for i := range k {
				n := first + uint32(start+i)
				if n > sb.InodesCount {
					break
				}
				if in := fs.decodeInode(n, buf[i*isz:(i+1)*isz]); in.InUse() {
					in.raw = append([]byte(nil), in.raw...) // buf is reused
					fn(in)
				}
			}
		}
	}
	return nil
}

// Path names inode n the best the scan can: from the root when every
// directory on the way is named, else from the nearest directory whose
// name is lost, written #INODE.
func (ns *Namespace) Path(n uint32) string {
	var parts []string
	seen := map[uint32]bool{}
	for {
		if n == RootIno {
			return "/" + strings.Join(parts, "/")
		}
		refs := ns.names[n]
		if len(refs) == 0 || seen[n] {
			head := "#" + strconv.FormatUint(uint64(n), 10)
			if len(parts) == 0 {
				return head
			}
			return head + "/" + strings.Join(parts, "/")
		}
		seen[n] = true
		parts = append([]string{refs[0].name}, parts...)
		n = refs[0].dir
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
		entries, err := fs.ReadDir(dir)
		if err != nil {
			problems = append(problems, err.Error())
		}
		for _, e := range entries {
			if e.Name == "." || e.Name == ".." {
				continue
			}
			child := strings.TrimSuffix(p, "/") + "/" + e.Name
			in, err := fs.Inode(e.Inode)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", child, err))
				continue
			}
			if ok, _ := path.Match(glob, e.Name); ok {
				matches = append(matches, Match{Path: child, Inode: in.Num, Type: in.TypeName(), Size: in.Size})
			}
			if in.IsDir() {
				walk(child, in)
			}
		}
	}
	for _, r := range roots {
		in, err := fs.Lookup(r)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !in.IsDir() {
			problems = append(problems, fmt.Sprintf("%s: not a directory", r))
			continue
		}
		walk(r, in)
	}
	return matches, problems, nil
}
