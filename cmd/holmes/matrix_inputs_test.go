package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"holmes/internal/fixture"
	"holmes/lvmmeta"
)

// matrixInputs makes every input of the matrix in a temporary directory.
func matrixInputs(t *testing.T) []matrixInput {
	t.Helper()
	dir := t.TempDir()
	var out []matrixInput
	add := func(name, path string) { out = append(out, matrixInput{name: name, path: path, kind: "disk"}) }
	variant := func(base, name string, change func(b []byte) []byte) string {
		b, err := os.ReadFile(base)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, strings.NewReplacer(" ", "-", "/", "_").Replace(name)+".img")
		if err := os.WriteFile(p, change(b), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	debugfs := func(img string, cmds ...string) {
		c := exec.Command("debugfs", "-w", "-f", "-", img)
		c.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
		if o, err := c.CombinedOutput(); err != nil {
			t.Fatalf("debugfs: %v %s", err, o)
		}
	}

	// Every small ext image truncated at each metadata boundary of its
	// group 0 and with each of those structures zeroed.
	for _, kind := range []string{"ext4", "ext2", "inline"} {
		base := fixture.SmallExt(t, kind)
		bs, ranges := metadataRanges(t, base)
		cuts := map[int64]bool{}
		for _, r := range ranges {
			lo, hi := r[0]*bs, (r[1]+1)*bs
			for _, cut := range []int64{lo, hi} {
				if cuts[cut] {
					continue
				}
				cuts[cut] = true
				add(fmt.Sprintf("%s truncated at %d", kind, cut), variant(base, fmt.Sprintf("%s-cut-%d", kind, cut), func(b []byte) []byte { return b[:min(cut, int64(len(b)))] }))
			}
			add(fmt.Sprintf("%s zeroed %d-%d", kind, lo, hi), variant(base, fmt.Sprintf("%s-zero-%d", kind, lo), func(b []byte) []byte {
				clear(b[lo:min(hi, int64(len(b)))])
				return b
			}))
		}
	}

	// Cycles.
	ext4 := fixture.SmallExt(t, "ext4")
	loop := variant(ext4, "dirloop", func(b []byte) []byte { return b })
	debugfs(loop, "link /dir /dir/loop", "link / /dir/up")
	add("ext4 directory loop", loop)
	add("ext4 self-referencing extent index", selfReferencingExtent(t, variant(ext4, "selfref", func(b []byte) []byte { return b })))
	add("MBR with an EBR loop", fixture.Unpack(t, fixture.Repo(t, "testdata/blockdev/mbr-ebr-loop.img.xz")))
	out = append(out, lvSelfReference(t, dir))

	// Huge counts and sizes.
	bigdir := variant(ext4, "bigdir", func(b []byte) []byte { return b })
	debugfs(bigdir, "sif /dir size 2147482624", "sif /many size 2147482624")
	add("ext4 directories claiming 2 GiB", bigdir)
	bigfile := variant(ext4, "bigfile", func(b []byte) []byte { return b })
	debugfs(bigfile, "sif /big size 0x200000000000", "sif /dir/small size 0x8000000000000005")
	add("ext4 files of impossible size", bigfile)
	inline := variant(fixture.SmallExt(t, "inline"), "inline16g", func(b []byte) []byte { return b })
	debugfs(inline, "sif /dir/small size 0x400000000")
	add("inline file claiming 16 GiB", inline)
	out = append(out, matrixInput{name: "ext group count 2^32", path: groupCountImage(t, dir), kind: "disk", huge: true})
	add("64 superblock copies, 8 blocks per group", superblockCopies(t, dir))
	add("1000 unclosed VG heads and 17 MB of filler", carveBomb(t, dir))
	deep := filepath.Join(dir, "deep.img")
	if o, err := exec.Command("mke2fs", "-q", "-F", "-t", "ext4", "-N", "4096", "-b", "1024", deep, "32M").CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v %s", err, o)
	}
	debugfs(deep, strings.Split(strings.Repeat("mkdir d\ncd d\n", 3000), "\n")...)
	add("3000 nested directories", deep)
	for i, j := range []string{
		`{"smartctl": {"exit_status": -3}, "device": {"protocol": "ATA"}}`,
		`{"smartctl": {"exit_status": 0}, "device": {"protocol": "ATA"}, "power_on_time": {"hours": -5}}`,
	} {
		p := filepath.Join(dir, fmt.Sprintf("smart%d.json", i))
		os.WriteFile(p, []byte(j), 0o644)
		out = append(out, matrixInput{name: "SMART JSON with negative numbers", path: p, kind: "smart"})
	}
	return out
}

var dumpe2fsAt = regexp.MustCompile(`(superblock|descriptors|GDT blocks|bitmap|Inode table) at (\d+)(?:-(\d+))?`)

