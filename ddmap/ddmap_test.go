package ddmap

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"holmes/blockdev"
)

func TestParseFormsDdrescueAccepts(t *testing.T) {
	m, err := Parse(strings.NewReader(`# Mapfile. Created by GNU ddrescue version 1.27
# current_pos  current_status  current_pass
0x00010000     /               1
#      pos        size  status
0x00000000  0x00001000  +
4096        512         -   # a comment after whitespace
011000      0x0DE00     *
0x0F000     4096        ?

0x10000     0x10000     +
`))
	if err != nil {
		t.Fatal(err)
	}
	if m.CurrentPos != 0x10000 || m.CurrentStatus != '/' || m.CurrentPass != 1 {
		t.Errorf("status line %#x %c %d", m.CurrentPos, m.CurrentStatus, m.CurrentPass)
	}
	want := []Block{{0, 4096, Finished}, {4096, 512, BadSector}, {4608, 0xde00, NonTrimmed}, {0xf000, 4096, NonTried}, {0x10000, 0x10000, Finished}}
	if !slices.Equal(m.Blocks, want) {
		t.Errorf("blocks %v, want %v", m.Blocks, want)
	}
	holes := m.Unfinished(0x30000, "d.map")
	wantHoles := []blockdev.Hole{
		{Extent: blockdev.Extent{Off: 4096, Len: 512}, Why: "bad sector in ddrescue mapfile d.map"},
		{Extent: blockdev.Extent{Off: 4608, Len: 0xde00}, Why: "non-trimmed in ddrescue mapfile d.map"},
		{Extent: blockdev.Extent{Off: 0xf000, Len: 4096}, Why: "non-tried in ddrescue mapfile d.map"},
		{Extent: blockdev.Extent{Off: 0x20000, Len: 0x10000}, Why: "not in ddrescue mapfile d.map"},
	}
	if !slices.Equal(holes, wantHoles) {
		t.Errorf("unfinished %v, want %v", holes, wantHoles)
	}
	// Before ddrescue 1.21 the status line had no pass.
	if m, err := Parse(strings.NewReader("0 +\n0 100 +\n")); err != nil || m.CurrentPass != 0 || m.End() != 100 {
		t.Errorf("status line without a pass: %v %v", m, err)
	}
}

func TestParseRefusesWhatDdrescueRefuses(t *testing.T) {
	long := "# " + strings.Repeat("x", MaxLineLength) + "\n0 +\n"
	for _, tc := range []struct{ in, want string }{
		{"", "no status line"},
		{"# only comments\n", "no status line"},
		{"0 + 1\n0 100 +\n50 100 -\n", "line 3: block at 0x32 overlaps"},
		{"0 + 1\n0 100 +\n200 100 -\n", "line 3: gap before block at 0xc8"},
		{"0 + 1\n100 100 +\n0 100 -\n", "line 3: block at 0x0 overlaps"},
		{"0 + 1\n0 100 x\n", "line 2: status \"x\""},
		{"0 + 1\n0 100\n", "line 2: 2 fields"},
		{"0 + 1\n-5 100 +\n", "line 2: pos: bad number"},
		{"0 + 1\n0 1_000 +\n", "line 2: size: bad number"},
		{"0 + 1\n0 0x7fffffffffffffff +\n1 0x7fffffffffffffff +\n", "line 3: block 0x1+0x7fffffffffffffff ends past"},
		{"0 + 1\n5 0x7fffffffffffffff +\n", "ends past the largest offset"},
		{"0 + 1\n0 99999999999999999999 +\n", "bad number"},
		{"0 + 0\n", "line 1: status line: current_pass \"0\""},
		{"0 q 1\n", "current_status \"q\""},
		{"0x 100 +\n", "current_pos: bad number \"0x\""},
		{"09 ? 1\n", "bad number \"09\""},
		{long, "line 1: longer than"},
	} {
		_, err := Parse(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: error %v, want %q", tc.in, err, tc.want)
		}
	}
	many := "0 + 1\n" + strings.Repeat("\n", MaxLines)
	if _, err := Parse(strings.NewReader(many)); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d lines", MaxLines)) {
		t.Errorf("too many lines: %v", err)
	}
}

// FuzzParse: any input parses or fails cleanly; what parses is ordered,
// contiguous and leaves holes inside the device.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"# c\n0x0 ? 1\n0x0 0x200 +\n0x200 0x200 -\n",
		"0 + \n0 10 *\n10 10 /\n",
		"0x10 F 2\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		for i, b := range m.Blocks {
			if b.Size <= 0 || i > 0 && b.Pos != m.Blocks[i-1].End() {
				t.Fatalf("block %d: %v", i, b)
			}
		}
		const size = 1 << 20
		at := int64(0)
		for _, h := range m.Unfinished(size, "f.map") {
			if h.Off < at || h.Len <= 0 || h.End() > size {
				t.Fatalf("hole %v after %d", h, at)
			}
			at = h.End()
		}
	})
}
