package ext

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"

	"holmes/blockdev"
)

// ExtractResult counts what Extract wrote and what it could not.
type ExtractResult struct {
	Files    int      `json:"files"`
	Dirs     int      `json:"dirs"`
	Symlinks int      `json:"symlinks"`
	Bytes    int64    `json:"bytes"`
	Skipped  []string `json:"skipped,omitempty"` // special files and damaged entries, with why
	// Lost is what the inode table gave back beyond the tree, when the
	// whole filesystem was extracted and its root or a directory was
	// damaged (or ExtractOptions.Lost asked for it).
	Lost *LostRecovery `json:"lost,omitempty"`
	// Damaged are files the device could not read in full (gaps of a
	// ddrescue image): each is written with what could be read, the lost
	// ranges left as holes in the copy.
	Damaged []DamagedFile `json:"damaged,omitempty"`
	// UnreadableMetadata are directory blocks, inodes and block maps the
	// device could not read, each with what it cost.
	UnreadableMetadata []MetadataLoss `json:"unreadable_metadata,omitempty"`
}

// DamagedFile is a file extracted with byte ranges missing.
type DamagedFile struct {
	Path  string `json:"path"`
	Inode uint32 `json:"inode"`
	Size  int64  `json:"size"`
	// Lost are the ranges of the file, in its own offsets, that could not
	// be read.
	Lost []ByteRange `json:"lost"`
	// LostBytes counts them.
	LostBytes int64 `json:"lost_bytes"`
}

// ByteRange is [Start, End) of a file.
type ByteRange struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// MetadataLoss is a piece of metadata the device could not read and what
// it cost: a directory's entries in that block, a file (or a whole
// subtree) whose inode or block map is gone.
type MetadataLoss struct {
	What  string `json:"what"` // "directory block", "inode", "block map"
	Path  string `json:"path"`
	Inode uint32 `json:"inode"`
	// Cost says what did not come back because of it.
	Cost  string `json:"cost"`
	Error string `json:"error"`
}

// Damage says whether anything could not be read: a file's bytes or
// metadata (extract exits 4 then; docs/ext.md).
func (r *ExtractResult) Damage() bool {
	return len(r.Damaged) > 0 || len(r.UnreadableMetadata) > 0
}

// LostRecovery is what extracting a whole filesystem found beyond its
// tree, like e2fsck's lost+found but without changing the device: every
// directory no readable directory names and every regular file none
// names, each extracted under DESTDIR as inodeN (the name extracting #N
// gives it), with the name the journal remembers for it.
type LostRecovery struct {
	// RootProblem says why the root directory was not extracted ("" when
	// it was).
	RootProblem string        `json:"root_problem,omitempty"`
	Dirs        []LostExtract `json:"dirs"`
	Files       []LostExtract `json:"files"`
	// Foreign are inodes of the filesystem written over this one, found in
	// its inode table: not extracted, they are not this filesystem's.
	Foreign []ForeignInode `json:"foreign_inodes"`
	// JournalProblem says why the journal could give no names.
	JournalProblem string   `json:"journal_problem,omitempty"`
	Problems       []string `json:"problems"` // met while scanning the inode table
	// What came back and what did not.
	DirsRead       int `json:"dirs_read"`       // lost directories extracted with what they hold
	DirsUnreadable int `json:"dirs_unreadable"` // lost directories whose entries could not be read: created empty
	FilesRecovered int `json:"files_recovered"` // unnamed files extracted
	FilesFailed    int `json:"files_failed"`    // unnamed files that could not be (also in Skipped)
}

// LostExtract is one lost directory or unnamed file and where it went.
type LostExtract struct {
	Inode       uint32 `json:"inode"`
	Path        string `json:"path"`         // #INODE, as find prints it
	ExtractedAs string `json:"extracted_as"` // its name under DESTDIR; "" when nothing was created
	Parent      uint32 `json:"parent,omitempty"`
	Size        uint64 `json:"size"`
	Files       int    `json:"files"` // regular files extracted (under it, for a directory)
	Bytes       int64  `json:"bytes"`
	// JournalName is the name a journal copy of a directory block gives
	// it: history, a hint.
	JournalName     string `json:"journal_name,omitempty"`
	JournalSequence uint32 `json:"journal_sequence,omitempty"`
	Problem         string `json:"problem,omitempty"` // why it, or what it holds, did not come back
}

