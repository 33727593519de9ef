package ext

import (
	"math/rand/v2"
	"os"
	"os/exec"
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
