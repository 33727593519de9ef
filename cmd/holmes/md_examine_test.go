package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"holmes/internal/fixture"
)

// examineJSON mirrors the md examine --json document as scripts read it.
type examineJSON []struct {
	Device      string           `json:"device"`
	Size        int64            `json:"size"`
	Superblocks []map[string]any `json:"superblocks"`
}

// mdadmExamine is what one `mdadm --examine` run printed: the "Key : value"
// lines, and for 0.90 the rows of its disk table.
type mdadmExamine struct {
	fields map[string]string
	rows   [][]string // "this" first, then one row per disk descriptor
}

func parseMdadmExamine(t *testing.T, text string) mdadmExamine {
	t.Helper()
	e := mdadmExamine{fields: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, " : "); ok {
			e.fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
			continue
		}
		f := strings.Fields(line)
		if len(f) >= 5 && (f[0] == "this" || isNumber(f[0])) && isNumber(f[1]) {
			e.rows = append(e.rows, f)
		}
	}
	if e.fields["Magic"] != "a92b4efc" {
		t.Fatalf("not mdadm --examine output:\n%s", text)
	}
	return e
}

func isNumber(s string) bool { _, err := strconv.Atoi(s); return err == nil }

// firstInt is the leading integer of a value such as "2048 sectors" or
// "10176 (9.94 MiB 10.42 MB)".
func firstInt(t *testing.T, v string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
	if err != nil {
		t.Fatalf("mdadm value %q: %v", v, err)
	}
	return n
}

// mdadmLayout turns mdadm's layout wording into the short form holmes uses:
// "near=2" n2, "far=2" f2, "offset=2" o2, "near=2, far=2" n2f2.
func mdadmLayout(v string) string {
	r := strings.NewReplacer("near=", "n", "far=", "f", "offset=", "o", ",", "", " ", "")
	return r.Replace(v)
}

