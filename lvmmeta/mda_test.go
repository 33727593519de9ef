package lvmmeta

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// pvckLine matches what pvck --dump metadata_all prints for each text.
var pvckLine = regexp.MustCompile(`metadata at (\d+) length (\d+) crc ([0-9a-f]+) vg (\S+) seqno (\d+) id (\S+)`)
var pvckFailed = regexp.MustCompile(`Failed to extract full metadata text at (\d+)`)

// comparePvck checks that the history holmes reads is the history pvck
// printed: every text pvck lists with the same offset, length, crc, VG and
// seqno, and nothing more except texts pvck says it could not extract.
func comparePvck(t *testing.T, pvckOut string, got []Metadata) {
	t.Helper()
	mine := map[string]bool{}
	for _, m := range got {
		key := fmt.Sprintf("%d %d %s %s %d %s", m.Offset, m.Size, m.Checksum, m.VG, m.Seqno, m.VGUUID)
		mine[key] = true
	}
	listed := map[string]bool{}
	for _, f := range pvckLine.FindAllStringSubmatch(pvckOut, -1) {
		key := strings.Join(f[1:], " ")
		listed[f[1]] = true
		if !mine[key] {
			t.Errorf("pvck lists %q; holmes does not", key)
		}
	}
	for _, f := range pvckFailed.FindAllStringSubmatch(pvckOut, -1) {
		listed[f[1]] = true
	}
	if len(listed) < 10 {
		t.Fatalf("pvck output has only %d texts:\n%s", len(listed), pvckOut)
	}
	for _, m := range got {
		if !listed[fmt.Sprint(m.Offset)] {
			t.Errorf("holmes lists seqno %d at %d; pvck does not", m.Seqno, m.Offset)
		}
	}
}

func labMD0(t *testing.T) blockdev.Device {
	t.Helper()
	return labPVs(t)["pv0"]
}

func TestScanMatchesPvckRecord(t *testing.T) {
	for name, dev := range map[string]blockdev.Device{"md0": labMD0(t), "md1": labPVs(t)["pv1"]} {
		s, err := Scan(dev, dev.Size(), name)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/"+name+".pvck-metadata_all.after.txt"))
		if err != nil {
			t.Fatal(err)
		}
		comparePvck(t, string(rec), s.Metadata)
		// The installer's VG is current and sound; the old VG's texts
		// (seqno 45 the highest) are history.
		if cur := currentMetadata(s); cur == nil || cur.Seqno != 1 || cur.VGUUID != "5QBFsL-jXmA-c7qh-nX0B-nCFz-3Tvp-grc607" || cur.ChecksumOK == nil || !*cur.ChecksumOK {
			t.Errorf("%s: current = %+v", name, cur)
		}
	}
}

// With lvm2 installed, pvck reads the same history from md1's member
// (metadata 1.0 keeps the PV at byte 0) here and now.
func TestScanMatchesPvckLive(t *testing.T) {
	pvck, err := exec.LookPath("pvck")
	if err != nil {
		t.Skip("pvck not installed")
	}
	c := labPVs(t)["pv1"]
	conf := t.TempDir()
	os.WriteFile(filepath.Join(conf, "lvm.conf"), nil, 0o644)
	cmd := exec.Command(pvck, "--dump", "metadata_all", c.Name())
	cmd.Env = append(os.Environ(), "LVM_SYSTEM_DIR="+conf, "LVM_SUPPRESS_FD_WARNINGS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("pvck does not run here: %v: %s", err, out)
	}
	s, err := Scan(c, c.Size(), "md1")
	if err != nil {
		t.Fatal(err)
	}
	comparePvck(t, string(out), s.Metadata)
}

func TestScanUtilLinuxEmptyArea(t *testing.T) {
	d := openFixture(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/lvm2.img.xz"))
	s, err := Scan(d, d.Size(), "lvm2.img")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Headers) != 1 || len(s.Metadata) != 0 {
		t.Errorf("scan = %+v", s)
	}
}

// An installer's wipefs or a stray write takes the label; the metadata
// area at lvm2's default offset still gives the history.
func TestScanWithoutLabel(t *testing.T) {
	c := labPVs(t)["pv1"]
	img := make([]byte, 1<<20)
	if _, err := c.ReadAt(img, 0); err != nil {
		t.Fatal(err)
	}
	clear(img[512:1024])
	s, err := Scan(bytesReader(img), int64(len(img)), "wiped")
	if err != nil {
		t.Fatal(err)
	}
	if s.Label != nil || !strings.Contains(s.LabelError, "no LABELONE") || len(s.Metadata) < 20 {
		t.Errorf("scan = label %v, %q, %d texts", s.Label, s.LabelError, len(s.Metadata))
	}
	clear(img[4096:4608])
	if _, err := Scan(bytesReader(img), int64(len(img)), "wiped"); err == nil || !strings.Contains(err.Error(), "wiped: lvm label: no LABELONE") {
		t.Errorf("no label, no mda: err = %v", err)
	}
}

// wrap.img: the committed text (seqno 34) runs past the end of the
// buffer and continues at its start, over seqno 1.
func TestScanWrappedText(t *testing.T) {
	d := openFixture(t, fixture.Repo(t, "testdata/lvm/wrap.img.xz"))
	s, err := Scan(d, d.Size(), "wrap.img")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/wrap.pvck-metadata_all.txt"))
	if err != nil {
		t.Fatal(err)
	}
	comparePvck(t, string(rec), s.Metadata)
	cur := currentMetadata(s)
	if cur == nil || cur.Seqno != 34 || !cur.Wrapped || !cur.Complete || cur.ChecksumOK == nil || !*cur.ChecksumOK {
		t.Fatalf("current = %+v", cur)
	}
	want := recordedVG(t, "wrap-backup.vg")
	got, err := ParseText(cur.Text)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seqno != want.Seqno || !reflect.DeepEqual(got.LVs, want.LVs) || !reflect.DeepEqual(got.PVs, want.PVs) {
		t.Errorf("wrapped text differs from vgcfgbackup's file")
	}
}

func TestScanDamagedHeader(t *testing.T) {
	c := labPVs(t)["pv1"]
	img := make([]byte, 1<<20)
	if _, err := c.ReadAt(img, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   int
		want string
	}{
		{4096 + 40, "md1: lvm mda header at 4096: bad checksum"}, // a slot's offset
		{4096 + 8, `md1: lvm mda header at 4096: bad magic`},     // the magic
	} {
		bad := slices.Clone(img)
		bad[tc.at] ^= 0x40
		if _, err := Scan(bytesReader(bad), int64(len(bad)), "md1"); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("byte %d flipped: err = %v", tc.at, err)
		}
	}
	// A flipped bit in the label's metadata area list: the CRC refuses the
	// label, the area at the default offset is read all the same.
	bad := slices.Clone(img)
	bad[512+32+32+8+2*16+3] ^= 0x40
	s, err := Scan(bytesReader(bad), int64(len(bad)), "md1")
	if err != nil || s.Label != nil || !strings.Contains(s.LabelError, "sector 1 (offset 512): bad checksum") || len(s.Metadata) < 20 {
		t.Errorf("label CRC: %v %+v", err, s)
	}
}

// currentMetadata is the (last) text marked current, or nil.
func currentMetadata(s *PVScan) *Metadata {
	for i := len(s.Metadata) - 1; i >= 0; i-- {
		if s.Metadata[i].Current {
			return &s.Metadata[i]
		}
	}
	return nil
}
