package mdraid

import (
	"fmt"
	"strconv"
	"strings"
)

// Geometry is what decides where every byte of an md array lives: the
// values mdadm --create takes. Sizes are bytes.
type Geometry struct {
	Level      string `json:"level"`            // raid0, raid1, raid4, raid5, raid6, raid10, linear
	Layout     string `json:"layout,omitempty"` // n2, f2, o2, left-symmetric, ... ("" = the level's default)
	ChunkBytes int64  `json:"chunk_bytes,omitempty"`
	RaidDisks  int    `json:"raid_disks"`
	DataOffset int64  `json:"data_offset"`
	// DataSize is how much of each member's data area the array uses
	// (mdadm's "Used Dev Size"); 0 means as much as the members allow.
	DataSize int64 `json:"data_size,omitempty"`
}

// Levels this package assembles, by mdadm's names.
var levelAliases = map[string]string{
	"0": "raid0", "stripe": "raid0", "raid0": "raid0",
	"1": "raid1", "mirror": "raid1", "raid1": "raid1",
	"4": "raid4", "raid4": "raid4",
	"5": "raid5", "raid5": "raid5",
	"6": "raid6", "raid6": "raid6",
	"10": "raid10", "raid10": "raid10",
	"linear": "linear", "-1": "linear",
}

// ParseLevel returns the canonical name of an md level ("5" and "raid5" are "raid5").
func ParseLevel(s string) (string, error) {
	if l, ok := levelAliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return l, nil
	}
	return "", fmt.Errorf("unknown raid level %q (want raid0, raid1, raid4, raid5, raid6, raid10 or linear)", s)
}

// Parity-layout algorithms by the kernel's numbers (raid5.h) and mdadm's names.
const (
	algLeftAsymmetric    = 0
	algRightAsymmetric   = 1
	algLeftSymmetric     = 2
	algRightSymmetric    = 3
	algParity0           = 4
	algParityN           = 5
	algRotatingZero      = 8
	algRotatingN         = 9
	algRotatingNContinue = 10
	algLeftAsymmetric6   = 16
	algRightAsymmetric6  = 17
	algLeftSymmetric6    = 18
	algRightSymmetric6   = 19
	algParity0_6         = 20
)

var parityLayoutNames = map[int]string{
	algLeftAsymmetric:    "left-asymmetric",
	algRightAsymmetric:   "right-asymmetric",
	algLeftSymmetric:     "left-symmetric",
	algRightSymmetric:    "right-symmetric",
	algParity0:           "parity-first",
	algParityN:           "parity-last",
	algRotatingZero:      "ddf-zero-restart",
	algRotatingN:         "ddf-N-restart",
	algRotatingNContinue: "ddf-N-continue",
	algLeftAsymmetric6:   "left-asymmetric-6",
	algRightAsymmetric6:  "right-asymmetric-6",
	algLeftSymmetric6:    "left-symmetric-6",
	algRightSymmetric6:   "right-symmetric-6",
	algParity0_6:         "parity-first-6",
}

var parityLayoutShort = map[string]int{"la": algLeftAsymmetric, "ra": algRightAsymmetric, "ls": algLeftSymmetric, "rs": algRightSymmetric}

// parseParityLayout returns the kernel's algorithm number for a raid4/5/6 layout name.
func parseParityLayout(level, name string) (int, error) {
	if name == "" || name == "default" {
		if level == "raid4" {
			return algParityN, nil
		}
		return algLeftSymmetric, nil
	}
	lower := strings.ToLower(name)
	if a, ok := parityLayoutShort[lower]; ok {
		return a, nil
	}
	for code, n := range parityLayoutNames {
		if strings.ToLower(n) == lower {
			if level != "raid6" && (code >= algRotatingZero) {
				return 0, fmt.Errorf("layout %s is for raid6 only", name)
			}
			return code, nil
		}
	}
	if n, err := strconv.Atoi(name); err == nil {
		if _, ok := parityLayoutNames[n]; ok {
			return parseParityLayout(level, parityLayoutNames[n])
		}
	}
	return 0, fmt.Errorf("unknown %s layout %q", level, name)
}

// raid10Layout is the kernel's raid10 geometry packed in the layout word:
// near copies (bits 0-7), far copies (8-15), offset flag (16), far-set rule (17-).
type raid10Layout struct {
	near, far int
	offset    bool
	farSets   int // 0: original, 1: buggy "improved", 2: improved far sets
}

// parseRaid10Layout reads mdadm's n2, f2, o3 (and combined kernel forms like n2f2).
func parseRaid10Layout(name string) (raid10Layout, error) {
	l := raid10Layout{near: 1, far: 1}
	if name == "" || name == "default" {
		return raid10Layout{near: 2, far: 1}, nil
	}
	if n, err := strconv.ParseUint(name, 0, 32); err == nil {
		return raid10FromCode(uint32(n))
	}
	rest := strings.ToLower(name)
	seen := false
	for rest != "" {
		kind := rest[0]
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		copies, err := strconv.Atoi(rest[1:i])
		if err != nil || copies < 1 || copies > 255 {
			return l, fmt.Errorf("bad raid10 layout %q (want n2, f2, o2, ...)", name)
		}
		switch kind {
		case 'n':
			l.near = copies
		case 'f':
			l.far = copies
		case 'o':
			l.far, l.offset = copies, true
		default:
			return l, fmt.Errorf("bad raid10 layout %q (want n2, f2, o2, ...)", name)
		}
		seen = true
		rest = rest[i:]
	}
	if !seen {
		return l, fmt.Errorf("bad raid10 layout %q", name)
	}
	return l, nil
}

