package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"holmes/blockdev"
)

// holmes runs the command line in-process and returns stdout, stderr and the
// exit status. Every argument that names an existing file (or the PATH part
// of PATH:pN / PATH@RANGE) is hashed before and after: a command that changes
// its input fails the test, so every CLI test proves "never write to evidence".
func holmes(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return holmesWith(t, nil, args...)
}

// holmesWith is holmes with dependencies changed by setup (such as the
// smartctl program), for tests that would otherwise change the environment.
func holmesWith(t *testing.T, setup func(*Factory), args ...string) (stdout, stderr string, code int) {
	t.Helper()
	before := hashInputs(t, args)
	var out, errb bytes.Buffer
	f := newFactory(&out, &errb)
	if setup != nil {
		setup(f)
	}
	code = runWith(f, args)
	after := hashInputs(t, args)
	for p, h := range before {
		if after[p] != h {
			t.Fatalf("holmes %s changed its input %s", strings.Join(args, " "), p)
		}
	}
	return out.String(), errb.String(), code
}

func hashInputs(t *testing.T, args []string) map[string][sha256.Size]byte {
	t.Helper()
	outputs := map[string]bool{} // files the user named as outputs, such as --write-case FILE
	for i, a := range args {
		if i > 0 && outputFlags[args[i-1]] {
			outputs[a] = true
		}
	}
	sums := map[string][sha256.Size]byte{}
	for _, a := range args {
		for _, p := range blockdev.Paths(a) {
			st, err := os.Stat(p)
			if err != nil || !st.Mode().IsRegular() || outputs[p] {
				continue
			}
			sums[p] = fileSum(t, p, st)
		}
	}
	return sums
}

// fileSum hashes a file once per version of it: a write through any path
// changes the inode's ctime (which no program can set back), so a file
// whose inode, size, mtime and ctime are unchanged still has the sum it had.
// The lab images are read by dozens of commands; this keeps each to one pass.
func fileSum(t *testing.T, p string, st os.FileInfo) [sha256.Size]byte {
	t.Helper()
	key := fileVersion{path: p, size: st.Size(), mtime: st.ModTime().UnixNano()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		key.ino, key.ctime = sys.Ino, sys.Ctim.Nano()
	}
	if sum, ok := sumCache.Load(key); ok {
		return sum.([sha256.Size]byte)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	sumCache.Store(key, sum)
	return sum
}

type fileVersion struct {
	path         string
	ino          uint64
	size         int64
	mtime, ctime int64
}

var sumCache sync.Map // fileVersion -> [sha256.Size]byte

// outputFlags take a path holmes may write: the only files a command may change.
var outputFlags = map[string]bool{"--out": true, "--write-case": true, "--report": true}

// deviceSHA256 is the sha256 of DEV read through the case file, as holmes
// dump prints it.
func deviceSHA256(t *testing.T, caseFile, dev string) string {
	t.Helper()
	d, err := (&Factory{CaseFile: caseFile}).OpenDevice(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(d, 0, d.Size())); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
