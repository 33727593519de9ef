package ext

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// descriptorImage makes a filesystem with the real mke2fs and returns its
// bytes and the descriptor block ranges dumpe2fs lists for it.
func descriptorImage(t testing.TB, size int64, args ...string) ([]byte, [][2]uint64) {
	t.Helper()
	for _, tool := range []string{"mke2fs", "dumpe2fs"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	p := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mke2fs", append(append([]string{"-F", "-q"}, args...), p)...).CombinedOutput(); err != nil {
		t.Fatalf("mke2fs %v: %v\n%s", args, err, out)
	}
	out, err := exec.Command("dumpe2fs", p).Output()
	if err != nil {
		t.Fatalf("dumpe2fs: %v", err)
	}
	var tables [][2]uint64
	for _, m := range regexp.MustCompile(`superblock at \d+, Group descriptors? at (\d+)(?:-(\d+))?`).FindAllStringSubmatch(string(out), -1) {
		first, _ := strconv.ParseUint(m[1], 10, 64)
		last := first
		if m[2] != "" {
			last, _ = strconv.ParseUint(m[2], 10, 64)
		}
		tables = append(tables, [2]uint64{first, last})
	}
	img, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return img, tables
}

// TestProbeDescriptorBlock: every block dumpe2fs lists as a group
// descriptor block, in the primary table and every backup, proves to be
// that block of the table (checksums and flex_bg on ext4, bitmap places
// alone on ext3); DescriptorTable puts each table where dumpe2fs does; no
// other block of the image is taken for one.
func TestProbeDescriptorBlock(t *testing.T) {
	for _, c := range []struct {
		name string
		size int64
		args []string
	}{
		{"ext4", 80 << 20, []string{"-t", "ext4", "-b", "4096", "-g", "256", "-N", "1024", "-O", "^meta_bg,^resize_inode"}},
		{"ext3", 20 << 20, []string{"-t", "ext3", "-b", "1024", "-g", "256", "-N", "1024", "-O", "^meta_bg,^resize_inode"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, tables := descriptorImage(t, c.size, c.args...)
			sb, err := ReadSuperblock(bytes.NewReader(img), PrimaryOffset)
			if err != nil {
				t.Fatal(err)
			}
			bs := uint64(sb.BlockSize())
			if len(tables) < 2 || tables[0][1] == tables[0][0] {
				t.Fatalf("want a multi-block table and a backup, dumpe2fs lists %v", tables)
			}
			isTable := map[uint64]uint64{}
			for _, tb := range tables {
				g := uint32((tb[0] - 1 - uint64(sb.FirstDataBlock)) / uint64(sb.BlocksPerGroup))
				at, blocks, ok := sb.DescriptorTable(g)
				if !ok || uint64(at) != tb[0]*bs || blocks != tb[1]-tb[0]+1 {
					t.Errorf("group %d: DescriptorTable %d, %d blocks, %v; dumpe2fs: blocks %d-%d", g, at, blocks, ok, tb[0], tb[1])
				}
				for b := tb[0]; b <= tb[1]; b++ {
					isTable[b] = b - tb[0]
				}
			}
			found := 0
			for b := uint64(0); b < uint64(len(img))/bs; b++ {
				j, ok := sb.ProbeDescriptorBlock(img[b*bs : (b+1)*bs])
				want, table := isTable[b]
				switch {
				case ok && (!table || j != want):
					t.Errorf("block %d taken for descriptor block %d", b, j)
				case !ok && table:
					t.Errorf("descriptor block %d (block %d of its table) not recognised", b, want)
				case ok:
					found++
				}
			}
			if found != len(isTable) {
				t.Errorf("%d descriptor blocks recognised, dumpe2fs lists %d", found, len(isTable))
			}
		})
	}
}

// FuzzProbeDescriptorBlock: any bytes give an answer within the table.
func FuzzProbeDescriptorBlock(f *testing.F) {
	img, tables := descriptorImage(f, 80<<20, "-t", "ext4", "-b", "4096", "-g", "256", "-N", "1024", "-O", "^meta_bg,^resize_inode")
	sb, err := ReadSuperblock(bytes.NewReader(img), PrimaryOffset)
	if err != nil {
		f.Fatal(err)
	}
	bs := uint64(sb.BlockSize())
	f.Add(img[tables[0][0]*bs : (tables[0][0]+1)*bs])
	_, blocks, _ := sb.DescriptorTable(0)
	f.Fuzz(func(t *testing.T, b []byte) {
		if j, ok := sb.ProbeDescriptorBlock(b); ok && j >= blocks {
			t.Fatalf("block %d of a %d-block table", j, blocks)
		}
	})
}