// copyBuf is the unit of copying: large enough that a page-cached image
// streams at memory speed.
const copyBuf = 4 << 20

// ExtractOptions say what of an untrusted image's metadata Extract
// restores (README, ext extract; docs/hostile-input.md).
type ExtractOptions struct {
	// KeepSetID keeps setuid and setgid bits; by default they are dropped,
	// so that extracting an image never plants a setuid program.
	KeepSetID bool
	// SameOwner restores owners and groups (which needs root), as tar
	// --same-owner; by default files belong to whoever extracts.
	SameOwner bool
	// Lost, when the whole filesystem is extracted, always scans the
	// inode table for lost directories and unnamed files; that is done
	// anyway when the root or any directory is damaged.
	Lost bool
}

// maxExtractDepth caps how deeply directories nest in an extraction: each
// level holds one open directory. Deeper directories are skipped and
// reported.
const maxExtractDepth = 4096

// Extract copies the file or tree at src (a path as Lookup takes it) into
// the directory destDir, under src's base name. All writes go through an
// os.Root opened on each directory, so nothing can land outside destDir
// (no symlink or ".." can lead out), each write costs the same at any
// depth, and existing files are never overwritten. Modes and modification
// times are restored (owners and setuid/setgid bits as opts say); holes
// stay holes. A file or directory that cannot be extracted is reported in
// Skipped, removed if it was begun, and the rest goes on; only a failing
// destination (full, read-only, broken) stops the extraction.
//
// Extracting the whole filesystem ("/") also brings back what the tree no
// longer reaches when the root directory is lost or any directory is
// damaged (or opts.Lost asks): see LostRecovery.
func (fs *FS) Extract(src, destDir string, opts ExtractOptions) (*ExtractResult, error) {
	whole := strings.HasPrefix(src, "/") && strings.Trim(src, "/") == ""
	rootLost := ""
	if whole {
		rootLost = fs.RootProblem()
	}
	var in *Inode
	if rootLost == "" {
		var err error
		if in, err = fs.Lookup(src); err != nil {
			return nil, err
		}
	}
	root, err := os.OpenRoot(destDir)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	defer root.Close()
	var ns *Namespace
	var names []string
	if in != nil {
		names = append(names, extractName(src))
	}
	if whole && (rootLost != "" || opts.Lost) {
		if ns, err = fs.ScanInodes(); err != nil {
			return nil, err
		}
		names = append(names, ns.lostNames()...)
	}
	for _, name := range names {
		if _, err := root.Lstat(name); err == nil {
			return nil, fmt.Errorf("extract: %s already exists in %s; nothing is ever overwritten", name, destDir)
		}
	}
	x := &extractor{fs: fs, opts: opts, res: &ExtractResult{}, visited: map[uint32]bool{}, unreadable: map[uint32]string{}}
	if in != nil {
		if err := x.inode(root, extractName(src), strings.TrimRight(src, "/"), in, 0); err != nil {
			return x.res, err
		}
	}
	if whole && ns == nil && x.damaged {
		if ns, err = fs.ScanInodes(); err != nil {
			return x.res, err
		}
	}
	if ns != nil {
		return x.res, x.lost(root, ns, rootLost)
	}
	return x.res, nil
}

// lostNames are the names the lost directories and unnamed files get
// under the destination.
func (ns *Namespace) lostNames() []string {
	var names []string
	for _, d := range ns.LostDirs {
		names = append(names, lostName(d))
	}
	for _, f := range ns.Unreferenced {
		names = append(names, lostName(f.Num))
	}
	return names
}

// lostName is what extracting #n names it: inodeN.
func lostName(n uint32) string { return extractName("#" + strconv.FormatUint(uint64(n), 10)) }

