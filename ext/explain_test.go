package ext

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// Explain agrees with debugfs on the lab images: for a sample of blocks
// (the first 3000 and 500 at random), every block icheck gives to an inode
// is one Explain gives to that inode (its data, its map or its xattr
// block; the resize inode's reserved GDT blocks by name), every block
// icheck finds no owner for has no inode in Explain, and each path Explain
// names is one ncheck gives the inode.
func TestExplainMatchesDebugfs(t *testing.T) {
	if _, err := exec.LookPath("debugfs"); err != nil {
		t.Skip("debugfs not installed")
	}
	for _, name := range cleanImages {
		if fixture.LeftOutOfShort(name, "ext4", "ext3-1k") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			fs, img := openImage(t, name)
			var blocks []uint64
			for b := uint64(0); b < min(3000, fs.SB.BlocksCount); b++ {
				blocks = append(blocks, b)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for range 500 {
				blocks = append(blocks, rng.Uint64N(fs.SB.BlocksCount))
			}
			regions := make([]Region, len(blocks))
			for i, b := range blocks {
				regions[i] = Region{int64(b) * fs.bs, fs.bs}
			}
			uses, err := fs.Explain(regions)
			if err != nil {
				t.Fatal(err)
			}
			owners := icheck(t, img, blocks)
			paths := map[uint32][]string{}
			for i, b := range blocks {
				var inodes []uint32
				reservedGDT := false
				for _, u := range uses[i] {
					if u.Inode != 0 {
						inodes = append(inodes, u.Inode)
						paths[u.Inode] = append(paths[u.Inode], u.Path)
					}
					reservedGDT = reservedGDT || strings.HasPrefix(u.What, "reserved GDT blocks")
				}
				want := owners[b]
				switch {
				case want == 0 && len(inodes) > 0:
					t.Errorf("block %d: debugfs finds no owner, Explain says %+v", b, uses[i])
				case want == 7 && reservedGDT, want == 0:
				case !slices.Contains(inodes, want):
					t.Errorf("block %d: debugfs says inode %d, Explain %+v", b, want, uses[i])
				}
			}
			for n, ps := range paths {
				if n < fs.SB.FirstIno {
					continue // the root has no name to check; the journal and friends no path
				}
				names := ncheck(t, img, n)
				slices.Sort(ps)
				for _, p := range slices.Compact(ps) {
					if !slices.Contains(names, p) {
						t.Errorf("inode %d: Explain names it %s, debugfs ncheck %v", n, p, names)
					}
				}
			}
		})
	}
}

// debugfs runs one request on img.
func debugfs(t *testing.T, img, request string) string {
	t.Helper()
	cmd := exec.Command("debugfs", "-R", request, img)
	cmd.Env = append(os.Environ(), "DEBUGFS_PAGER=__none__", "PAGER=cat")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("debugfs %s: %v", request, err)
	}
	return string(out)
}

// icheck asks debugfs which inode owns each block (0: none).
func icheck(t *testing.T, img string, blocks []uint64) map[uint64]uint32 {
	owners := map[uint64]uint32{}
	for start := 0; start < len(blocks); start += 1000 {
		args := []string{"icheck"}
		for _, b := range blocks[start:min(start+1000, len(blocks))] {
			args = append(args, strconv.FormatUint(b, 10))
		}
		for _, line := range strings.Split(debugfs(t, img, strings.Join(args, " ")), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) != 2 {
				continue
			}
			b, err1 := strconv.ParseUint(f[0], 10, 64)
			n, err2 := strconv.ParseUint(f[1], 10, 32)
			if err1 == nil && err2 == nil {
				owners[b] = uint32(n)
			}
		}
	}
	return owners
}

// ncheck asks debugfs for every path of inode n.
func ncheck(t *testing.T, img string, n uint32) []string {
	var paths []string
	for _, line := range strings.Split(debugfs(t, img, "ncheck "+strconv.FormatUint(uint64(n), 10)), "\n")[1:] {
		if _, p, ok := strings.Cut(line, "\t"); ok {
			// debugfs writes the root's children as //name.
			paths = append(paths, strings.Replace(strings.TrimSpace(p), "//", "/", 1))
		}
	}
	return paths
}

// Explain names every group's metadata where dumpe2fs places it: the
// superblock copies, descriptor blocks (meta_bg too), reserved GDT
// blocks, bitmaps and inode tables (flex_bg puts those of a group in
// another group's blocks); the first and last block of each.
func TestExplainMatchesDumpe2fs(t *testing.T) {
	if _, err := exec.LookPath("dumpe2fs"); err != nil {
		t.Skip("dumpe2fs not installed")
	}
	group := regexp.MustCompile(`^Group (\d+):`)
	structure := regexp.MustCompile(`(Primary superblock|Backup superblock|Group descriptors?|Reserved GDT blocks|Block bitmap|Inode bitmap|Inode table) at (\d+)(?:-(\d+))?`)
	for _, name := range cleanImages {
		if fixture.LeftOutOfShort(name, "ext4", "ext3-1k", "ext4-metabg") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			fs, img := openImage(t, name)
			out, err := exec.Command("dumpe2fs", img).Output()
			if err != nil {
				t.Fatalf("dumpe2fs: %v", err)
			}
			type want struct {
				block uint64
				what  string
			}
			var wants []want
			g := -1
			for _, line := range strings.Split(string(out), "\n") {
				if m := group.FindStringSubmatch(line); m != nil {
					g, _ = strconv.Atoi(m[1])
					continue
				}
				if g < 0 {
					continue
				}
				for _, m := range structure.FindAllStringSubmatch(line, -1) {
					first, _ := strconv.ParseUint(m[2], 10, 64)
					last := first
					if m[3] != "" {
						last, _ = strconv.ParseUint(m[3], 10, 64)
					}
					what := map[string]string{
						"Primary superblock": "superblock (group %d)", "Backup superblock": "superblock (group %d)",
						"Group descriptors": "group descriptors (group %d)", "Group descriptor": "group descriptors (group %d)",
						"Reserved GDT blocks": "reserved GDT blocks (group %d)", "Block bitmap": "block bitmap of group %d",
						"Inode bitmap": "inode bitmap of group %d", "Inode table": "inode table of group %d"}[m[1]]
					wants = append(wants, want{first, fmt.Sprintf(what, g)}, want{last, fmt.Sprintf(what, g)})
				}
			}
			if len(wants) == 0 {
				t.Fatal("dumpe2fs listed no structures")
			}
			regions := make([]Region, len(wants))
			for i, w := range wants {
				regions[i] = Region{int64(w.block)*fs.bs + fs.bs - 1, 1} // the block's last byte: on 4 KiB blocks, block 0 is more than the superblock
			}
			uses, err := fs.Explain(regions)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range wants {
				found := false
				for _, u := range uses[i] {
					found = found || u.What == w.what
				}
				if !found {
					t.Errorf("block %d: dumpe2fs says %s, Explain %+v", w.block, w.what, uses[i])
				}
			}
		})
	}
}
