package ext

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/backend/file"
	diskfsext4 "github.com/diskfs/go-diskfs/filesystem/ext4"
)

// guard turns a panic of the library under test into an error to report.
func guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("panic: %v", r)
	}
}

func diskfsOpen(f *os.File, size int64) (dfs *diskfsext4.FileSystem, err error) {
	defer guard(&err)
	return diskfsext4.Read(file.New(f, true), size, 0, 512)
}

func diskfsSHA(dfs *diskfsext4.FileSystem, path string) (sum string, err error) {
	defer guard(&err)
	r, err := dfs.OpenFile(path, os.O_RDONLY)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// TestCrossCheckGoDiskfs reads the files of the clean images with
// go-diskfs v1.9.4's ext4 reader, an independent implementation. Where it
// reads a file it must agree with holmes (and debugfs) on the plain files
// of the default ext4 image; everything it gets wrong is logged, and the
// README quotes these lines (go test -run CrossCheck -v ./ext).
func TestCrossCheckGoDiskfs(t *testing.T) {
	for _, name := range cleanImages {
		fs, img := openImage(t, name)
		f, err := os.Open(img)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		dfs, err := diskfsOpen(f, st.Size())
		if err != nil {
			t.Logf("go-diskfs %s: cannot open: %v", name, err)
			f.Close()
			continue
		}
		agreed := 0
		for _, line := range strings.Split(strings.TrimSpace(readRecord(t, name+".sha256")), "\n") {
			_, p, _ := strings.Cut(line, "  ")
			if p == "/data/huge.bin" {
				continue // 5 GiB of hashing for one more opinion: not worth the time
			}
			theirs, err := diskfsSHA(dfs, p)
			switch ours := fileSHA(t, fs, p); {
			case err != nil:
				t.Logf("go-diskfs %s %s: %v", name, p, err)
			case theirs != ours:
				t.Logf("go-diskfs %s %s: wrong bytes (sha256 %.12s…, debugfs and holmes %.12s…)", name, p, theirs, ours)
			default:
				agreed++
			}
		}
		f.Close()
		t.Logf("go-diskfs %s: %d files agree with debugfs and holmes", name, agreed)
		if name == "ext4" && agreed < 8 {
			t.Errorf("go-diskfs agrees on %d files of the default ext4 image, want the 8 plain files", agreed)
		}
	}
}
