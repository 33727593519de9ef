package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// The ddrescue lab (testdata/ddrescue, docs/labs.md): the members of an md
// raid1 (md1: r1-0, r1-1) and an md raid5 (md5: r5-0..2) imaged by real
// ddrescue from failing disks, in two sets: diff (members fail in their own
// ranges) and overlap (members fail over the same file bytes).

var ddrescueArrays = map[string][]string{"md1": {"r1-0", "r1-1"}, "md5": {"r5-0", "r5-1", "r5-2"}}

// ddrescueMembers unpacks the members of array md of set and returns their
// images and the --map flags giving each its mapfile.
func ddrescueMembers(t *testing.T, set, md string) (images, maps []string) {
	t.Helper()
	for _, m := range ddrescueArrays[md] {
		img := fixture.Unpack(t, fixture.Repo(t, filepath.Join("testdata/ddrescue", set, m+".img.xz")))
		images = append(images, img)
		maps = append(maps, "--map", img+"="+fixture.Repo(t, filepath.Join("testdata/ddrescue", set, m+".map")))
	}
	return images, maps
}

// ddrescueSums reads a record file of "SHA256  NAME" lines, by name.
func ddrescueSums(t *testing.T, file string) map[string]string {
	t.Helper()
	text, err := os.ReadFile(fixture.Repo(t, "testdata/ddrescue/record/"+file))
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		sum, name, _ := strings.Cut(l, "  ")
		sums[strings.TrimPrefix(name, ".")] = sum
	}
	return sums
}

// assembleWithMaps assembles md of set from its superblocks with --map,
// writing a case file, and returns the case file and the --map flags.
func assembleWithMaps(t *testing.T, set, md string) (caseFile string, maps []string) {
	t.Helper()
	images, maps := ddrescueMembers(t, set, md)
	caseFile = filepath.Join(t.TempDir(), "case.json")
	args := append(append([]string{}, maps...), "md", "assemble", "--json", "--name", md, "--write-case", caseFile)
	if set == "diff" {
		args = append(args, "--sha256") // the overlap arrays do not read whole
	}
	out, errOut, code := holmes(t, append(args, images...)...)
	if code != 0 {
		t.Fatalf("md assemble %s: exit %d: %s", md, code, errOut)
	}
	var r assembleJSON
	decodeJSON(t, out, &r)
	if want := ddrescueSums(t, "arrays.sha256")[md]; set == "diff" && r.SHA256 != want {
		t.Errorf("%s %s: sha256 %s, the kernel read %s", set, md, r.SHA256, want)
	}
	return caseFile, maps
}

func TestDdrescueMapMakesHolesErrors(t *testing.T) {
	t.Parallel()
	images, maps := ddrescueMembers(t, "diff", "md1")
	// Without its map the image reads whole: ddrescue left zeros.
	if _, errOut, code := holmes(t, "dump", images[0]); code != 0 {
		t.Fatalf("dump without the map: exit %d: %s", code, errOut)
	}
	mapfile := strings.TrimPrefix(maps[1], images[0]+"=")
	_, errOut, code := holmes(t, "--map", maps[1], "dump", images[0])
	if want := fmt.Sprintf("%s: bytes 1048576-1049087 unreadable (bad sector in ddrescue mapfile %s)", images[0], mapfile); code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("dump over a bad sector: exit %d, %q; want %q", code, errOut, want)
	}
	// A range the map marks finished reads; the next hole is non-scraped.
	if _, errOut, code := holmes(t, "--map", maps[1], "dump", images[0]+"@1M", "--offset", "8K", "--length", "200K"); code != 1 ||
		!strings.Contains(errOut, "unreadable (bad sector in ddrescue mapfile") {
		t.Errorf("dump up to the inode table's hole: exit %d, %s", code, errOut)
	}
	out, errOut, code := holmes(t, "--map", maps[1], "dump", images[0], "--offset", "1056768", "--length", "4096")
	if code != 0 || len(out) != 4096 {
		t.Errorf("dump of finished bytes: exit %d, %d bytes, %s", code, len(out), errOut)
	}
	// A --map for an image the command never read is pointed out.
	_, errOut, code = holmes(t, "--map", maps[1], "--map", maps[3], "dump", images[0], "--offset", "0", "--length", "512")
	if code != 0 || !strings.Contains(errOut, "warning: --map "+maps[3]+": the command never read "+images[1]) {
		t.Errorf("unread --map: exit %d, %q", code, errOut)
	}
}

// TestDdrescueDifferentHolesReadWhole: each member of the raid1 and the
// raid5 lost its own ranges (ext superblock, inode table, root directory,
// file data, parity, the last MiB never tried); assembled with the maps,
// the arrays read as the kernel wrote them, whole and file by file, through
// --map and through the case file's maps.
func TestDdrescueDifferentHolesReadWhole(t *testing.T) {
	t.Parallel()
	for md := range ddrescueArrays {
		t.Run(md, func(t *testing.T) {
			caseFile, maps := assembleWithMaps(t, "diff", md)
			for file, want := range ddrescueSums(t, "files-"+md+".sha256") {
				out, errOut, code := holmes(t, append(append([]string{"--case", caseFile}, maps...), "ext", "cat", md, file)...)
				if got := fmt.Sprintf("%x", sha256.Sum256([]byte(out))); code != 0 || got != want {
					t.Errorf("ext cat %s %s: exit %d, sha256 %s, want %s %s", md, file, code, got, want, errOut)
				}
			}
			// The same maps in the case file instead of --map.
			addCaseMaps(t, caseFile, maps)
			out, errOut, code := holmes(t, "--case", caseFile, "dump", md)
			if got := fmt.Sprintf("%x", sha256.Sum256([]byte(out))); code != 0 || got != ddrescueSums(t, "arrays.sha256")[md] {
				t.Errorf("dump %s with the case file's maps: exit %d, sha256 %s: %s", md, code, got, errOut)
			}
			// Without the maps, the zeros ddrescue left read as data.
			if out, _, _ := holmes(t, "--case", withoutMaps(t, caseFile), "dump", md); fmt.Sprintf("%x", sha256.Sum256([]byte(out))) == ddrescueSums(t, "arrays.sha256")[md] {
				t.Errorf("%s reads whole even without its maps: the lab's holes are not where they should be", md)
			}
		})
	}
}