// lost extracts every lost directory and unnamed file of ns beside the
// tree, and says what came back.
func (x *extractor) lost(root *os.Root, ns *Namespace, rootLost string) error {
	rec := &LostRecovery{RootProblem: rootLost, Dirs: []LostExtract{}, Files: []LostExtract{}, Foreign: ns.Foreign, Problems: ns.Problems}
	x.res.Lost = rec
	add := func(list *[]LostExtract, ok, failed *int, item LostExtract) error {
		if err := x.lostOne(root, &item); err != nil {
			return err
		}
		if item.Problem == "" {
			*ok++
		} else {
			*failed++
		}
		*list = append(*list, item)
		return nil
	}
	for _, d := range ns.Lost() {
		item := LostExtract{Inode: d.Inode, Path: d.Path, Parent: d.Parent, Size: d.Size, JournalName: d.JournalName, JournalSequence: d.JournalSequence}
		if err := add(&rec.Dirs, &rec.DirsRead, &rec.DirsUnreadable, item); err != nil {
			return err
		}
	}
	for _, f := range ns.UnreferencedFiles() {
		item := LostExtract{Inode: f.Inode, Path: f.Path, Size: f.Size, JournalName: f.JournalName, JournalSequence: f.JournalSequence}
		if err := add(&rec.Files, &rec.FilesRecovered, &rec.FilesFailed, item); err != nil {
			return err
		}
	}
	rec.JournalProblem = ns.JournalProblem
	if rec.Foreign == nil {
		rec.Foreign = []ForeignInode{}
	}
	if rec.Problems == nil {
		rec.Problems = []string{}
	}
	return nil
}

// lostOne extracts one lost directory or unnamed file as inodeN and
// records what came of it.
func (x *extractor) lostOne(root *os.Root, item *LostExtract) error {
	in, err := x.fs.Inode(item.Inode)
	if err != nil {
		item.Problem = err.Error()
		x.skip(item.Path, err)
		return nil
	}
	name := lostName(item.Inode)
	files, dirs, bytes, skipped := x.res.Files, x.res.Dirs, x.res.Bytes, len(x.res.Skipped)
	if err := x.inode(root, name, item.Path, in, 0); err != nil {
		return err
	}
	item.Files, item.Bytes = x.res.Files-files, x.res.Bytes-bytes
	created := x.res.Dirs > dirs || (!in.IsDir() && item.Files > 0)
	if created {
		item.ExtractedAs = name
	}
	switch why, unreadable := x.unreadable[item.Inode]; {
	case unreadable:
		item.Problem = "its entries could not all be read: " + why
	case !created && len(x.res.Skipped) > skipped:
		item.Problem = x.res.Skipped[skipped]
	case !created:
		item.Problem = "not extracted"
	}
	return nil
}

// extractName is the name src gets under the destination: its base name,
// "root" for the root, "inodeN" for a bare inode ("#N" or "<N>").
func extractName(src string) string {
	trimmed := strings.TrimRight(src, "/")
	name := path.Base(trimmed)
	switch {
	case trimmed == "" || name == "." || name == "/":
		return "root"
	case strings.HasPrefix(trimmed, "#") && !strings.Contains(trimmed, "/"):
		return "inode" + trimmed[1:]
	case strings.HasPrefix(trimmed, "<") && strings.HasSuffix(trimmed, ">"):
		return "inode" + trimmed[1:len(trimmed)-1]
	}
	return name
}

type extractor struct {
	fs      *FS
	opts    ExtractOptions
	res     *ExtractResult
	visited map[uint32]bool
	// damaged is set when a directory or an entry's inode could not be
	// read: names below it may be lost.
	damaged bool
	// unreadable holds why each directory whose entries could not be read
	// failed.
	unreadable map[uint32]string
}

// unreadableMeta records a loss of metadata when err is a gap in the
// evidence (blockdev.UnreadableError); other damage is only skipped.
func (x *extractor) unreadableMeta(what, src string, ino uint32, cost string, err error) {
	if _, gap := blockdev.AsUnreadable(err); gap {
		x.res.UnreadableMetadata = append(x.res.UnreadableMetadata, MetadataLoss{what, src, ino, cost, err.Error()})
	}
}

