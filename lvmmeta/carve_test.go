package lvmmeta

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

const oldVG = "Pyle22-eexN-W886-ZjpO-RFCi-YbWd-tLzZ15"

func carve(t *testing.T, paths ...string) []*Carved {
	t.Helper()
	c := NewCarver()
	for _, p := range paths {
		d := openFixture(t, fixture.Repo(t, p))
		if err := c.Scan(d, d.Size(), filepath.Base(p)); err != nil {
			t.Fatal(err)
		}
	}
	return c.Results()
}

// sameVG compares what matters for a restore: PVs and LVs with segments.
func sameVG(t *testing.T, got []byte, want *VG) {
	t.Helper()
	vg, err := ParseText(got)
	if err != nil {
		t.Fatalf("carved text does not parse: %v", err)
	}
	if vg.ID != want.ID || vg.Seqno != want.Seqno || !reflect.DeepEqual(vg.PVs, want.PVs) || !reflect.DeepEqual(vg.LVs, want.LVs) {
		t.Errorf("carved VG %s seqno %d differs from the backup file", vg.ID, vg.Seqno)
	}
}

// The old VG's newest metadata (seqno 45) survives in md0's buffer after
// the installer's pvcreate/vgcreate; carving the raw member disk finds it
// (the PV starts 1 MiB in: md metadata 1.2).
func TestCarveRawPV(t *testing.T) {
	res := carve(t, "testdata/lvm/disk-a.img.xz")
	if len(res) == 0 || res[0].VGUUID != oldVG || res[0].Seqno != 45 || !res[0].Complete {
		t.Fatalf("first result = %+v", res[0])
	}
	if at := res[0].FoundAt; len(at) != 1 || at[0].Offset != 1<<20+76288 {
		t.Errorf("seqno 45 found at %v", at)
	}
	sameVG(t, res[0].RestoreFile(), labBackup(t))
	// On disk, the header follows the section: the time is there.
	if res[0].CreationTime != 1795318584 || res[0].Description != "Write from lvchange --addtag rev30 guests/home." {
		t.Errorf("seqno 45 header = %q %d", res[0].Description, res[0].CreationTime)
	}
	var newest *Carved
	for _, r := range res {
		if r.VGUUID != oldVG {
			newest = r
		}
	}
	if newest == nil || newest.Seqno != 1 || len(newest.LVs) != 0 {
		t.Errorf("installer's VG = %+v", newest)
	}
	// The wrapped text at 130048 lost its tail to the installer: found,
	// ranked after the complete ones, reported incomplete.
	last := res[len(res)-1]
	if last.Complete || last.Seqno != 31 || last.Error == "" {
		t.Errorf("last result = %+v", last)
	}
}

// /etc/lvm on an ext4 image: backup/guests and the archive files, found
// in the raw blocks whether or not the inode table still leads to them.
func TestCarveExtImages(t *testing.T) {
	archives, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/archive-list.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range []string{"testdata/lvm/etc.img.xz", "testdata/lvm/etc-damaged.img.xz"} {
		res := carve(t, img)
		if len(res) == 0 || res[0].VGUUID != oldVG || res[0].Seqno != 45 || !res[0].Complete {
			t.Fatalf("%s: first result = %+v", img, res)
		}
		sameVG(t, res[0].RestoreFile(), labBackup(t))
		// The backup file's own header says what it is.
		if res[0].Description != "Created *after* executing 'lvchange --addtag rev30 guests/home'" || res[0].CreationTime != 1795318584 {
			t.Errorf("%s: header = %q %d", img, res[0].Description, res[0].CreationTime)
		}
		if d := res[len(res)-1].Description; !strings.HasPrefix(d, "Created *before* executing 'lvcreate -y -L 4m -n root") {
			t.Errorf("%s: oldest archive says %q", img, d)
		}
		// Every archive file is a version before a change: seqno 0..44.
		if n := strings.Count(string(archives), ".vg"); len(res) != n+1 {
			t.Errorf("%s: %d versions carved, %d archive files + 1 backup", img, len(res), n)
		}
	}
}

func TestCarveDeduplicatesAcrossDevices(t *testing.T) {
	res := carve(t, "testdata/lvm/disk-a.img.xz", "testdata/lvm/disk-c.img.xz", "testdata/lvm/etc-damaged.img.xz")
	if res[0].Seqno != 45 || len(res[0].FoundAt) != 3 {
		t.Errorf("seqno 45 found at %v", res[0].FoundAt)
	}
}

// vgcfgrestore --list parses a file as lvm itself does, without devices.
func TestCarvedFileAcceptedByVgcfgrestore(t *testing.T) {
	tool, err := exec.LookPath("vgcfgrestore")
	if err != nil {
		t.Skip("vgcfgrestore not installed")
	}
	res := carve(t, "testdata/lvm/etc-damaged.img.xz")
	dir := t.TempDir()
	file := filepath.Join(dir, "guests_45.vg")
	if err := os.WriteFile(file, res[0].RestoreFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "lvm.conf"), nil, 0o644)
	cmd := exec.Command(tool, "--list", "--file", file)
	cmd.Env = append(os.Environ(), "LVM_SYSTEM_DIR="+dir, "LVM_SUPPRESS_FD_WARNINGS=1")
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "control") {
		t.Skipf("vgcfgrestore does not run here: %s", out)
	}
	if err != nil || !strings.Contains(string(out), "VG name:") || !strings.Contains(string(out), "guests") {
		t.Errorf("vgcfgrestore --list: %v\n%s", err, out)
	}
}

// Heads and texts that straddle the carver's read chunks are found whole.
func TestCarveAcrossChunks(t *testing.T) {
	text, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/backup-guests.vg"))
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Index(string(text), "guests {")
	key := strings.Index(string(text), "seqno = ")
	for _, at := range []int{
		carveChunk - head - 3,                // VG name before the boundary, key after
		carveChunk - key - 2,                 // the key itself split
		carveChunk - head + 40,               // head wholly after, text before
		2*carveChunk - len(text) + head + 10, // text runs off the end of the device
	} {
		img := make([]byte, 2*carveChunk)
		copy(img[at:], text)
		c := NewCarver()
		if err := c.Scan(bytesReader(img), int64(len(img)), "img"); err != nil {
			t.Fatal(err)
		}
		res := c.Results()
		if len(res) != 1 || res[0].Seqno != 45 || res[0].FoundAt[0].Offset != int64(at+head) {
			t.Errorf("text at %d: %+v", at, res)
			continue
		}
		if end := at + len(text); end <= len(img) != res[0].Complete {
			t.Errorf("text at %d: complete = %v", at, res[0].Complete)
		}
	}
}

// The committed text of wrap.img wraps round its buffer: raw bytes alone
// hold only its first part, the metadata area gives it whole.
func TestCarveWrappedText(t *testing.T) {
	res := carve(t, "testdata/lvm/wrap.img.xz")
	if len(res) == 0 || res[0].Seqno != 34 || !res[0].Complete || len(res[0].FoundAt) != 1 || res[0].FoundAt[0].Offset != 64512 {
		t.Fatalf("first result = %+v", res[0])
	}
	sameVG(t, res[0].RestoreFile(), recordedVG(t, "wrap-backup.vg"))
}
