package smart

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// parseCount reads an integer counter as smartctl prints it in any locale:
// "2,137", "2.888", "667 420", "100%", "0x04", "35,495,552 [18.1 TB]".
// Counters are whole numbers, so every '.', ',' or space between digits is
// a thousands separator.
func parseCount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "[("); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = strings.TrimSuffix(s, "%")
	if hex, ok := strings.CutPrefix(s, "0x"); ok {
		return strconv.ParseInt(hex, 16, 64)
	}
	digits := strings.Map(func(c rune) rune {
		switch c {
		case ',', '.', ' ', '\'', '\u00a0', '\u202f':
			return -1
		}
		return c
	}, s)
	if digits == "" {
		return 0, errors.New("no number")
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a count", s)
	}
	return n, nil
}

// rawFromText turns the RAW_VALUE column into the 48-bit raw integer:
// "0 0 2" (three 16-bit words, smartctl's raw16 format for Seagate 188)
// packs back into one value; otherwise the leading number is taken
// ("12523h+17m+08.635s" → 12523, "0/0" → 0, "31 (Min/Max 20/33)" → 31).
func rawFromText(s string) uint64 {
	if hex, ok := strings.CutPrefix(s, "0x"); ok {
		if v, err := strconv.ParseUint(firstField(hex), 16, 64); err == nil {
			return v
		}
	}
	if words := strings.Fields(s); len(words) == 3 {
		var v uint64
		ok := true
		for _, w := range words {
			n, err := strconv.ParseUint(w, 10, 16)
			ok = ok && err == nil
			v = v<<16 | n
		}
		if ok {
			return v
		}
	}
	n, _ := leadingNumber(s)
	return n
}

// leadingNumber reads the decimal number a raw column starts with.
func leadingNumber(s string) (uint64, bool) {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	v, err := strconv.ParseUint(s[:end], 10, 64)
	return v, err == nil
}