// compareExamine checks every fact mdadm printed against holmes's JSON for
// the superblock of the same version. loc is the time zone mdadm ran in.
func compareExamine(t *testing.T, what string, m mdadmExamine, got []map[string]any, loc *time.Location) {
	t.Helper()
	f := m.fields
	version := f["Version"]
	if version == "0.90.00" {
		version = "0.90"
	}
	var sb map[string]any
	for _, s := range got {
		if s["version"] == version {
			sb = s
		}
	}
	if sb == nil {
		t.Errorf("%s: mdadm found a %s superblock, holmes did not (%v)", what, version, got)
		return
	}
	check := func(field string, want any) {
		t.Helper()
		g := sb[field]
		if n, ok := g.(float64); ok {
			g = int64(n)
		}
		if w, ok := want.(int); ok {
			want = int64(w)
		}
		if g != want {
			t.Errorf("%s: %s = %v, mdadm says %v", what, field, g, want)
		}
	}
	checkTime := func(field, mdadmKey string) {
		t.Helper()
		want, err := time.ParseInLocation("Mon Jan _2 15:04:05 2006", f[mdadmKey], loc)
		if err != nil {
			t.Fatalf("%s: %s %q: %v", what, mdadmKey, f[mdadmKey], err)
		}
		check(field, want.UTC().Format(time.RFC3339))
	}
	check("level", f["Raid Level"])
	check("raid_disks", firstInt(t, f["Raid Devices"]))
	check("events", firstInt(t, f["Events"]))
	check("state", f["State"])
	checkTime("ctime", "Creation Time")
	checkTime("utime", "Update Time")
	sum, verdict, _ := strings.Cut(f["Checksum"], " - ")
	check("checksum", sum)
	check("checksum_ok", verdict == "correct")
	layout := mdadmLayout(f["Layout"])
	check("layout", layout)
	if c, ok := f["Chunk Size"]; ok {
		check("chunk_bytes", firstInt(t, strings.TrimSuffix(c, "K"))*1024)
	}
	if v, ok := f["Array Size"]; ok { // mdadm prints whole KiB, rounded down
		if size, _ := sb["array_size"].(float64); int64(size)/1024 != firstInt(t, v) {
			t.Errorf("%s: array_size = %v, mdadm says %s KiB", what, size, v)
		}
	}

	if version == "0.90" {
		uuid, _, _ := strings.Cut(f["UUID"], " ")
		check("array_uuid", uuid)
		check("used_size", firstInt(t, f["Used Dev Size"])*1024)
		check("preferred_minor", firstInt(t, f["Preferred Minor"]))
		check("data_offset", 0)
		if _, ok := f["Internal Bitmap"]; ok != (sb["bitmap"] != nil) {
			t.Errorf("%s: bitmap %v, mdadm says %q", what, sb["bitmap"], f["Internal Bitmap"])
		}
		// The "this" row gives the role; the other rows the array state.
		var state []byte
		for i := 0; i < int(firstInt(t, f["Raid Devices"])); i++ {
			state = append(state, '.')
		}
		for i, row := range m.rows {
			slot, _ := strconv.Atoi(row[4])
			active := strings.Contains(strings.Join(row, " "), "active sync")
			if i == 0 {
				if active {
					check("role", slot)
				} else {
					check("role", "spare")
				}
			} else if active && slot < len(state) {
				state[slot] = 'A'
			}
		}
		check("array_state", string(state))
		return
	}

	check("array_uuid", f["Array UUID"])
	check("device_uuid", f["Device UUID"])
	name, _, _ := strings.Cut(f["Name"], "  (local to host")
	check("name", name)
	fm, _ := strconv.ParseUint(strings.TrimPrefix(f["Feature Map"], "0x"), 16, 32)
	check("feature_map", int64(fm))
	dataSize := firstInt(t, f["Avail Dev Size"]) * 512
	check("data_size", dataSize)
	if v, ok := f["Used Dev Size"]; ok {
		check("used_size", firstInt(t, v)*512)
	} else if f["Raid Level"] != "raid0" && f["Raid Level"] != "linear" {
		check("used_size", dataSize)
	}
	dataOffset := int64(0)
	if v, ok := f["Data Offset"]; ok {
		dataOffset = firstInt(t, v) * 512
	}
	check("data_offset", dataOffset)
	superOffset := firstInt(t, f["Super Offset"]) * 512
	check("super_offset", superOffset)
	check("offset", superOffset) // members here start at the device's start
	state, _, _ := strings.Cut(f["Array State"], " ")
	check("array_state", state)
	switch role := f["Device Role"]; {
	case strings.HasPrefix(role, "Active device "):
		check("role", firstInt(t, strings.TrimPrefix(role, "Active device ")))
	case role == "spare":
		if r := sb["role"]; r != "spare" && r != "faulty" {
			t.Errorf("%s: role %v, mdadm says spare", what, r)
		}
	default:
		t.Errorf("%s: mdadm role %q not understood", what, role)
	}
	if v, ok := f["Internal Bitmap"]; ok {
		bm, _ := sb["bitmap"].(map[string]any)
		if bm == nil || int64(bm["offset"].(float64)) != superOffset+firstInt(t, v)*512 {
			t.Errorf("%s: bitmap %v, mdadm says %q", what, sb["bitmap"], v)
		}
	} else if sb["bitmap"] != nil {
		t.Errorf("%s: bitmap %v, mdadm shows none", what, sb["bitmap"])
	}
	if v, ok := f["Bad Block Log"]; ok {
		var entries, at int64
		parts := strings.Fields(v) // "512 entries available at offset 16 sectors"
		entries, at = firstInt(t, parts[0]), firstInt(t, parts[5])
		bb, _ := sb["bad_block_log"].(map[string]any)
		if bb == nil || int64(bb["size"].(float64))/8 != entries || int64(bb["offset"].(float64)) != superOffset+at*512 {
			t.Errorf("%s: bad block log %v, mdadm says %q", what, sb["bad_block_log"], v)
		}
	}
}

// examineOne runs holmes md examine --json on dev and returns its superblocks.
func examineOne(t *testing.T, dev string) []map[string]any {
	t.Helper()
	out, stderr, code := holmes(t, "md", "examine", "--json", dev)
	if code != 0 {
		t.Fatalf("holmes md examine %s: exit %d: %s", dev, code, stderr)
	}
	var doc examineJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("holmes md examine --json %s: %v\n%s", dev, err, out)
	}
	return doc[0].Superblocks
}

// liveMdadm compares against mdadm --examine run now, when it is installed
// and the DEV is a plain file (mdadm cannot name a partition of an image).
func liveMdadm(t *testing.T, what, dev string, got []map[string]any) {
	t.Helper()
	if _, err := exec.LookPath("mdadm"); err != nil || strings.Contains(dev, ":p") {
		return
	}
	out, err := exec.Command("mdadm", "--examine", dev).Output()
	if err != nil {
		t.Fatalf("mdadm --examine %s: %v", dev, err)
	}
	compareExamine(t, what+" (live mdadm)", parseMdadmExamine(t, string(out)), got, time.Local)
}

func TestMdExamineUtilLinux(t *testing.T) {
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
