// Package safewrite is the one rule by which holmes writes its outputs
// (extracted trees, carved metadata files, hash manifests): never over
// evidence. An output may not be an input or lie inside one, and a file
// already at its place is kept unless it is an earlier output of the same
// kind; identical content is a re-run and is left as it is.
package safewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"holmes/blockdev"
)

// Kind says which existing files an output may replace: those whose first
// bytes Is accepts (an earlier output of this kind, described by Name).
// The zero Kind replaces nothing.
type Kind struct {
	Name string
	Is   func(prefix []byte) bool
}

// prefixSize is how much of an existing file Kind.Is sees.
const prefixSize = 4096

// Check refuses path as an output when it is one of the inputs (DEV
// arguments: the PATH of PATH:pN and PATH@RANGE counts) or lies inside one,
// or when a file is there that kind may not replace. An existing directory
// passes: outputs are written inside it.
func Check(path string, inputs []string, kind Kind) error {
	out := resolved(path)
	for _, spec := range inputs {
		for _, p := range blockdev.Paths(spec) {
			in := resolved(p)
			if out == in || strings.HasPrefix(out, in+string(filepath.Separator)) {
				return fmt.Errorf("%s is the input %s or inside it; holmes never writes there", path, spec)
			}
		}
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && st.IsDir() {
		return nil
	}
	if err != nil {
		return err
	}
	if kind.Is != nil {
		if prefix, err := readPrefix(path); err == nil && kind.Is(prefix) {
			return nil
		}
		return fmt.Errorf("%s exists and is not %s; not overwriting it", path, kind.Name)
	}
	return fmt.Errorf("%s exists; not overwriting it", path)
}

// WriteFile writes data to path as Check allows; a file that already holds
// exactly data is left as it is.
func WriteFile(path string, data []byte, inputs []string, kind Kind) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := Check(path, inputs, kind); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if _, err := os.Lstat(path); err == nil {
		flags = os.O_WRONLY | os.O_TRUNC // an earlier output Check let through
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Replace writes path through a temporary file beside it, renamed over path
// only when write returned without error and the bytes reached the disk: an
// interrupted run leaves the old file, or none, never half of one. The
// caller has checked path (Check); before the rename, ready may check again
// (the place may have changed during a long write).
func Replace(path string, write func(w io.Writer) error, ready func() error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone already after the rename
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && ready != nil {
		err = ready()
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// resolved is path absolute with symlinks followed as far as they exist.
func resolved(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	return abs
}

func readPrefix(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, prefixSize)
	n, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:n], err
}