func (x *extractor) skip(src string, why any) {
	x.res.Skipped = append(x.res.Skipped, fmt.Sprintf("%s: %v", src, why))
}

// inode extracts in as name inside dir; src is its path in the image.
func (x *extractor) inode(dir *os.Root, name, src string, in *Inode, depth int) error {
	switch {
	case in.IsEncrypted():
		x.skip(src, fmt.Sprintf("%s %v", in.TypeName(), errEncrypted))
		return nil
	case in.IsDir():
		return x.dir(dir, name, src, in, depth)
	case in.IsSymlink():
		target, err := x.fs.ReadLink(in)
		if err != nil {
			x.skip(src, err)
			return nil
		}
		if err := dir.Symlink(target, name); err != nil {
			return x.destinationFailed(src, err)
		}
		x.res.Symlinks++
		x.restoreOwner(dir, name, src, in)
		return nil
	case in.IsRegular():
		n, err := x.file(dir, name, src, in)
		if err != nil {
			var se sourceError
			if errors.As(err, &se) {
				x.unreadableMeta("block map", src, in.Num, "file not extracted", se.error)
			}
			return x.destinationFailed(src, err)
		}
		x.res.Files++
		x.res.Bytes += n
		x.restoreMeta(dir, name, src, in)
		return nil
	}
	x.skip(src, in.TypeName()+" not extracted")
	return nil
}

// dir creates directory name in dir and extracts what in holds into it,
// streaming the entries: files as they come, subdirectories after.
func (x *extractor) dir(dir *os.Root, name, src string, in *Inode, depth int) error {
	if x.visited[in.Num] {
		x.skip(src, "directory already extracted (a loop)")
		return nil
	}
	x.visited[in.Num] = true
	if depth >= maxExtractDepth {
		x.skip(src, fmt.Sprintf("directories nest deeper than %d levels", maxExtractDepth))
		return nil
	}
	if err := dir.Mkdir(name, 0o700); err != nil {
		return x.destinationFailed(src, err)
	}
	sub, err := dir.OpenRoot(name)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	defer sub.Close()
	x.res.Dirs++
	type subdir struct {
		name string
		in   *Inode
	}
	var subdirs []subdir
	var stop error
	walkErr := x.fs.WalkDir(in, false, func(e DirEntry) bool {
		if e.Name == "." || e.Name == ".." {
			return true
		}
		csrc := src + "/" + e.Name
		if strings.ContainsAny(e.Name, "/\x00") {
			x.skip(fmt.Sprintf("%q", csrc), "a name no file can have (damaged entry)")
			return true
		}
		child, err := x.fs.Inode(e.Inode)
		if err != nil {
			x.damaged = true
			x.skip(csrc, err)
			x.unreadableMeta("inode", csrc, e.Inode, "not extracted (with all below it, for a directory)", err)
			return true
		}
		if child.IsDir() {
			subdirs = append(subdirs, subdir{e.Name, child})
			return true
		}
		stop = x.inode(sub, e.Name, csrc, child, depth+1)
		return stop == nil
	})
	if stop != nil {
		return stop
	}
	if walkErr != nil {
		x.damaged = true
		x.unreadable[in.Num] = walkErr.Error()
		x.skip(src, walkErr)
		x.unreadableMeta("directory block", src, in.Num, "the entries in the unreadable blocks are not extracted here (extracting / brings their files back as inodeN)", walkErr)
	}
	for _, c := range subdirs {
		if err := x.inode(sub, c.name, src+"/"+c.name, c.in, depth+1); err != nil {
			return err
		}
	}
	x.restoreMeta(sub, ".", src, in)
	return nil
}

// destinationFailed decides what a failed write means: a destination that
// cannot take more (full, read-only, failing) stops the extraction;
// anything else concerns this file alone, which is reported and skipped.
func (x *extractor) destinationFailed(src string, err error) error {
	var se sourceError
	if errors.As(err, &se) {
		x.skip(src, se.error)
		return nil
	}
	for _, fatal := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO} {
		if errors.Is(err, fatal) {
			return fmt.Errorf("extract: %s: %w", src, err)
		}
	}
	if errors.Is(err, os.ErrExist) {
		x.skip(src, "a file of that name was already extracted")
		return nil
	}
	x.skip(src, err)
	return nil
}

