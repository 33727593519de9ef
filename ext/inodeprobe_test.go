package ext

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// populatedImage makes an ext4 with metadata_csum and 1 KiB blocks filled
// from a directory tree by the real mke2fs (-d), and returns its bytes and
// the inode table of each group as dumpe2fs lists them.
func populatedImage(t testing.TB) ([]byte, [][2]uint64) {
	t.Helper()
	dir := t.TempDir()
	for d := range 5 {
		sub := filepath.Join(dir, fmt.Sprintf("dir%d", d), "sub")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range 9 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("file%d.txt", f)), bytes.Repeat([]byte("text\n"), 50*f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	img, _ := descriptorImage(t, 24<<20, "-t", "ext4", "-b", "1024", "-N", "2048", "-I", "256", "-O", "metadata_csum", "-d", dir)
	p := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(p, img, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dumpe2fs", p).Output()
	if err != nil {
		t.Fatalf("dumpe2fs: %v", err)
	}
	var tables [][2]uint64
	for _, m := range regexp.MustCompile(`Inode table at (\d+)-(\d+)`).FindAllStringSubmatch(string(out), -1) {
		first, _ := strconv.ParseUint(m[1], 10, 64)
		last, _ := strconv.ParseUint(m[2], 10, 64)
		tables = append(tables, [2]uint64{first, last})
	}
	return img, tables
}

// TestProbeInodes: on an ext4 the real mke2fs populated, every block of
// an inode table holding two or more inodes with a full checksum proves which inodes it
// holds (the ones dumpe2fs places there), InodeTables reads the tables
// where dumpe2fs lists them, and no other block proves anything.
func TestProbeInodes(t *testing.T) {
	img, tables := populatedImage(t)
	sb, err := ReadSuperblock(bytes.NewReader(img), PrimaryOffset)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != int(sb.GroupCount()) {
		t.Fatalf("dumpe2fs lists %d inode tables for %d groups", len(tables), sb.GroupCount())
	}
	bs, isz := uint64(sb.BlockSize()), uint64(sb.InodeSize)
	gdt, _, _ := sb.DescriptorTable(0)
	for g, it := range sb.InodeTables(img[gdt:gdt+int64(bs)], 0) {
		if it != tables[g][0] {
			t.Errorf("group %d: inode table at block %d, dumpe2fs says %d", g, it, tables[g][0])
		}
	}
	x, ok := sb.InodeNumbers()
	if !ok {
		t.Fatal("an ext4 with metadata_csum and 256-byte inodes: no inode prober")
	}
	want := map[uint64]uint32{} // block -> its first inode
	for g, tb := range tables {
		for b := tb[0]; b <= tb[1]; b++ {
			want[b] = uint32(g)*sb.InodesPerGroup + uint32((b-tb[0])*bs/isz) + 1
		}
	}
	found, twoUsed := 0, 0
	for b := uint64(0); b < uint64(len(img))/bs; b++ {
		block := img[b*bs : (b+1)*bs]
		used := 0
		for k := uint64(0); k < bs/isz; k++ {
			if binary.LittleEndian.Uint16(block[k*isz+0x80:]) >= 4 { // a full checksum
				used++
			}
		}
		slots, n, ok := x.Probe(block)
		w, table := want[b]
		switch {
		case ok && (!table || n != w+uint32(slots[0]) || len(slots) < 2):
			t.Errorf("block %d: slots %v taken for inodes from %d (table block: %v, from inode %d)", b, slots, n, table, w)
		case ok:
			found++
		case table && used >= 2:
			t.Errorf("inode table block %d (inodes from %d, %d with a full checksum) not recognised", b, w, used)
		}
		if table && used >= 2 {
			twoUsed++
		}
	}
	if twoUsed < 5 || found < twoUsed {
		t.Errorf("%d inode table blocks recognised, %d hold two inodes or more", found, twoUsed)
	}
	// Bytes from any inode boundary prove the same numbers.
	for b, w := range want {
		if slots, n, ok := x.Probe(img[b*bs+isz : (b+2)*bs]); ok && n != w+1+uint32(slots[0]) {
			t.Errorf("block %d from its second inode: slot %d is inode %d, want %d", b, slots[0], n, w+1+uint32(slots[0]))
		}
	}
}

// FuzzProbeInodes: any bytes give inode numbers in range or nothing.
func FuzzProbeInodes(f *testing.F) {
	img, tables := populatedImage(f)
	sb, err := ReadSuperblock(bytes.NewReader(img), PrimaryOffset)
	if err != nil {
		f.Fatal(err)
	}
	x, _ := sb.InodeNumbers()
	bs := uint64(sb.BlockSize())
	f.Add(img[tables[0][0]*bs : (tables[0][0]+1)*bs])
	f.Fuzz(func(t *testing.T, b []byte) {
		slots, n, ok := x.Probe(b)
		if ok && (n == 0 || uint64(n)+uint64(slots[len(slots)-1]-slots[0]) > uint64(sb.InodesCount) || (slots[len(slots)-1]+1)*int(sb.InodeSize) > len(b)) {
			t.Fatalf("slots %v: inodes from %d in %d bytes of a %d-inode filesystem", slots, n, len(b), sb.InodesCount)
		}
	})
}
