package blockdev

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// Resolver turns a name that is not a file (an array "md1", a logical volume
// "vg/lv" from a case file) into a device. It is how the stacked layers plug
// into every command that takes a DEV.
type Resolver interface {
	Resolve(name string) (Device, error)
}

// Claimer is a Resolver whose names come before files of the same name: a
// collect archive stands for the disks it holds under their original
// names, which must not be read from whatever files bear them here.
type Claimer interface {
	Claims(name string) bool
}

// FileOpener is a Resolver that also opens the files a DEV names (the PATH
// of PATH, PATH:pN, PATH@RANGE), in place of OpenFile: how a ddrescue
// mapfile given for an image applies wherever the image is read (directly,
// as an array member, as a PV).
type FileOpener interface {
	OpenFile(path string) (Device, error)
}

// openFile opens path with r's FileOpener, if it has one.
func openFile(path string, r Resolver) (Device, error) {
	if fo, ok := r.(FileOpener); ok {
		return fo.OpenFile(path)
	}
	return OpenFile(path)
}

var partSuffix = regexp.MustCompile(`:p([0-9]+)$`)

// Open opens a DEV as named on the command line (see docs/cli.md):
//
//	PATH                 whole image file or block device
//	PATH:pN              partition N (1-based) of its MBR or GPT
//	PATH@START[+LEN]     byte range; numbers take K M G T (binary) or s (sectors)
//	NAME                 a name the resolver knows (may be nil)
//
// The forms combine in that order: "disk.img:p2@1M+4M", "vg/lv:p1".
func Open(spec string, r Resolver) (Device, error) {
	if spec == "" {
		return nil, fmt.Errorf("empty device name")
	}
	if c, ok := r.(Claimer); ok && c.Claims(spec) {
		return r.Resolve(spec)
	}
	// A file of that exact name wins, so paths containing '@' or ':p' work.
	if fileExists(spec) {
		return openFile(spec, r)
	}
	if base, rangeSpec, ok := cutRange(spec); ok {
		return openRange(spec, base, rangeSpec, r)
	}
	if base, n, ok := cutPartition(spec); ok {
		if n < 1 {
			return nil, fmt.Errorf("%s: bad partition number", spec)
		}
		return openPartitionOf(base, n, r)
	}
	if r == nil {
		if _, rangeSpec, ok := cutLast(spec, "@"); ok {
			return nil, fmt.Errorf("%s: no such file, and %q is not a byte range (START or START+LEN)", spec, rangeSpec)
		}
		return OpenFile(spec) // reports the missing file
	}
	return r.Resolve(spec)
}

// fileExists says whether Open would open spec as a file: it names
// something (even something it cannot open) rather than nothing.
func fileExists(spec string) bool {
	_, err := os.Stat(spec)
	// ENOTDIR: a component is a file (a collect archive's ARCHIVE/NAME).
	return err == nil || !os.IsNotExist(err) && !errors.Is(err, syscall.ENOTDIR)
}

// cutRange takes a trailing byte range "@START" or "@START+LEN" off spec.
func cutRange(spec string) (base, rangeSpec string, ok bool) {
	base, rangeSpec, ok = cutLast(spec, "@")
	if !ok || base == "" || !isRange(rangeSpec) {
		return spec, "", false
	}
	return base, rangeSpec, true
}

// cutPartition takes a trailing partition ":pN" off spec (n may be 0: a
// bad number Open reports).
func cutPartition(spec string) (base string, n int, ok bool) {
	m := partSuffix.FindStringSubmatchIndex(spec)
	if m == nil || m[0] == 0 {
		return spec, 0, false
	}
	n, err := strconv.Atoi(spec[m[2]:m[3]])
	if err != nil {
		n = 0
	}
	return spec[:m[0]], n, true
}

// SplitSpec takes a DEV name apart as Open does: the base it opens first (a
// path, or a name for the resolver) and the partition and range suffixes
// then applied to it (":p2", "@1M+4M", ":p2@1M"). The longest prefix that
// names an existing file (as exists says) is the base, so a file named
// "disk:1.img" is a base, and "disk:1.img:p1" is its first partition.
// Without any such file the base is what is left with every suffix taken
// off (a name for the resolver: "vg/lv" of "vg/lv:p1").
func SplitSpec(spec string, exists func(path string) bool) (base, suffix string) {
	base = spec
	for !exists(base) {
		b, _, ok := cutRange(base)
		if !ok {
			if b, _, ok = cutPartition(base); !ok {
				break
			}
		}
		base = b
	}
	return base, spec[len(base):]
}

// isRange says whether s has the form START or START+LEN.
func isRange(s string) bool {
	start, length, hasLen := strings.Cut(s, "+")
	if _, err := ParseSize(start); err != nil {
		return false
	}
	_, err := ParseSize(length)
	return !hasLen || err == nil
}

// openRange opens base (any DEV form) and returns the byte range rangeSpec of it.
func openRange(spec, base, rangeSpec string, r Resolver) (Device, error) {
	dev, err := Open(base, r)
	if err != nil {
		return nil, err
	}
	start, length, err := parseRange(rangeSpec, dev.Size())
	if err != nil {
		dev.Close()
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	s, err := Slice(dev, start, length, spec)
	if err != nil {
		dev.Close()
		return nil, err
	}
	return Stack(s, dev), nil
}

// openPartitionOf opens base (any DEV form) and returns its partition n.
func openPartitionOf(base string, n int, r Resolver) (Device, error) {
	dev, err := Open(base, r)
	if err != nil {
		return nil, err
	}
	p, err := OpenPartition(dev, n)
	if err != nil {
		dev.Close()
		return nil, err
	}
	return Stack(p, dev), nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// parseRange parses "START" or "START+LEN" against a device of the given size.
func parseRange(s string, size int64) (start, length int64, err error) {
	startStr, lenStr, hasLen := strings.Cut(s, "+")
	start, err = ParseSize(startStr)
	if err != nil {
		return 0, 0, err
	}
	if start > size {
		return 0, 0, fmt.Errorf("range start %d is past the end of the device (size %d)", start, size)
	}
	length = size - start
	if hasLen {
		length, err = ParseSize(lenStr)
		if err != nil {
			return 0, 0, err
		}
		if length > size-start {
			return 0, 0, fmt.Errorf("range %d+%d runs past the end of the device (size %d)", start, length, size)
		}
	}
	return start, length, nil
}

// ParseSize parses a byte count: a plain integer, or one with a binary
// suffix K, M, G, T (also KiB...) or s for 512-byte sectors.
func ParseSize(s string) (int64, error) {
	orig := s
	s = strings.TrimSpace(s)
	mult := int64(1)
	lower := strings.ToLower(s)
	for _, suf := range []struct {
		text string
		mult int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"s", 512}} {
		if strings.HasSuffix(lower, suf.text) {
			mult, s = suf.mult, s[:len(s)-len(suf.text)]
			break
		}
	}
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", orig)
	}
	if n > (1<<63-1)/mult {
		return 0, fmt.Errorf("size %q too large", orig)
	}
	return n * mult, nil
}

// Paths lists the file paths a DEV argument may name: the whole spec, and
// each shorter one SplitSpec may take as its base (the PATH of PATH@RANGE,
// PATH:pN, PATH:pN@RANGE). Callers that must not touch an input (an output
// path, a test of read-only behaviour) check them all.
func Paths(spec string) []string {
	var paths []string
	SplitSpec(spec, func(p string) bool { paths = append(paths, p); return false })
	return paths
}
