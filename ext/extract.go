package ext

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"syscall"
)

// ExtractResult counts what Extract wrote and what it could not.
type ExtractResult struct {
	Files    int      `json:"files"`
	Dirs     int      `json:"dirs"`
	Symlinks int      `json:"symlinks"`
	Bytes    int64    `json:"bytes"`
	Skipped  []string `json:"skipped,omitempty"` // special files and damaged entries, with why
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
func (fs *FS) Extract(src, destDir string, opts ExtractOptions) (*ExtractResult, error) {
	in, err := fs.Lookup(src)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(destDir)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	defer root.Close()
	name := extractName(src)
	if _, err := root.Lstat(name); err == nil {
		return nil, fmt.Errorf("extract: %s already exists in %s; nothing is ever overwritten", name, destDir)
	}
	x := &extractor{fs: fs, opts: opts, res: &ExtractResult{}, visited: map[uint32]bool{}}
	if err := x.inode(root, name, strings.TrimRight(src, "/"), in, 0); err != nil {
		return x.res, err
	}
	return x.res, nil
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
		n, err := x.file(dir, name, in)
		if err != nil {
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
			x.skip(csrc, err)
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
		x.skip(src, walkErr)
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
// removes what it wrote if it cannot finish: no partial file is left.
func (x *extractor) file(dir *os.Root, name string, in *Inode) (n int64, err error) {
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
	for _, reg := range r.DataRegions() {
		for off := reg[0]; off < reg[1]; {
			n := min(int64(len(buf)), reg[1]-off)
			if _, err := r.ReadAt(buf[:n], off); err != nil && err != io.EOF {
				return 0, sourceError{err}
			}
			if _, err := f.WriteAt(buf[:n], off); err != nil {
				return 0, err
			}
			off += n
		}
	}
	if err := f.Truncate(r.Size()); err != nil {
		return 0, err
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
