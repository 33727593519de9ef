// Package ddmap reads GNU ddrescue mapfiles: which bytes of an image
// ddrescue copied from the failing disk ("finished") and which it did not
// (non-tried, non-trimmed, non-scraped, bad sector). Bytes not finished are
// not evidence: they read as blockdev.UnreadableError, never as the zeros
// ddrescue left in the image (docs/ddrescue.md).
//
// The format, as ddrescue's manual ("Mapfile structure") gives it: comment
// lines ('#' at the start of a line or after whitespace, to the end of the
// line); then the status line "current_pos current_status [current_pass]";
// then one line per block, "pos size status", the blocks contiguous and in
// order. Numbers are decimal, hexadecimal (0x) or octal (leading 0), as
// ddrescue reads them.
package ddmap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"holmes/blockdev"
)

// Status is a block's status character.
type Status byte

const (
	NonTried   Status = '?'
	NonTrimmed Status = '*'
	NonScraped Status = '/'
	BadSector  Status = '-'
	Finished   Status = '+'
)

// String says what the status means, in the manual's words.
func (s Status) String() string {
	switch s {
	case NonTried:
		return "non-tried"
	case NonTrimmed:
		return "non-trimmed"
	case NonScraped:
		return "non-scraped"
	case BadSector:
		return "bad sector"
	case Finished:
		return "finished"
	}
	return fmt.Sprintf("status %q", byte(s))
}

// Block is one data line: Size bytes from Pos with one status.
type Block struct {
	Pos, Size int64
	Status    Status
}

// End is the first byte after the block.
func (b Block) End() int64 { return b.Pos + b.Size }

// Map is a parsed mapfile.
type Map struct {
	// The status line: where ddrescue was and in which phase ('?' copying,
	// '*' trimming, '/' scraping, '-' retrying, 'F' filling, 'G'
	// generating, '+' finished) and pass (0 when the line has none, as
	// before ddrescue 1.21).
	CurrentPos    int64
	CurrentStatus byte
	CurrentPass   int
	Blocks        []Block
}

// Limits on what Parse accepts, so a hostile file cannot make it allocate
// without bound: real mapfiles of failing disks run to some ten thousand
// lines of under 100 bytes.
const (
	MaxLines      = 1 << 20
	MaxLineLength = 4096
)

// End is the first byte the mapfile does not describe.
func (m *Map) End() int64 {
	if len(m.Blocks) == 0 {
		return 0
	}
	return m.Blocks[len(m.Blocks)-1].End()
}

// ReadFile parses the mapfile at path; errors name it and the line.
func ReadFile(path string) (*Map, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ddrescue mapfile: %w", err)
	}
	defer f.Close()
	m, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("ddrescue mapfile %s: %w", path, err)
	}
	return m, nil
}

// Parse reads a mapfile. It checks what ddrescue requires (a status line
// first, then blocks contiguous and in order with known statuses, no
// overlap) and refuses numbers that do not fit in an int64.
func Parse(r io.Reader) (*Map, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), MaxLineLength)
	m := &Map{}
	status := false
	line := 0
	for sc.Scan() {
		line++
		if line > MaxLines {
			return nil, fmt.Errorf("more than %d lines", MaxLines)
		}
		fields := strings.Fields(stripComment(sc.Text()))
		if len(fields) == 0 {
			continue
		}
		if !status {
			if err := m.parseStatus(fields); err != nil {
				return nil, fmt.Errorf("line %d: status line: %w", line, err)
			}
			status = true
			continue
		}
		b, err := parseBlock(fields)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if n := len(m.Blocks); n > 0 {
			prev := m.Blocks[n-1]
			switch {
			case b.Pos < prev.End():
				return nil, fmt.Errorf("line %d: block at %#x overlaps the one before (%#x-%#x) or is out of order", line, b.Pos, prev.Pos, prev.End())
			case b.Pos > prev.End():
				return nil, fmt.Errorf("line %d: gap before block at %#x: the one before ends at %#x", line, b.Pos, prev.End())
			}
		}
		if b.Size > 0 {
			m.Blocks = append(m.Blocks, b)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d bytes", line+1, MaxLineLength)
		}
		return nil, err
	}
	if !status {
		return nil, errors.New("no status line: not a ddrescue mapfile")
	}
	return m, nil
}

