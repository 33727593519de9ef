package blockdev

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Resolver turns a name that is not a file (an array "md1", a logical volume
// "vg/lv" from a case file) into a device. It is how the stacked layers plug
// into every command that takes a DEV.
type Resolver interface {
	Resolve(name string) (Device, error)
}

var partSuffix = regexp.MustCompile(`:p([0-9]+)$`)

// Open opens a DEV as named on the command line (see CLI.md):
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
	if st, err := os.Stat(spec); err == nil || !os.IsNotExist(err) {
		if err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s: is a directory", spec)
		}
		return OpenFile(spec)
	}
	base, rangeSpec, hasRange := cutLast(spec, "@")
	if !hasRange {
		base = spec
	}
	var part int
	if m := partSuffix.FindStringSubmatchIndex(base); m != nil {
		n, err := strconv.Atoi(base[m[2]:m[3]])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: bad partition number", spec)
		}
		part, base = n, base[:m[0]]
	}
	dev, err := openBase(base, r)
	if err != nil {
		return nil, err
	}
	if part > 0 {
		p, err := OpenPartition(dev, part)
		if err != nil {
			dev.Close()
			return nil, err
		}
		dev = withCloser(p, dev)
	}
	if hasRange {
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
		dev = withCloser(s, dev)
	}
	return dev, nil
}

func openBase(name string, r Resolver) (Device, error) {
	if _, err := os.Stat(name); err == nil || !os.IsNotExist(err) || r == nil {
		return OpenFile(name)
	}
	return r.Resolve(name)
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

// closing wraps a derived device so that closing it also closes what it was
// derived from (a partition opened by spec owns its file).
type closing struct {
	Device
	owner Device
}

func withCloser(d, owner Device) Device { return closing{d, owner} }

func (c closing) Close() error {
	err := c.Device.Close()
	if err2 := c.owner.Close(); err == nil {
		err = err2
	}
	return err
}