// metadataRanges returns the block size and the block ranges of group 0's
// metadata as dumpe2fs lists them.
func metadataRanges(t *testing.T, img string) (int64, [][2]int64) {
	t.Helper()
	o, err := exec.Command("dumpe2fs", img).Output()
	if err != nil {
		t.Skipf("dumpe2fs: %v", err)
	}
	text := string(o)
	bs := int64(1024)
	if m := regexp.MustCompile(`Block size:\s+(\d+)`).FindStringSubmatch(text); m != nil {
		bs, _ = strconv.ParseInt(m[1], 10, 64)
	}
	group0, _, _ := strings.Cut(text[strings.Index(text, "Group 0:"):], "Group 1:")
	var ranges [][2]int64
	for _, m := range dumpe2fsAt.FindAllStringSubmatch(group0, -1) {
		lo, _ := strconv.ParseInt(m[2], 10, 64)
		hi := lo
		if m[3] != "" {
			hi, _ = strconv.ParseInt(m[3], 10, 64)
		}
		ranges = append(ranges, [2]int64{lo, hi})
	}
	return bs, ranges
}

// selfReferencingExtent makes /big's extent tree two levels deep, the
// index block pointing at itself.
func selfReferencingExtent(t *testing.T, img string) string {
	t.Helper()
	o, err := exec.Command("debugfs", "-R", "bmap /big 0", img).Output()
	if err != nil {
		t.Fatal(err)
	}
	blk, err := strconv.ParseUint(strings.TrimSpace(string(o)), 10, 32)
	if err != nil {
		t.Fatalf("bmap: %q", o)
	}
	c := exec.Command("debugfs", "-w", "-f", "-", img)
	// i_block: header (magic, 1 entry, max 4, depth 2), then an index entry
	// for logical 0 pointing at blk.
	c.Stdin = strings.NewReader(fmt.Sprintf("sif /big block[0] 0x0001F30A\nsif /big block[1] 0x00020004\nsif /big block[3] 0\nsif /big block[4] %d\nsif /big block[5] 0\n", blk))
	if o, err := c.CombinedOutput(); err != nil {
		t.Fatalf("debugfs: %v %s", err, o)
	}
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	node := make([]byte, 24) // depth 1, one index entry pointing at itself
	le := binary.LittleEndian
	le.PutUint16(node[0:], 0xF30A)
	le.PutUint16(node[2:], 1)
	le.PutUint16(node[4:], 84)
	le.PutUint16(node[6:], 1)
	le.PutUint32(node[16:], uint32(blk))
	if _, err := f.WriteAt(node, int64(blk)*1024); err != nil {
		t.Fatal(err)
	}
	return img
}

// lvSelfReference is a case file whose VG's PVs are its own LV.
func lvSelfReference(t *testing.T, dir string) matrixInput {
	t.Helper()
	text, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/backup-guests.vg"))
	if err != nil {
		t.Fatal(err)
	}
	vg, err := lvmmeta.ParseText(text)
	if err != nil {
		t.Fatal(err)
	}
	lv := vg.Name + "/" + vg.LVs[0].Name
	pvs := map[string]string{}
	for _, pv := range vg.PVs {
		pvs[pv.Name] = lv
	}
	os.WriteFile(filepath.Join(dir, "vg.txt"), text, 0o644)
	c := map[string]any{"volume_groups": []any{map[string]any{"metadata": "vg.txt", "pvs": pvs}}}
	p := filepath.Join(dir, "case.json")
	b, _ := json.Marshal(c)
	os.WriteFile(p, b, 0o644)
	return matrixInput{name: "LV segments on the LV itself", path: p, kind: "case", dev: lv}
}

// groupCountImage is a 128 GiB sparse file whose superblock says 2^32-1
// groups of one block.
func groupCountImage(t *testing.T, dir string) string {
	t.Helper()
	head, err := os.ReadFile(fixture.SmallExt(t, "ext2"))
	if err != nil {
		t.Fatal(err)
	}
	head = head[:4096]
	le := binary.LittleEndian
	le.PutUint32(head[1024+0x04:], 1<<32-1)
	le.PutUint32(head[1024+0x20:], 1)
	return sparseFile(t, filepath.Join(dir, "groups.img"), 128<<30, map[int64][]byte{0: head})
}

// superblockCopies is a 1 GiB sparse file with 64 primaries of a
// filesystem of 8 blocks per group without sparse_super, one per MiB.
func superblockCopies(t *testing.T, dir string) string {
	t.Helper()
	img, err := os.ReadFile(fixture.SmallExt(t, "ext2"))
	if err != nil {
		t.Fatal(err)
	}
	sb := append([]byte(nil), img[1024:2048]...)
	le := binary.LittleEndian
	le.PutUint32(sb[0x04:], 1<<20)
	le.PutUint32(sb[0x20:], 8)
	le.PutUint32(sb[0x64:], le.Uint32(sb[0x64:])&^1) // no sparse_super
	at := map[int64][]byte{}
	for i := range int64(64) {
		at[i<<20+1024] = sb
	}
	return sparseFile(t, filepath.Join(dir, "copies.img"), 1<<30, at)
}

// carveBomb is 1000 VG heads that never close, then 17 MB of filler.
func carveBomb(t *testing.T, dir string) string {
	t.Helper()
	var b bytes.Buffer
	for i := range 1000 {
		fmt.Fprintf(&b, "vg%d {\nid = \"%06d-aaaa-bbbb-cccc-dddd-eeee-ffffff\"\nseqno = %d\n", i, i, i)
	}
	b.Write(bytes.Repeat([]byte("filler = 1\n"), 17<<20/11))
	p := filepath.Join(dir, "carve.img")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sparseFile(t *testing.T, p string, size int64, at map[int64][]byte) string {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Skipf("sparse file of %d bytes: %v", size, err)
	}
	for off, b := range at {
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	return p
}
