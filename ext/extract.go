package ext

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
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

// Extract copies the file or tree at src (a path as Lookup takes it) into
// the directory destDir, under src's base name. All writes go through an
// os.Root on destDir, so nothing can land outside it (no symlink or ".."
// can lead out), and existing files are never overwritten. Modes and
// modification times are restored; holes stay holes.
func (fs *FS) Extract(src, destDir string) (*ExtractResult, error) {
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
	res := &ExtractResult{}
	visited := map[uint32]bool{}
	if err := fs.extractInode(root, name, src, in, res, visited); err != nil {
		return res, err
	}
	return res, nil
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

func (fs *FS) extractInode(root *os.Root, dst, src string, in *Inode, res *ExtractResult, visited map[uint32]bool) error {
	switch {
	case in.IsEncrypted():
		res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %s %v", src, in.TypeName(), errEncrypted))
		return nil
	case in.IsDir():
		if visited[in.Num] {
			res.Skipped = append(res.Skipped, src+": directory already extracted (a loop)")
			return nil
		}
		visited[in.Num] = true
		if err := root.Mkdir(dst, 0o700); err != nil {
			return res.destinationFailed(src, err)
		}
		res.Dirs++
		entries, err := fs.ReadDir(in)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v", src, err))
		}
		for _, e := range entries {
			if e.Name == "." || e.Name == ".." {
				continue
			}
			csrc := strings.TrimRight(src, "/") + "/" + e.Name
			if strings.ContainsAny(e.Name, "/\x00") {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%q: a name no file can have (damaged entry)", csrc))
				continue
			}
			child, err := fs.Inode(e.Inode)
			if err != nil {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v", csrc, err))
				continue
			}
			if err := fs.extractInode(root, dst+"/"+e.Name, csrc, child, res, visited); err != nil {
				return err
			}
		}
		return fs.restoreMeta(root, dst, in)
	case in.IsSymlink():
		target, err := fs.ReadLink(in)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v", src, err))
			return nil
		}
		if err := root.Symlink(target, dst); err != nil {
			return res.destinationFailed(src, err)
		}
		if err := restoreOwner(root, dst, in); err != nil {
			return err
		}
		res.Symlinks++
		return nil
	case in.IsRegular():
		n, err := fs.extractFile(root, dst, in)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				return res.destinationFailed(src, err)
			}
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v", src, err))
			return nil
		}
		res.Files++
		res.Bytes += n
		return fs.restoreMeta(root, dst, in)
	}
	res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %s not extracted", src, in.TypeName()))
	return nil
}

// destinationFailed decides what a failed write means: a name that already
// exists (two entries of one damaged directory with the same name) is
// skipped, anything else stops the extraction.
func (res *ExtractResult) destinationFailed(src string, err error) error {
	if errors.Is(err, os.ErrExist) {
		res.Skipped = append(res.Skipped, fmt.Sprintf("%s: a file of that name was already extracted", src))
		return nil
	}
	return fmt.Errorf("extract: %w", err)
}

// extractFile writes a regular file's data regions, seeking over holes.
func (fs *FS) extractFile(root *os.Root, dst string, in *Inode) (int64, error) {
	r, err := fs.Reader(in)
	if err != nil {
		return 0, err
	}
	f, err := root.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, min(copyBuf, max(r.Size(), 1)))
	for _, reg := range r.DataRegions() {
		for off := reg[0]; off < reg[1]; {
			n := min(int64(len(buf)), reg[1]-off)
			if _, err := r.ReadAt(buf[:n], off); err != nil && err != io.EOF {
				return 0, err
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

// restoreOwner gives dst the inode's owner when running as root, the only
// case the system allows it; otherwise files belong to whoever extracts.
func restoreOwner(root *os.Root, dst string, in *Inode) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if err := root.Lchown(dst, int(in.UID), int(in.GID)); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	return nil
}

// restoreMeta sets owner, mode and times; the owner first, because chown
// clears setuid bits.
func (fs *FS) restoreMeta(root *os.Root, dst string, in *Inode) error {
	if err := restoreOwner(root, dst, in); err != nil {
		return err
	}
	if err := root.Chmod(dst, in.FileMode().Perm()|in.FileMode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	if err := root.Chtimes(dst, in.Atime, in.Mtime); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	return nil
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