// raid10FromCode decodes the superblock's layout word.
func raid10FromCode(code uint32) (raid10Layout, error) {
	l := raid10Layout{near: int(code & 0xff), far: int(code >> 8 & 0xff), offset: code&(1<<16) != 0, farSets: int(code >> 17)}
	if l.near < 1 || l.far < 1 || l.farSets > 2 {
		return l, fmt.Errorf("bad raid10 layout word %#x", code)
	}
	return l, nil
}

func (l raid10Layout) copies() int { return l.near * l.far }

// String gives mdadm's name: n2, f2, o2; combined kernel layouts as n2f2;
// layouts with far sets (which mdadm has no name for) as the layout word.
func (l raid10Layout) String() string {
	if l.farSets != 0 {
		code := uint32(l.near) | uint32(l.far)<<8 | uint32(l.farSets)<<17
		if l.offset {
			code |= 1 << 16
		}
		return fmt.Sprintf("%#x", code)
	}
	var b strings.Builder
	if l.near > 1 || l.far == 1 {
		fmt.Fprintf(&b, "n%d", l.near)
	}
	if l.far > 1 {
		if l.offset {
			fmt.Fprintf(&b, "o%d", l.far)
		} else {
			fmt.Fprintf(&b, "f%d", l.far)
		}
	}
	return b.String()
}

// Raid0 layouts for zones of unequal members (kernel 5.4+ makes the choice explicit).
const (
	raid0Original  = "original"
	raid0Alternate = "alternate"
)

// Normalize checks a geometry and fills in the level's default layout and
// canonical names, so that two spellings of the same geometry compare equal.
func (g Geometry) Normalize() (Geometry, error) {
	level, err := ParseLevel(g.Level)
	if err != nil {
		return g, err
	}
	g.Level = level
	if g.RaidDisks < 1 || g.RaidDisks > 256 {
		return g, fmt.Errorf("%s: %d raid disks (want 1..256)", level, g.RaidDisks)
	}
	if g.DataOffset < 0 || g.DataSize < 0 || g.ChunkBytes < 0 {
		return g, fmt.Errorf("%s: negative chunk, data offset or data size", level)
	}
	if g.DataOffset%512 != 0 {
		return g, fmt.Errorf("%s: data offset %d is not a multiple of 512", level, g.DataOffset)
	}
	switch level {
	case "raid1":
		g.Layout, g.ChunkBytes = "", 0
		return g, nil
	case "linear":
		g.Layout = ""
	case "raid0":
		switch strings.ToLower(g.Layout) {
		case "", "default", "0", "1", "original", "orig":
			g.Layout = raid0Original
		case "2", "alternate", "alt":
			g.Layout = raid0Alternate
		default:
			return g, fmt.Errorf("raid0: unknown layout %q (want original or alternate)", g.Layout)
		}
	case "raid10":
		l, err := parseRaid10Layout(g.Layout)
		if err != nil {
			return g, err
		}
		if l.copies() > g.RaidDisks {
			return g, fmt.Errorf("raid10: layout %s needs %d copies but there are %d raid disks", l, l.copies(), g.RaidDisks)
		}
		g.Layout = l.String()
	case "raid4", "raid5", "raid6":
		alg, err := parseParityLayout(level, g.Layout)
		if err != nil {
			return g, err
		}
		g.Layout = parityLayoutNames[alg]
		if level == "raid4" {
			g.Layout = parityLayoutNames[algParityN]
		}
		min := 2
		if level == "raid6" {
			min = 4
		}
		if g.RaidDisks < min {
			return g, fmt.Errorf("%s: %d raid disks (needs at least %d)", level, g.RaidDisks, min)
		}
	}
	if g.ChunkBytes == 0 && level != "linear" {
		return g, fmt.Errorf("%s: chunk size is needed", level)
	}
	if g.ChunkBytes%512 != 0 || g.ChunkBytes > 1<<30 {
		return g, fmt.Errorf("%s: chunk %d is not a multiple of 512 up to 1 GiB", level, g.ChunkBytes)
	}
	if level == "raid10" && g.ChunkBytes&(g.ChunkBytes-1) != 0 {
		return g, fmt.Errorf("raid10: chunk %d is not a power of two", g.ChunkBytes)
	}
	return g, nil
}

// Redundancy is how many members the array can lose and still be read
// completely (in the best case for raid10).
func (g Geometry) Redundancy() int {
	switch g.Level {
	case "raid1":
		return g.RaidDisks - 1
	case "raid4", "raid5":
		return 1
	case "raid6":
		return 2
	case "raid10":
		if l, err := parseRaid10Layout(g.Layout); err == nil {
			return l.copies() - 1
		}
	}
	return 0
}
