package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// scanJSON is the part of the scan --json document the tests read.
type scanJSON []struct {
	Device         string `json:"device"`
	PartitionTable *struct {
		Kind       string `json:"kind"`
		BackupUsed bool   `json:"backup_used"`
	} `json:"partition_table"`
	Partitions []struct {
		Number int   `json:"number"`
		Start  int64 `json:"start"`
	} `json:"partitions"`
	Signatures []scanSignature `json:"signatures"`
}

type scanSignature struct {
	Kind      string         `json:"kind"`
	Offset    int64          `json:"offset"`
	Start     *int64         `json:"start"`
	Partition int            `json:"partition"`
	Error     string         `json:"error"`
	MD        map[string]any `json:"md"`
	LVM       map[string]any `json:"lvm"`
	Ext       map[string]any `json:"ext"`
	DRBD      map[string]any `json:"drbd"`
}

func scanOne(t *testing.T, args ...string) scanJSON {
	t.Helper()
	out, stderr, code := holmes(t, append([]string{"scan", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("holmes scan %v: exit %d: %s", args, code, stderr)
	}
	var doc scanJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("holmes scan %v: %v\n%s", args, err, out)
	}
	return doc
}

// blkidExpected reads util-linux's recorded `blkid -p -o udev` output.
func blkidExpected(t *testing.T, name string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(fixture.Public(t, "util-linux/tests/expected/blkid/low-probe-"+name))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestScanUtilLinuxImages(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		image  string
		kind   string
		offset int64
		start  int64 // -1: unknown
		// uuid is the blkid field the signature's identity must match,
		// and detail reads that identity from the signature.
		detail func(s scanSignature) string
	}{
		{"mdraid", "md", 0x9F0000, -1, func(s scanSignature) string { return s.MD["array_uuid"].(string) }},
		{"mdraid-1", "md", 4096, 0, func(s scanSignature) string { return s.MD["array_uuid"].(string) }},
		{"lvm2", "lvm", 512, 0, func(s scanSignature) string { return s.LVM["pv_uuid"].(string) }},
		{"ext2", "ext", 1024, 0, func(s scanSignature) string { return s.Ext["uuid"].(string) }},
		{"ext3", "ext", 1024, 0, func(s scanSignature) string { return s.Ext["uuid"].(string) }},
		{"ext4", "ext", 1024, 0, func(s scanSignature) string { return s.Ext["uuid"].(string) }},
		{"jbd", "ext", 1024, 0, func(s scanSignature) string { return s.Ext["uuid"].(string) }},
		{"drbd-v08", "drbd", 1474561 - 4096, -1, func(s scanSignature) string { return s.DRBD["device_uuid"].(string) }},
		{"drbd-v09", "drbd", 1474561 - 4096, -1, func(s scanSignature) string { return s.DRBD["device_uuid"].(string) }},
	} {
		dev := fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/"+c.image+".img.xz"))
		doc := scanOne(t, dev)
		sigs := doc[0].Signatures
		if len(sigs) != 1 {
			t.Errorf("%s: %d signatures %+v, want one %s", c.image, len(sigs), sigs, c.kind)
			continue
		}
		s := sigs[0]
		start := int64(-1)
		if s.Start != nil {
			start = *s.Start
		}
		if s.Kind != c.kind || s.Offset != c.offset || start != c.start || s.Error != "" {
			t.Errorf("%s: %s at %d (start %d, error %q); want %s at %d (start %d)", c.image, s.Kind, s.Offset, start, s.Error, c.kind, c.offset, c.start)
			continue
		}
		// blkid prints md uuids dashed and LVM's without dashes.
		norm := func(u string) string { return strings.ToLower(strings.NewReplacer("-", "", ":", "").Replace(u)) }
		if want := blkidExpected(t, c.image)["ID_FS_UUID"]; norm(c.detail(s)) != norm(want) {
			t.Errorf("%s: identity %s, blkid says %s", c.image, c.detail(s), want)
		}
		switch c.image {
		case "ext4":
			if s.Ext["past_end"] != true {
				t.Errorf("ext4: the 64 MiB filesystem in an 8 MiB image is not flagged past_end")
			}
		case "jbd":
			if s.Ext["journal_dev"] != true {
				t.Errorf("jbd: not flagged as an external journal")
			}
		case "drbd-v08", "drbd-v09":
			if s.DRBD["version"] != strings.TrimPrefix(c.image, "drbd-") || s.DRBD["device_end"] != float64(1474561) {
				t.Errorf("%s: version %v, device end %v", c.image, s.DRBD["version"], s.DRBD["device_end"])
			}
		}
	}
}

// wipedEntry is a wiped-table fixture of the md lab manifest.
type wipedEntry struct {
	Name             string   `json:"name"`
	Kind             string   `json:"kind"`
	Disks            []string `json:"disks"`
	PartitionsBefore []struct {
		Start int64 `json:"start"`
		Size  int64 `json:"size"`
	} `json:"partitions_before"`
	Signatures []struct {
		Type    string  `json:"type"`
		Offset  int64   `json:"offset"`
		Backups []int64 `json:"backups"`
		In      string  `json:"in"`
	} `json:"signatures"`
}

// TestScanWipedTable: after the partition table was wiped, scan still finds
// every md superblock, PV label and ext superblock (and backups) the lab
// recorded, and says where each partition began.
func TestScanWipedTable(t *testing.T) {
	t.Parallel()
	var entries []wipedEntry
	fixture.JSON(t, "testdata/md/manifest.json", &entries)
	n := 0
	for _, e := range entries {
		if e.Kind != "wiped-table" {
			continue
		}
		n++
		dev := fixture.Unpack(t, fixture.Repo(t, filepath.Join("testdata/md", e.Disks[0])))
		doc := scanOne(t, dev)
		if doc[0].PartitionTable != nil {
			t.Errorf("%s: a partition table was read after the wipe", e.Name)
		}
		found := map[int64]scanSignature{}
		for _, s := range doc[0].Signatures {
			found[s.Offset] = s
		}
		kinds := map[string]string{"md": "md", "lvm2": "lvm", "ext4": "ext", "ext3": "ext", "ext2": "ext", "drbd": "drbd"}
		for _, want := range e.Signatures {
			offsets := append([]int64{want.Offset}, want.Backups...)
			for _, off := range offsets {
				s, ok := found[off]
				if !ok || s.Kind != kinds[want.Type] || s.Error != "" {
					t.Errorf("%s: no %s at %d (found %+v)", e.Name, want.Type, off, s)
					continue
				}
				if want.In != "" || s.Start == nil {
					continue // inside an LV: no partition began there
				}
				began := false
				for _, p := range e.PartitionsBefore {
					began = began || p.Start == *s.Start
				}
				if !began {
					t.Errorf("%s: %s at %d implies a start at %d, where no partition began", e.Name, want.Type, off, *s.Start)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no wiped-table fixture in testdata/md/manifest.json")
	}
}

// TestScanFindsMembersOnPartitions: every lab member that is a partition
// (MBR primary, GPT, logical) shows up as an md superblock in that
// partition of its disk, with the array's uuid.
func TestScanFindsMembersOnPartitions(t *testing.T) {
	t.Parallel()
	n := 0
	for _, e := range loadLabManifest(t) {
		for i, member := range e.Members {
			if member == nil || !strings.Contains(*member, ":p") || i >= len(e.Examine) || e.Examine[i] == nil {
				continue
			}
			disk, part, _ := strings.Cut(*member, ":p")
			recorded, err := os.ReadFile(fixture.Repo(t, filepath.Join("testdata/md", *e.Examine[i])))
			if err != nil {
				t.Fatal(err)
			}
			f := parseMdadmExamine(t, string(recorded)).fields
			uuid := f["Array UUID"]
			if uuid == "" {
				uuid, _, _ = strings.Cut(f["UUID"], " ")
			}
			doc := scanOne(t, fixture.Unpack(t, fixture.Repo(t, filepath.Join("testdata/md", disk))))
			ok := false
			for _, s := range doc[0].Signatures {
				ok = ok || (s.Kind == "md" && part == itoa(s.Partition) && s.MD["array_uuid"] == uuid)
			}
			if !ok {
				t.Errorf("%s: no md superblock of %s in partition %s: %+v", *member, uuid, part, doc[0].Signatures)
			}
			n++
		}
	}
	if n == 0 {
		t.Skip("no lab member on a partition in the manifest yet")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestScanDamagedGPT(t *testing.T) {
	t.Parallel()
	doc := scanOne(t, fixture.Unpack(t, fixture.Repo(t, "testdata/blockdev/gpt-bad-primary.img.xz")))
	if pt := doc[0].PartitionTable; pt == nil || pt.Kind != "gpt" || !pt.BackupUsed || len(doc[0].Partitions) != 3 {
		t.Errorf("damaged GPT: table %+v, partitions %+v", doc[0].PartitionTable, doc[0].Partitions)
	}
}

func TestScanBadInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, dev := range []string{dir, filepath.Join(dir, "missing.img")} {
		_, stderr, code := holmes(t, "scan", dev)
		if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, dev) {
			t.Errorf("scan %s: exit %d, stderr %q", dev, code, stderr)
		}
	}
	if _, _, code := holmes(t, "scan", "--edge", "12", dir); code != 2 {
		t.Errorf("scan --edge 12: exit %d, want 2", code)
	}
}
