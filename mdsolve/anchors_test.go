package mdsolve

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/mdraid"
)

// mkfs makes a filesystem image of size bytes with the real mke2fs.
func mkfs(t *testing.T, size int64, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("mke2fs"); err != nil {
		t.Skip("mke2fs not installed")
	}
	p := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("mke2fs", append(append([]string{"-F", "-q"}, args...), p)...)
	cmd.Env = append(os.Environ(), "MKE2FS_CONFIG=/etc/mke2fs.conf", "E2FSPROGS_FAKE_TIME=1700000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mke2fs %v: %v\n%s", args, err, out)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// layOver writes img as the array g would hold it, parity included, onto
// member images in a temporary directory: role r goes to device perm[r].
func layOver(t *testing.T, g mdraid.Geometry, img []byte, perm []int) []blockdev.Device {
	t.Helper()
	n := g.RaidDisks
	size := g.DataOffset + g.DataSize
	probe := make([]blockdev.Device, n)
	for i := range probe {
		probe[i] = blank(t, size)
	}
	arr, err := mdraid.Open(g, probe, "layout")
	if err != nil {
		t.Fatal(err)
	}
	areas := make([][]byte, n)
	var parity [][2]int64 // role, area offset+length packed below
	var parityLen []int64
	for r := range n {
		areas[r] = make([]byte, g.DataSize)
		for _, run := range arr.MemberRuns(r, 0, g.DataSize, 1<<30) {
			switch {
			case run.Parity == "P":
				parity = append(parity, [2]int64{int64(r), run.AreaOffset})
				parityLen = append(parityLen, run.Length)
			case run.ArrayOffset >= 0 && run.ArrayOffset < int64(len(img)):
				copy(areas[r][run.AreaOffset:run.AreaOffset+run.Length], img[run.ArrayOffset:])
			}
		}
	}
	for i, p := range parity { // raid5: P is the XOR of the stripe's other chunks
		r, off := int(p[0]), p[1]
		for o := range n {
			if o != r {
				for k := off; k < off+parityLen[i]; k++ {
					areas[r][k] ^= areas[o][k]
				}
			}
		}
	}
	devs := make([]blockdev.Device, n)
	dir := t.TempDir()
	for r := range n {
		p := filepath.Join(dir, "member"+string(rune('a'+perm[r]))+".img")
		member := make([]byte, size)
		copy(member[g.DataOffset:], areas[r])
		if err := os.WriteFile(p, member, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := blockdev.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		devs[perm[r]] = d
	}
	return devs
}

// TestDescriptorTableAnchors: an ext4 with its only superblock at the
// array's start (sparse_super2, no backups) on a 4-member raid5 with 4 KiB
// chunks. The superblock places the member of the first chunk only; the
// descriptor table's blocks, in the next chunks, place the other data
// members of that stripe, and with them the parity's: the anchors alone
// give the order.
func TestDescriptorTableAnchors(t *testing.T) {
	img := mkfs(t, 80<<20, "-t", "ext4", "-b", "4096", "-g", "256", "-N", "1024",
		"-O", "sparse_super2,^meta_bg,^resize_inode", "-E", "num_backup_sb=0,lazy_itable_init=1,nodiscard")
	g, err := mdraid.Geometry{Level: "raid5", Layout: "left-symmetric", ChunkBytes: 4096, RaidDisks: 4,
		DataOffset: 1 << 20, DataSize: 28 << 20}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	perm := []int{2, 0, 3, 1}
	devs := layOver(t, g, img, perm)
	scan, err := scanMembers(devs, 256<<20)
	if err != nil {
		t.Fatal(err)
	}
	var tables int
	for _, a := range scan.anchors {
		if strings.HasPrefix(a.what, "ext group descriptor") {
			tables++
		}
	}
	if tables < 2 {
		t.Fatalf("want the descriptor table's 2 blocks as anchors, got %d: %+v", tables, scan.anchors)
	}
	orders := func(scan *memberScan) [][]int {
		s := &solver{devs: devs, scan: scan}
		return assignmentsWithin(s.fitAnchors(g).w, 4, 24, 0)
	}
	if got := orders(scan); len(got) != 1 || !slices.Equal(got[0], perm) {
		t.Errorf("with the descriptor table: orders %v, want only %v", got, perm)
	}
	old := *scan
	old.anchors = slices.DeleteFunc(slices.Clone(scan.anchors), func(a anchor) bool { return strings.HasPrefix(a.what, "ext group descriptor") })
	if got := orders(&old); len(got) < 2 {
		t.Errorf("without the descriptor table the anchors already decide (%v): the test shows nothing", got)
	}
	wantSolved(t, devs, g, perm)
}

// wantSolved: Solve decides g with role r on devs[perm[r]].
func wantSolved(t *testing.T, devs []blockdev.Device, g mdraid.Geometry, perm []int) {
	t.Helper()
	res, err := Solve(devs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(perm))
	for r, d := range perm {
		want[r] = devs[d].Name()
	}
	if res.Ambiguous || res.Level != g.Level || res.Layout != g.Layout || res.ChunkBytes != g.ChunkBytes ||
		res.DataOffset != g.DataOffset || !slices.Equal(res.Order, want) {
		t.Errorf("solve: %s %s chunk %d offset %d order %v ambiguous %v %q, want %v", res.Level, res.Layout, res.ChunkBytes, res.DataOffset, res.Order, res.Ambiguous, res.Why, want)
	}
}

// TestGPTAnchors: a GPT disk image (made by the real sfdisk, partitions
// filled with data) held directly by a 4-member raid5. The protective MBR
// places nothing; the GPT header (sector 1) and its backup (the array's
// last sector, found in the members' tails past the scanned window) each
// place a member, which the old anchors could not.
func TestGPTAnchors(t *testing.T) {
	if _, err := exec.LookPath("sfdisk"); err != nil {
		t.Skip("sfdisk not installed")
	}
	g, err := mdraid.Geometry{Level: "raid5", Layout: "left-asymmetric", ChunkBytes: 64 << 10, RaidDisks: 4,
		DataOffset: 1 << 20, DataSize: 8 << 20}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(p, make([]byte, 3*g.DataSize), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sfdisk", "-q", "--no-reread", "--no-tell-kernel", p)
	cmd.Stdin = strings.NewReader("label: gpt\nfirst-lba: 34\nstart=34, size=20000\nstart=20034\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	img, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 34 * 512; i < len(img)-34*512; i++ { // the partitions' data
		img[i] = byte(rng.Uint32())
	}
	perm := []int{1, 3, 0, 2}
	devs := layOver(t, g, img, perm)
	scan, err := scanMembers(devs, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	isGPT := func(a anchor) bool { return strings.HasPrefix(a.what, "GPT") }
	var found []string
	for _, a := range scan.anchors {
		if isGPT(a) {
			found = append(found, a.what)
		}
	}
	if !slices.Contains(found, "GPT header") || !slices.Contains(found, "GPT backup header") {
		t.Fatalf("want both GPT headers as anchors, got %q", found)
	}
	orders := func(scan *memberScan) [][]int {
		s := &solver{devs: devs, scan: scan}
		return assignmentsWithin(s.fitAnchors(g).w, 4, 24, 0)
	}
	withGPT := orders(scan)
	old := *scan
	old.anchors = slices.DeleteFunc(slices.Clone(scan.anchors), isGPT)
	without := orders(&old)
	t.Logf("orders the anchors allow: %d with the GPT headers, %d without", len(withGPT), len(without))
	if !slices.ContainsFunc(withGPT, func(o []int) bool { return slices.Equal(o, perm) }) || len(withGPT) >= len(without) {
		t.Errorf("orders with the GPT headers %v (want %v among fewer than the %d without)", withGPT, perm, len(without))
	}
}

// TestInodeTableAnchors: an ext4 (metadata_csum, 1 KiB blocks) that the
// real mke2fs filled with a tree of files, its only superblock at the
// array's start (sparse_super2, no backups), on a 5-member raid5 with
// 4 KiB chunks. The superblock and the descriptor table lie in the first
// chunk and place one member; the inode tables, whose inodes' checksums
// name their numbers, lie in the chunks after and place the others.
func TestInodeTableAnchors(t *testing.T) {
	tree := t.TempDir()
	for d := range 4 {
		sub := filepath.Join(tree, "dir"+string(rune('a'+d)))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range 30 {
			if err := os.WriteFile(filepath.Join(sub, "file"+string(rune('a'+f))), []byte(strings.Repeat("line of text\n", f+1)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	img := mkfs(t, 24<<20, "-t", "ext4", "-b", "1024", "-N", "2048", "-I", "256", "-O", "metadata_csum,sparse_super2,^resize_inode",
		"-E", "num_backup_sb=0,nodiscard", "-d", tree)
	g, err := mdraid.Geometry{Level: "raid5", Layout: "left-symmetric", ChunkBytes: 4096, RaidDisks: 5,
		DataOffset: 1 << 20, DataSize: 7 << 20}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	perm := []int{3, 0, 4, 1, 2}
	devs := layOver(t, g, img, perm)
	scan, err := scanMembers(devs, 256<<20)
	if err != nil {
		t.Fatal(err)
	}
	var inodes int
	for _, a := range scan.anchors {
		if isInodeAnchor(a) {
			inodes++
		}
		t.Logf("anchor %s on %v at %d", a.what, a.holders, a.offset)
	}
	if inodes < 4 {
		t.Fatalf("want inode-table anchors, got %d", inodes)
	}
	orders := func(scan *memberScan) [][]int {
		s := &solver{devs: devs, scan: scan}
		return assignmentsWithin(s.fitAnchors(g).w, 5, 200, 0)
	}
	if got := orders(scan); len(got) != 1 || !slices.Equal(got[0], perm) {
		t.Errorf("with the inode tables: orders %v, want only %v", got, perm)
	}
	old := *scan
	old.anchors = slices.DeleteFunc(slices.Clone(scan.anchors), isInodeAnchor)
	if got := orders(&old); len(got) < 2 {
		t.Errorf("without the inode tables the anchors already decide (%v): the test shows nothing", got)
	} else {
		t.Logf("without the inode tables the anchors allow %d orders", len(got))
	}
	wantSolved(t, devs, g, perm)
}

// TestInodeAnchorsOnTheMatrix: on matrix rows with ext4 (an LVM with an
// ext4 LV; a bare ext4, 8 members, 8K chunks), filled and unmounted by the
// real kernel, so their journals hold copies of inode-table blocks: the
// copies of one block share one anchor's weight, and under the original
// geometry no inode anchor sits where it would place a member against the
// original order (the member holding a stripe's parity, equal to the data
// only around some inodes, is the same anchor's second holder, not a rival).
func TestInodeAnchorsOnTheMatrix(t *testing.T) {
	for _, f := range fixturesOfKind(t, "solve-matrix") {
		if f.Name != "mx-r5la-4-4k-12-zeroed" && f.Name != "mx-r5ra-8-8k-090-zeroed" {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			devs, byPath := openDisks(t, f.Disks)
			scan, err := scanMembers(devs, 256<<20)
			if err != nil {
				t.Fatal(err)
			}
			idx := map[string]int{}
			for i, d := range devs {
				idx[byPath[d.Name()]] = i
			}
			truth := make([]int, len(f.Original.Order))
			for r, p := range f.Original.Order {
				truth[r] = idx[*p]
			}
			g, err := mdraid.Geometry{Level: f.Original.Level, Layout: f.Original.Layout, ChunkBytes: f.Original.ChunkBytes, RaidDisks: len(truth),
				DataOffset: f.Original.DataOffset, DataSize: devs[0].Size() - f.Original.DataOffset}.Normalize()
			if err != nil {
				t.Fatal(err)
			}
			inodes, copies := 0, 0
			for _, a := range scan.anchors {
				if isInodeAnchor(a) {
					inodes++
					if a.share <= 0 || a.share > 1 {
						t.Errorf("%s weighs %v", a.what, a.share)
					}
					if a.share < 1 {
						copies++
					}
				}
			}
			s := &solver{devs: devs, scan: scan}
			fit := s.fitAnchors(g)
			placed := 0
			for _, p := range fit.placed {
				if !slices.Contains(p.holders, truth[p.role]) {
					t.Errorf("%s on %v placed against the original order (role %d is %d)", p.what, p.holders, p.role, truth[p.role])
				}
				if strings.HasPrefix(p.what, inodeTableAnchor) {
					placed++
				}
			}
			t.Logf("%d inode anchors (%d of blocks found in several places), %d sit where the original geometry puts them", inodes, copies, placed)
			if placed < 3 || copies == 0 {
				t.Errorf("want inode anchors placed by the original geometry and journal copies among them")
			}
		})
	}
}