// addCaseMaps moves --map flags into the case file's maps.
func addCaseMaps(t *testing.T, caseFile string, flags []string) {
	t.Helper()
	var c map[string]any
	text, err := os.ReadFile(caseFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(text, &c); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for i := 1; i < len(flags); i += 2 {
		img, mapfile, _ := strings.Cut(flags[i], "=")
		m[img] = mapfile
	}
	c["maps"] = m
	text, _ = json.Marshal(c)
	if err := os.WriteFile(caseFile, text, 0o644); err != nil {
		t.Fatal(err)
	}
}

func withoutMaps(t *testing.T, caseFile string) string {
	t.Helper()
	var c map[string]any
	text, _ := os.ReadFile(caseFile)
	if err := json.Unmarshal(text, &c); err != nil {
		t.Fatal(err)
	}
	delete(c, "maps")
	text, _ = json.Marshal(c)
	plain := filepath.Join(t.TempDir(), "plain.json")
	if err := os.WriteFile(plain, text, 0o644); err != nil {
		t.Fatal(err)
	}
	return plain
}

// ddrescueLost reads record/lost-MD.txt: the array ranges lost in the
// overlap set and, per file, the file bytes they hit.
func ddrescueLost(t *testing.T, md string) (array []blockdev.Extent, files map[string][]blockdev.Extent) {
	t.Helper()
	f, err := os.Open(fixture.Repo(t, "testdata/ddrescue/record/lost-"+md+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files = map[string][]blockdev.Extent{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		num := func(s string) int64 {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("lost-%s.txt: %q", md, sc.Text())
			}
			return n
		}
		switch {
		case len(w) == 3 && w[0] == "array":
			array = append(array, blockdev.Extent{Off: num(w[1]), Len: num(w[2])})
		case len(w) == 4 && w[0] == "file":
			files["/"+w[1]] = append(files["/"+w[1]], blockdev.Extent{Off: num(w[2]), Len: num(w[3])})
		default:
			t.Fatalf("lost-%s.txt: %q", md, sc.Text())
		}
	}
	slices.SortFunc(array, func(a, b blockdev.Extent) int { return int(a.Off - b.Off) })
	return array, files
}

// TestDdrescueOverlappingHolesLoseExactly: where the members' bad areas
// overlap, reading the array fails exactly on the array bytes the lab
// recorded as lost (no copy, no parity left), with the mapfiles named; the
// files they hit fail to read and every other file reads as the kernel
// wrote it.
func TestDdrescueOverlappingHolesLoseExactly(t *testing.T) {
	t.Parallel()
	for md := range ddrescueArrays {
		t.Run(md, func(t *testing.T) {
			caseFile, maps := assembleWithMaps(t, "overlap", md)
			wantLost, hit := ddrescueLost(t, md)
			f := newFactory(nil, nil)
			f.CaseFile, f.Maps = caseFile, nil
			for i := 1; i < len(maps); i += 2 {
				f.Maps = append(f.Maps, maps[i])
			}
			d, err := f.OpenDevice(md)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var lost []blockdev.Extent
			buf := make([]byte, 1<<20)
			for off := int64(0); off < d.Size(); {
				n, err := d.ReadAt(buf[:min(int64(len(buf)), d.Size()-off)], off)
				off += int64(n)
				if err == nil {
					continue
				}
				u, ok := blockdev.AsUnreadable(err)
				if !ok || u.Dev != md || u.Off != off || !strings.Contains(u.Why, ".map") {
					t.Fatalf("read at %d: %v", off, err)
				}
				if l := len(lost); l > 0 && lost[l-1].End() == u.Off {
					lost[l-1].Len += u.Len
				} else {
					lost = append(lost, blockdev.Extent{Off: u.Off, Len: u.Len})
				}
				off = u.End()
			}
			if !slices.Equal(lost, wantLost) {
				t.Errorf("lost %v, the lab recorded %v", lost, wantLost)
			}
			for file, want := range ddrescueSums(t, "files-"+md+".sha256") {
				out, errOut, code := holmes(t, append(append([]string{"--case", caseFile}, maps...), "ext", "cat", md, file)...)
				got := fmt.Sprintf("%x", sha256.Sum256([]byte(out)))
				switch {
				case hit[file] != nil && (code != 1 || !strings.Contains(errOut, "unreadable")):
					t.Errorf("ext cat %s %s, whose bytes %v are lost: exit %d, %s", md, file, hit[file], code, errOut)
				case hit[file] == nil && (code != 0 || got != want):
					t.Errorf("ext cat %s %s: exit %d, sha256 %s, want %s %s", md, file, code, got, want, errOut)
				}
			}
			if len(hit) == 0 {
				t.Error("the lab's lost ranges hit no file")
			}
		})
	}
}
