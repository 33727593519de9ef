// Package report renders a triage result for people: Markdown, or one
// standalone HTML file with inline CSS and SVG that needs no network and no
// scripts. Every name in a result came from the disks (labels, LV names,
// paths), so every one is escaped for the format it lands in.
package report

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// visible replaces what would not show as itself in a terminal or a browser
// (control characters, invalid UTF-8, bidirectional overrides and other
// format characters) with a Go-style escape, so that a name from disk can
// neither forge a line nor drive a terminal.
func visible(s string) string {
	if isVisible(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case shown(r):
			b.WriteRune(r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += n
	}
	return b.String()
}

func isVisible(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !shown(r) {
			return false
		}
	}
	return true
}

func shown(r rune) bool {
	return r == ' ' || unicode.IsGraphic(r) && !unicode.Is(unicode.Cf, r)
}

// clip shortens s to at most n runes for a box of fixed width; the full
// text goes beside it (a tooltip, a table).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// iec is a byte count in binary units, short enough for a box.
// dataSize says how much of each member an array uses: 0 is what the
// members hold past the data offset (no --size).
func dataSize(n int64) string {
	if n == 0 {
		return "each member's whole data area"
	}
	return strconv.FormatInt(n, 10) + " (" + iec(n) + ")"
}

func iec(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, u := float64(n)/1024, 0
	for v >= 1024 && u < len(units)-1 {
		v, u = v/1024, u+1
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %s", int64(v), units[u])
	}
	return fmt.Sprintf("%.1f %s", v, units[u])
}

// chunkText is a chunk size as mdadm's --chunk takes it.
func chunkText(n int64) string {
	if n <= 0 {
		return ""
	}
	return iec(n)
}

// geometry is an array's level, layout and chunk in one phrase:
// "raid10 n2 64 KiB".
func geometry(level, layout string, chunk int64) string {
	return strings.Join(nonEmpty(level, layout, chunkText(chunk)), " ")
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
