package main

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
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
