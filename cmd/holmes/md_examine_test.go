package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"holmes/internal/fixture"
)

func TestMdExamineUtilLinux(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ image, blkid string }{
		{"mdraid.img.xz", "low-probe-mdraid"},
		{"mdraid-1.img.xz", "low-probe-mdraid-1"},
	} {
		dev := fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/"+c.image))
		got := examineOne(t, dev)
		if len(got) != 1 {
			t.Fatalf("%s: %d superblocks, want 1", c.image, len(got))
		}
		// blkid's recorded view: uuid (dashed), sub-uuid, label, version.
		expected, err := os.ReadFile(fixture.Public(t, "util-linux/tests/expected/blkid/"+c.blkid))
		if err != nil {
			t.Fatal(err)
		}
		dashed := func(v any) string {
			return strings.ReplaceAll(v.(string), ":", "")
		}
		for _, line := range strings.Split(string(expected), "\n") {
			k, v, _ := strings.Cut(line, "=")
			plain := strings.ReplaceAll(v, "-", "")
			switch k {
			case "ID_FS_UUID":
				if dashed(got[0]["array_uuid"]) != plain {
					t.Errorf("%s: array uuid %v, blkid %s", c.image, got[0]["array_uuid"], v)
				}
			case "ID_FS_UUID_SUB":
				if dashed(got[0]["device_uuid"]) != plain {
					t.Errorf("%s: device uuid %v, blkid %s", c.image, got[0]["device_uuid"], v)
				}
			case "ID_FS_LABEL":
				if got[0]["name"] != v {
					t.Errorf("%s: name %v, blkid %s", c.image, got[0]["name"], v)
				}
			case "ID_FS_VERSION":
				if !strings.HasPrefix(v, got[0]["version"].(string)) {
					t.Errorf("%s: version %v, blkid %s", c.image, got[0]["version"], v)
				}
			}
		}
		liveMdadm(t, c.image, dev, got)
	}
}

// labEntry is the part of an md lab manifest entry examine tests use.
type labEntry struct {
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	Disks   []string  `json:"disks"`
	Members []*string `json:"members"`
	Examine []*string `json:"examine"`
}

func loadLabManifest(t *testing.T) []labEntry {
	t.Helper()
	var m []labEntry
	fixture.JSON(t, "testdata/md/manifest.json", &m)
	return m
}

// labDev unpacks a manifest member ("dir/d0.img.xz:p1") and returns the DEV
// to give holmes, with any partition or range suffix put back.
func labDev(t *testing.T, member string) string {
	t.Helper()
	i := strings.Index(member, ".img.xz") + len(".img.xz")
	return fixture.Unpack(t, fixture.Repo(t, filepath.Join("testdata/md", member[:i]))) + member[i:]
}

func TestMdExamineLab(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	check := func(what, examine, dev string) {
		t.Helper()
		recorded, err := os.ReadFile(fixture.Repo(t, filepath.Join("testdata/md", examine)))
		if err != nil {
			t.Fatal(err)
		}
		covered[examine] = true
		if strings.Contains(string(recorded), "No md superblock detected") {
			if _, stderr, code := holmes(t, "md", "examine", dev); code != 1 || !strings.Contains(stderr, "no md superblock") {
				t.Errorf("%s: mdadm found no superblock; holmes exit %d, stderr %q", what, code, stderr)
			}
			return
		}
		got := examineOne(t, dev)
		// The lab's UML kernel ran mdadm in UTC.
		compareExamine(t, what, parseMdadmExamine(t, string(recorded)), got, time.UTC)
		liveMdadm(t, what, dev, got)
	}
	// -short: one array per metadata version, and one disk outside the
	// members (a stale one).
	representatives := []string{"r1-v090", "r5-la-v10", "r10-o2-v11", "r5-ls-v12", "r1-stale-v12"}
	for _, e := range loadLabManifest(t) {
		if fixture.LeftOutOfShort(e.Name, representatives...) {
			continue
		}
		// examine lists the members' outputs in role order, or (pairs
		// fixtures) the disks'.
		devs := e.Members
		if len(e.Examine) != len(devs) && len(e.Examine) == len(e.Disks) {
			devs = make([]*string, len(e.Disks))
			for i := range e.Disks {
				devs[i] = &e.Disks[i]
			}
		}
		for i, member := range devs {
			if member == nil || i >= len(e.Examine) || e.Examine[i] == nil {
				continue
			}
			check(e.Name+"/"+*member, *e.Examine[i], labDev(t, *member))
		}
	}
	// Recorded outputs of whole disks the manifest does not list as
	// members (spares, stale disks) are checked too.
	outputs, _ := filepath.Glob(filepath.Join(fixture.RepoRoot(t), "testdata/md/*/*.examine.txt"))
	for _, out := range outputs {
		rel, _ := filepath.Rel(filepath.Join(fixture.RepoRoot(t), "testdata/md"), out)
		image := strings.TrimSuffix(out, ".examine.txt") + ".img.xz"
		if _, err := os.Stat(image); err != nil || covered[rel] || fixture.LeftOutOfShort(filepath.Dir(rel), representatives...) {
			continue
		}
		check(rel, rel, fixture.Unpack(t, image))
	}
	if len(covered) == 0 {
		t.Fatal("no md lab fixture with recorded mdadm --examine output")
	}
	t.Logf("%d recorded mdadm --examine outputs compared", len(covered))
}

func TestMdExamineBadInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o444); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := make([]byte, 256<<10)
	for i := range garbage {
		garbage[i] = byte(i*7 + i>>9)
	}
	md1 := fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/mdraid.img.xz"))
	whole, err := os.ReadFile(md1)
	if err != nil {
		t.Fatal(err)
	}
	for name, dev := range map[string]string{
		"garbage":     write("garbage.img", garbage),
		"zero-length": write("empty.img", nil),
		"truncated":   write("truncated.img", whole[:len(whole)/2]), // the 0.90 superblock is cut off
		"tiny":        write("tiny.img", []byte("md")),
		"directory":   dir,
		"missing":     filepath.Join(dir, "no-such.img"),
	} {
		out, stderr, code := holmes(t, "md", "examine", dev)
		if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, dev) {
			t.Errorf("%s: exit %d, stderr %q (stdout %q); want exit 1 and one line naming %s", name, code, stderr, out, dev)
		}
	}
}

// TestMdExamineHumanSummary: several members end with one line each, and a
// bad checksum is visible in both the details and the summary.
func TestMdExamineHumanSummary(t *testing.T) {
	t.Parallel()
	var devs []string
	for _, m := range []string{"r1-v090/d0.img.xz", "r1-v090/d1.img.xz"} {
		devs = append(devs, labDev(t, m))
	}
	out, stderr, code := holmes(t, append([]string{"md", "examine"}, devs...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Checksum : ", "- correct", "│ events", devs[0], devs[1]} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	dir := t.TempDir()
	img, err := os.ReadFile(fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/mdraid-1.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	img[4096+40] ^= 0xff // inside the set name, covered by the checksum
	bad := filepath.Join(dir, "bad-checksum.img")
	if err := os.WriteFile(bad, img, 0o444); err != nil {
		t.Fatal(err)
	}
	out, _, code = holmes(t, "md", "examine", bad, devs[0])
	if code != 0 || !strings.Contains(out, "- BAD, expected") || !strings.Contains(out, "│ BAD") {
		t.Errorf("bad checksum not shown (exit %d):\n%s", code, out)
	}
}

// TestMdExamineBigEndian090 reads a 0.90 superblock as a big-endian host
// (PowerPC, SPARC) writes it. No tool here can write one (mdadm only
// converts foreign superblocks to native), so the real little-endian
// superblock of the util-linux image is converted the way mdadm's
// super0_swap_endian does: every 32-bit word byte-swapped, the halves of
// the 64-bit counters exchanged. holmes must decode the same facts, and
// `mdadm --examine -e 0.swap` (which reads a swapped superblock) must agree.
func TestMdExamineBigEndian090(t *testing.T) {
	t.Parallel()
	orig := fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/mdraid.img.xz"))
	img, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	const at = 0x9F0000 // (size rounded down to 64 KiB) - 64 KiB
	sb := img[at : at+4096]
	for i := 0; i < len(sb); i += 4 {
		sb[i], sb[i+1], sb[i+2], sb[i+3] = sb[i+3], sb[i+2], sb[i+1], sb[i]
	}
	for _, w := range []int{156, 164, 176} { // events, cp_events, reshape_position
		for i := 0; i < 4; i++ {
			sb[w+i], sb[w+4+i] = sb[w+4+i], sb[w+i]
		}
	}
	swapped := filepath.Join(t.TempDir(), "big-endian.img")
	if err := os.WriteFile(swapped, img, 0o444); err != nil {
		t.Fatal(err)
	}
	want, got := examineOne(t, orig), examineOne(t, swapped)
	if len(got) != 1 || got[0]["byte_order"] != "big-endian" || got[0]["checksum_ok"] != true {
		t.Fatalf("byte-swapped superblock: %v", got)
	}
	for k, v := range want[0] {
		if k != "byte_order" && !reflect.DeepEqual(got[0][k], v) {
			t.Errorf("%s: big-endian %v, little-endian %v", k, got[0][k], v)
		}
	}
	if _, err := exec.LookPath("mdadm"); err != nil {
		return
	}
	if out, err := exec.Command("mdadm", "--examine", swapped).CombinedOutput(); err == nil {
		t.Errorf("plain mdadm --examine read the byte-swapped superblock:\n%s", out)
	}
	out, err := exec.Command("mdadm", "--examine", "-e", "0.swap", swapped).Output()
	if err != nil {
		t.Fatalf("mdadm --examine -e 0.swap: %v", err)
	}
	compareExamine(t, "big-endian 0.90 (live mdadm -e 0.swap)", parseMdadmExamine(t, string(out)), got, time.Local)
}