// sourceError marks a failure to read the image, which concerns one file
// whatever its cause.
type sourceError struct{ error }

// file writes a regular file's data regions, seeking over holes, and
// removes what it wrote if it cannot finish: no partial file is left. Bytes
// the device lacks (a gap of a ddrescue image) do not stop it: they stay
// holes in the copy and the file is listed as damaged with their ranges.
func (x *extractor) file(dir *os.Root, name, src string, in *Inode) (n int64, err error) {
	r, err := x.fs.Reader(in)
	if err != nil {
		return 0, sourceError{err}
	}
	f, err := dir.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			dir.Remove(name)
		}
	}()
	buf := make([]byte, min(copyBuf, max(r.Size(), 1)))
	asDev := fileDevice{r, src}
	var lost []ByteRange
	var lostBytes int64
	for _, reg := range r.DataRegions() {
		for off := reg[0]; off < reg[1]; {
			n := min(int64(len(buf)), reg[1]-off)
			gaps, err := blockdev.ReadAround(asDev, buf[:n], off)
			if err != nil {
				return 0, sourceError{err}
			}
			// Write what was read, around the gaps.
			at := off
			for _, g := range append(gaps, blockdev.Extent{Off: off + n}) {
				if _, err := f.WriteAt(buf[at-off:g.Off-off], at); err != nil {
					return 0, err
				}
				if g.Len > 0 {
					if k := len(lost); k > 0 && lost[k-1].End == g.Off {
						lost[k-1].End = g.End()
					} else {
						lost = append(lost, ByteRange{g.Off, g.End()})
					}
					lostBytes += g.Len
				}
				at = g.End()
			}
			off += n
		}
	}
	if err := f.Truncate(r.Size()); err != nil {
		return 0, err
	}
	if lost != nil {
		x.res.Damaged = append(x.res.Damaged, DamagedFile{src, in.Num, r.Size(), lost, lostBytes})
	}
	return r.Size(), f.Close()
}

// restoreOwner gives name the inode's owner when asked to (--same-owner);
// a failure is reported, and the file stays.
func (x *extractor) restoreOwner(dir *os.Root, name, src string, in *Inode) bool {
	if !x.opts.SameOwner {
		return true
	}
	if err := dir.Lchown(name, int(in.UID), int(in.GID)); err != nil {
		x.skip(src, fmt.Sprintf("owner not restored: %v", err))
		return false
	}
	return true
}

// restoreMeta sets owner, mode and times; the owner first, because chown
// clears setuid bits. Setuid and setgid are kept only when asked to.
func (x *extractor) restoreMeta(dir *os.Root, name, src string, in *Inode) {
	x.restoreOwner(dir, name, src, in)
	mode := in.FileMode().Perm() | in.FileMode()&os.ModeSticky
	if x.opts.KeepSetID {
		mode |= in.FileMode() & (os.ModeSetuid | os.ModeSetgid)
	}
	if err := dir.Chmod(name, mode); err != nil {
		x.skip(src, fmt.Sprintf("mode not restored: %v", err))
	}
	if err := dir.Chtimes(name, in.Atime, in.Mtime); err != nil {
		x.skip(src, fmt.Sprintf("times not restored: %v", err))
	}
}

// ReadLink returns the target of a symbolic link.
func (fs *FS) ReadLink(in *Inode) (string, error) {
	if !in.IsSymlink() {
		return "", fmt.Errorf("ext: inode %d is not a symlink", in.Num)
	}
	if in.Size > uint64(fs.bs) || in.Size > 65536 {
		return "", fmt.Errorf("ext: symlink inode %d claims %d bytes", in.Num, in.Size)
	}
	r, err := fs.Reader(in)
	if err != nil {
		return "", err
	}
	b := make([]byte, in.Size)
	if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
		return "", err
	}
	return string(b), nil
}
