package ext

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/backend/file"
	diskfsext4 "github.com/diskfs/go-diskfs/filesystem/ext4"

	"holmes/internal/fixture"
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

// damageKinds are made to a copy of the ext4 image to see how go-diskfs
// copes; holmes's own answers to the same damage are tested elsewhere.
var damageKinds = []string{"directory checksum", "extent header", "self-referencing extent index"}

func damage(t *testing.T, fs *FS, img memDev, kind string) {
	t.Helper()
	switch kind {
	case "directory checksum":
		etc, _ := fs.Lookup("/etc")
		m, _ := fs.Map(etc)
		img[int64(m.Runs[0].Physical)*fs.bs+fs.bs-1] ^= 0xFF
	case "extent header":
		in, _ := fs.Lookup("/etc/hostname")
		off, _ := fs.inodeLocation(in.Num)
		img[off+0x28+2] = 200 // 200 entries in a 60-byte root
	case "self-referencing extent index":
		frag, _ := fs.Lookup("/data/frag.bin")
		m, _ := fs.Map(frag)
		blk := m.Meta[0]
		binary.LittleEndian.PutUint32(img[int64(blk)*fs.bs+12+4:], uint32(blk))
	}
}

// goDiskfsOnDamage is what go-diskfs v1.9.4 does with each damage (docs/ext.md
// quotes it): the error or panic it gives reading /etc/hostname, or
// for the self-referencing index, how its process dies.
var goDiskfsOnDamage = map[string]string{
	"directory checksum":            "could not read directory entries for /etc",
	"extent header":                 "panic: runtime error: slice bounds out of range [:72] with capacity 60",
	"self-referencing extent index": "crashed: fatal error: stack overflow",
}

// TestGoDiskfsOnDamage checks that go-diskfs still fails on each damaged
// structure the way docs/ext.md says, and reads the undamaged file beside
// it. The self-referencing index kills the process with a stack overflow,
// so that case runs in a child process, and only with HOLMES_EVIDENCE=1:
// it takes about a minute.
func TestGoDiskfsOnDamage(t *testing.T) {
	fixture.SkipComparisonInShort(t, "go-diskfs")
	kinds := damageKinds
	child := os.Getenv("HOLMES_DISKFS_DAMAGE")
	if child != "" {
		kinds = []string{child}
		debug.SetMaxStack(64 << 20) // overflow sooner than at 1 GB
	}
	for _, kind := range kinds {
		if kind == "self-referencing extent index" && child == "" {
			if os.Getenv("HOLMES_EVIDENCE") == "" {
				t.Logf("%s: set HOLMES_EVIDENCE=1 to run go-diskfs into its stack overflow", kind)
				continue
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestGoDiskfsOnDamage$", "-test.v")
			cmd.Env = append(os.Environ(), "HOLMES_DISKFS_DAMAGE="+kind)
			out, _ := cmd.CombinedOutput()
			verdict := "did not crash"
			if i := bytes.Index(out, []byte("fatal error: ")); i >= 0 {
				verdict = "crashed: " + string(bytes.SplitN(out[i:], []byte("\n"), 2)[0])
			}
			if verdict != goDiskfsOnDamage[kind] {
				t.Errorf("go-diskfs, %s: %s; docs/ext.md says %s", kind, verdict, goDiskfsOnDamage[kind])
			}
			continue
		}
		img := loadImage(t, "ext4")
		fs, err := Open(img, int64(len(img)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		damage(t, fs, img, kind)
		tmp := filepath.Join(t.TempDir(), "damaged.img")
		if err := os.WriteFile(tmp, img, 0o444); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(tmp)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dfs, err := diskfsOpen(f, int64(len(img)))
		if err != nil {
			t.Errorf("go-diskfs, %s: cannot open: %v", kind, err)
			continue
		}
		if _, err := diskfsSHA(dfs, "/etc/hostname"); err == nil || !strings.Contains(err.Error(), goDiskfsOnDamage[kind]) {
			t.Errorf("go-diskfs, %s: /etc/hostname: %v; docs/ext.md says %s", kind, err, goDiskfsOnDamage[kind])
		}
		if _, err := diskfsSHA(dfs, "/data/frag.bin"); err != nil {
			t.Errorf("go-diskfs, %s: /data/frag.bin, which the damage does not touch: %v", kind, err)
		}
	}
}

// TestHolmesOnSameDamage: the damage above gives holmes a readable
// directory (with a checksum warning) and clear errors for the two broken
// extent trees, without taking the other files down.
func TestHolmesOnSameDamage(t *testing.T) {
	fixture.SkipComparisonInShort(t, "go-ext4 and go-diskfs")
	want := map[string]string{
		"directory checksum":            "",
		"extent header":                 "ext: inode 5019 extent tree: extent node claims 200 entries (max 4) in 60 bytes",
		"self-referencing extent index": "a cycle",
	}
	for _, kind := range damageKinds {
		img := loadImage(t, "ext4")
		fs, err := Open(img, int64(len(img)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		damage(t, fs, img, kind)
		var errs []string
		for _, p := range []string{"/etc/hostname", "/data/frag.bin"} {
			in, err := fs.Lookup(p)
			if err == nil {
				_, err = fs.Reader(in)
			}
			if err != nil {
				errs = append(errs, err.Error())
			}
		}
		got := strings.Join(errs, "; ")
		if (want[kind] == "") != (got == "") || !strings.Contains(got, want[kind]) || len(errs) > 1 {
			t.Errorf("%s: holmes says %q, want %q", kind, got, want[kind])
		}
		if got, _ := fs.Lookup("/etc/fstab"); got == nil {
			t.Errorf("%s: /etc/fstab lost", kind)
		}
	}
}
