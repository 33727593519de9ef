package mdraid

import (
	"bytes"
	"math/rand"
	"os"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

func utilLinuxImage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/"+name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func examineBytes(t *testing.T, img []byte) []*Superblock {
	t.Helper()
	sbs, err := Examine(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	return sbs
}

func mustJSON(t *testing.T, sb *Superblock) string {
	t.Helper()
	b, err := sb.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBadChecksumIsReportedNotDropped(t *testing.T) {
	img := utilLinuxImage(t, "mdraid-1.img.xz")
	img[4096+sb1SetName] = 'X' // the name is covered by the checksum
	sbs := examineBytes(t, img)
	if len(sbs) != 1 || sbs[0].ChecksumOK || sbs[0].Name != "Xroy.t-8ch.de:0" {
		t.Fatalf("got %+v; want the superblock, flagged", sbs)
	}
	if len(sbs[0].Problems) == 0 || !strings.Contains(sbs[0].Problems[0], "checksum") {
		t.Errorf("problems %q do not mention the checksum", sbs[0].Problems)
	}
}

func TestTruncatedMember(t *testing.T) {
	img := utilLinuxImage(t, "mdraid-1.img.xz")[:24*512] // the smallest device mdadm looks at
	sbs := examineBytes(t, img)
	if len(sbs) != 1 || sbs[0].Version != "1.2" || !sbs[0].ChecksumOK || len(sbs[0].Problems) != 1 ||
		!strings.Contains(sbs[0].Problems[0], "past the end of the device") {
		t.Fatalf("truncated 1.2 member: %+v", sbs)
	}
}

// TestExamineAtInfersVersion finds a 1.2 member that starts 1 MiB into a
// larger device, as scan does after a partition table is lost.
func TestExamineAtInfersVersion(t *testing.T) {
	member := utilLinuxImage(t, "mdraid-1.img.xz")
	disk := append(make([]byte, 1<<20), member...)
	sb, err := ExamineAt(bytes.NewReader(disk), int64(len(disk)), 1<<20+4096)
	if err != nil || sb == nil {
		t.Fatalf("ExamineAt: %v %v", sb, err)
	}
	if sb.Version != "1.2" || !sb.ChecksumOK || sb.Offset-sb.SuperOffset != 1<<20 || len(sb.Problems) != 0 {
		t.Errorf("got version %s offset %d super offset %d problems %q", sb.Version, sb.Offset, sb.SuperOffset, sb.Problems)
	}
	if sb, _ := ExamineAt(bytes.NewReader(disk), int64(len(disk)), 512); sb != nil {
		t.Errorf("found a superblock in zeros: %+v", sb)
	}
}

// TestDamagedSuperblocksNeverPanic scribbles over real superblocks: every
// result must decode (flagged) without panicking or reading wild offsets.
func TestDamagedSuperblocksNeverPanic(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, name := range []string{"mdraid.img.xz", "mdraid-1.img.xz"} {
		img := utilLinuxImage(t, name)
		sb := examineBytes(t, img)[0]
		// A 128 KiB device has its 0.90 superblock at 64 KiB; 1.2 stays at 4 KiB.
		at := int64(4096)
		if sb.Version == "0.90" {
			at = 64 << 10
		}
		for i := 0; i < 1000; i++ {
			disk := make([]byte, 128<<10)
			bad := disk[at : at+4096]
			copy(bad, img[sb.Offset:])
			for n := rng.Intn(16) + 1; n > 0; n-- {
				bad[8+rng.Intn(len(bad)-8)] = byte(rng.Intn(256)) // keep the magic and version
			}
			found := examineBytes(t, disk)
			if len(found) != 1 {
				t.Fatalf("%s: %d superblocks after damage", name, len(found))
			}
			mustJSON(t, found[0])
		}
	}
}

func TestLayoutNames(t *testing.T) {
	for _, c := range []struct {
		level  int32
		layout uint32
		want   string
	}{
		{10, 0x102, "n2"}, {10, 0x201, "f2"}, {10, 0x10201, "o2"}, {10, 0x103, "n3"},
		{10, 0x202, "n2f2"}, {10, 0x101, "n1"},
		{5, 2, "left-symmetric"}, {5, 0, "left-asymmetric"}, {5, 99, "unknown(99)"},
		{6, 18, "left-symmetric-6"}, {6, 20, "parity-first-6"}, {6, 8, "ddf-zero-restart"},
		{1, 0, ""}, {4, 5, ""},
	} {
		if got := layoutName(c.level, c.layout, 0); got != c.want {
			t.Errorf("level %d layout %#x: %q, want %q", c.level, c.layout, got, c.want)
		}
	}
	if got := layoutName(0, 2, featureRAID0Layout); got != "alternate" {
		t.Errorf("raid0 layout 2: %q", got)
	}
}