// stripComment cuts a comment off: '#' at the start or after whitespace.
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

func (m *Map) parseStatus(f []string) error {
	if len(f) != 2 && len(f) != 3 {
		return fmt.Errorf("%d fields, want current_pos current_status [current_pass]", len(f))
	}
	pos, err := parseNumber(f[0])
	if err != nil {
		return fmt.Errorf("current_pos: %w", err)
	}
	if len(f[1]) != 1 || !strings.Contains("?*/-FG+", f[1]) {
		return fmt.Errorf("current_status %q is not one of ? * / - F G +", f[1])
	}
	m.CurrentPos, m.CurrentStatus = pos, f[1][0]
	if len(f) == 3 {
		pass, err := strconv.ParseUint(f[2], 10, 31)
		if err != nil || pass == 0 {
			return fmt.Errorf("current_pass %q is not a positive decimal number", f[2])
		}
		m.CurrentPass = int(pass)
	}
	return nil
}

func parseBlock(f []string) (Block, error) {
	if len(f) != 3 {
		return Block{}, fmt.Errorf("%d fields, want pos size status", len(f))
	}
	pos, err := parseNumber(f[0])
	if err != nil {
		return Block{}, fmt.Errorf("pos: %w", err)
	}
	size, err := parseNumber(f[1])
	if err != nil {
		return Block{}, fmt.Errorf("size: %w", err)
	}
	if size > 1<<63-1-pos {
		return Block{}, fmt.Errorf("block %#x+%#x ends past the largest offset", pos, size)
	}
	if len(f[2]) != 1 || !strings.Contains("?*/-+", f[2]) {
		return Block{}, fmt.Errorf("status %q is not one of ? * / - +", f[2])
	}
	return Block{Pos: pos, Size: size, Status: Status(f[2][0])}, nil
}

// parseNumber reads a non-negative integer as ddrescue does: 0x.. hex,
// 0.. octal, else decimal; nothing else (no sign, no underscores).
func parseNumber(s string) (int64, error) {
	digits, base := s, 10
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		digits, base = s[2:], 16
	case len(s) > 1 && s[0] == '0':
		digits, base = s[1:], 8
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return 0, fmt.Errorf("bad number %q", s)
	}
	n, err := strconv.ParseInt(digits, base, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return n, nil
}

// Unfinished is the bytes of a device of the given size that the map does
// not mark finished, each with why (the status, and the mapfile as named):
// the blocks not '+', and whatever the map does not cover (before its first
// block or past its end, as "not in the mapfile"). Neighbouring blocks of
// one status are one hole.
func (m *Map) Unfinished(size int64, mapName string) []blockdev.Hole {
	var holes []blockdev.Hole
	add := func(off, end int64, why string) {
		end = min(end, size)
		if off >= end {
			return
		}
		if n := len(holes); n > 0 && holes[n-1].End() == off && holes[n-1].Why == why {
			holes[n-1].Len = end - holes[n-1].Off
			return
		}
		holes = append(holes, blockdev.Hole{Extent: blockdev.Extent{Off: off, Len: end - off}, Why: why})
	}
	missing := fmt.Sprintf("not in ddrescue mapfile %s", mapName)
	if len(m.Blocks) > 0 {
		add(0, m.Blocks[0].Pos, missing)
	}
	for _, b := range m.Blocks {
		if b.Status != Finished {
			add(b.Pos, b.End(), fmt.Sprintf("%s in ddrescue mapfile %s", b.Status, mapName))
		}
	}
	add(m.End(), size, missing)
	return holes
}
