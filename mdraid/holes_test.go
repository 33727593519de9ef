package mdraid

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	"holmes/blockdev"
)

// holeyMembers gives each member of a lab array the holes holes(role)
// (offsets in its data area), as a ddrescue mapfile would.
func holeyMembers(devs []blockdev.Device, dataOffset int64, holes func(role int) []blockdev.Extent) []blockdev.Device {
	out := make([]blockdev.Device, len(devs))
	for i, d := range devs {
		var onDisk []blockdev.Extent
		for _, h := range holes(i) {
			onDisk = append(onDisk, blockdev.Extent{Off: dataOffset + h.Off, Len: h.Len})
		}
		out[i] = blockdev.WithHoles(d, onDisk, fmt.Sprintf("bad sector in ddrescue mapfile d%d.map", i))
	}
	return out
}

// readAll reads the whole array in reads of n bytes, stepping over what is
// unreadable: its sha256 (unreadable bytes skipped) and the lost ranges.
func readAll(t *testing.T, a *Array, n int) (string, []blockdev.Extent) {
	t.Helper()
	h := sha256.New()
	var lost []blockdev.Extent
	buf := make([]byte, n)
	for off := int64(0); off < a.Size(); {
		k, err := a.ReadAt(buf[:min(int64(n), a.Size()-off)], off)
		h.Write(buf[:k])
		off += int64(k)
		if err == nil {
			continue
		}
		u, ok := blockdev.AsUnreadable(err)
		if !ok || u.Dev != a.Name() || u.Off != off || u.Len <= 0 {
			t.Fatalf("%s: read at %d: %v", a.Name(), off, err)
		}
		if !strings.Contains(u.Why, "in ddrescue mapfile d") {
			t.Errorf("%s: the error names no member's cause: %v", a.Name(), err)
		}
		if l := len(lost); l > 0 && lost[l-1].End() == u.Off {
			lost[l-1].Len += u.Len
		} else {
			lost = append(lost, blockdev.Extent{Off: u.Off, Len: u.Len})
		}
		off += u.Len
	}
	return fmt.Sprintf("%x", h.Sum(nil)), lost
}

// TestHolesInDifferentRangesReadWhole: members of the kernel's arrays
// unreadable in ranges no other member shares (not chunk-aligned, crossing
// chunks) still give every byte of the array, copied from the other half or
// rebuilt from parity, whatever the size of the reads.
func TestHolesInDifferentRangesReadWhole(t *testing.T) {
	for _, name := range []string{"r1-v11-3way", "r10-n2-v12", "r4-v12", "r5-ls-v12", "r5-rs-v11", "r6-v12"} {
		t.Run(name, func(t *testing.T) {
			devs, e := labMembers(t, name)
			n := int64(len(devs))
			const hole = 5000
			members := holeyMembers(devs, e.DataOffset, func(role int) []blockdev.Extent {
				var hs []blockdev.Extent
				for at := int64(role) * hole; at < 8<<20; at += n * hole * 3 {
					hs = append(hs, blockdev.Extent{Off: at + 123, Len: hole})
				}
				return hs
			})
			a, err := Open(Geometry{Level: e.Level, Layout: e.Layout, ChunkBytes: e.ChunkBytes, RaidDisks: e.RaidDisks, DataOffset: e.DataOffset}, members, name)
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{4096, 65536 + 512, 1 << 20} {
				got, lost := readAll(t, a, size)
				if len(lost) > 0 || got != e.ArraySHA256 {
					t.Fatalf("reads of %d: sha256 %s, lost %v; want the kernel's %s", size, got, lost, e.ArraySHA256)
				}
			}
		})
	}
}

// TestHolesOverOneAnotherAreLost: where members are unreadable over the
// same bytes, exactly the array bytes no copy or parity gives fail, as an
// UnreadableError on the array; the rest reads as the kernel wrote it.
func TestHolesOverOneAnotherAreLost(t *testing.T) {
	for _, tc := range []struct {
		name  string
		holes map[int][]blockdev.Extent // role: area ranges
		lost  func(a *Array) []blockdev.Extent
	}{
		{"r1-v090", map[int][]blockdev.Extent{0: {{Off: 1000, Len: 8000}}, 1: {{Off: 5000, Len: 8000}, {Off: 300000, Len: 10}}},
			func(*Array) []blockdev.Extent { return []blockdev.Extent{{Off: 5000, Len: 4000}} }},
		// raid5, left-symmetric, 4 disks, 64 KiB chunks: stripe 1 has
		// parity on role 2 and data on 3, 0, 1 (array chunks 3, 4, 5).
		{"r5-ls-v12", map[int][]blockdev.Extent{
			0: {{Off: 65536 + 100, Len: 1000}},  // data (chunk 4) over...
			2: {{Off: 65536 + 600, Len: 1000}},  // ...its parity: 500 bytes of chunk 4 lost
			3: {{Off: 65536 + 3000, Len: 2000}}, // data (chunk 3) over...
			1: {{Off: 65536 + 4000, Len: 2000}}, // ...data (chunk 5): 1000 bytes of each lost
		}, func(a *Array) []blockdev.Extent {
			return []blockdev.Extent{{Off: 3*65536 + 4000, Len: 1000}, {Off: 4*65536 + 600, Len: 500}, {Off: 5*65536 + 4000, Len: 1000}}
		}},
		// raid6 survives two members over the same bytes, not three.
		{"r6-v12", map[int][]blockdev.Extent{0: {{Off: 4096, Len: 8192}}, 1: {{Off: 4096, Len: 8192}}, 2: {{Off: 8192, Len: 100}}, 3: {{Off: 700000, Len: 50}}, 4: {{Off: 700000, Len: 50}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			devs, e := labMembers(t, tc.name)
			a, err := Open(Geometry{Level: e.Level, Layout: e.Layout, ChunkBytes: e.ChunkBytes, RaidDisks: e.RaidDisks, DataOffset: e.DataOffset},
				holeyMembers(devs, e.DataOffset, func(role int) []blockdev.Extent { return tc.holes[role] }), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			want := []blockdev.Extent(nil)
			if tc.lost != nil {
				want = tc.lost(a)
			} else {
				// Three members of one stripe lost over [8192, 8292): the data
				// among them, at its array offsets.
				for _, role := range []int{0, 1, 2} {
					if off, ok := a.ArrayOffset(role, 8192); ok {
						want = append(want, blockdev.Extent{Off: off, Len: 100})
					}
				}
				slices.SortFunc(want, func(x, y blockdev.Extent) int { return int(x.Off - y.Off) })
			}
			for _, size := range []int{4096, 1 << 20} {
				_, lost := readAll(t, a, size)
				if !slices.Equal(lost, want) {
					t.Errorf("reads of %d: lost %v, want %v", size, lost, want)
				}
			}
		})
	}
}
