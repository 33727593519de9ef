package mdraid

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// labDMRaidSuperblocks are the dm-raid superblocks the kernel wrote in the
// raid lab (testdata/lab/lvm-thin.sh): r1's two and r5's three, read where
// the VG text (record/raid.vg) puts each _rmeta LV, with the size of the
// image beside it.
func labDMRaidSuperblocks(t testing.TB) map[string][]byte {
	t.Helper()
	const mib = 1 << 20
	pe := func(n int64) int64 { return mib + n*mib } // pe_start 1 MiB, 1 MiB extents
	at := map[string]struct {
		img string
		off int64
	}{
		"r1_rmeta_0": {"b", pe(0)}, "r1_rmeta_1": {"c", pe(0)},
		"r5_rmeta_0": {"b", pe(9)}, "r5_rmeta_1": {"c", pe(9)}, "r5_rmeta_2": {"d", pe(0)},
	}
	imgs := map[string][]byte{}
	out := map[string][]byte{}
	for name, w := range at {
		if imgs[w.img] == nil {
			b, err := os.ReadFile(fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/thin/raid-"+w.img+".img.xz")))
			if err != nil {
				t.Fatal(err)
			}
			imgs[w.img] = b
		}
		out[name] = imgs[w.img][w.off : w.off+DMRaidSuperblockSize]
	}
	return out
}

// The lab's superblocks say what dmsetup table said: raid1 over 2 images;
// raid5_ls (left-symmetric) with 128-sector chunks over 3; each image's
// position, data at offset 0, every image in sync, none failed.
func TestDMRaidSuperblockLab(t *testing.T) {
	for name, b := range labDMRaidSuperblocks(t) {
		image := int64(8 << 20)
		if strings.HasPrefix(name, "r5") {
			image = 4 << 20
		}
		sb, err := ParseDMRaidSuperblock(b, image)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		g, err := sb.Geometry()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pos := int(name[len(name)-1] - '0')
		want := Geometry{Level: "raid1", RaidDisks: 2}
		if strings.HasPrefix(name, "r5") {
			want = Geometry{Level: "raid5", Layout: "left-symmetric", ChunkBytes: 128 * 512, RaidDisks: 3}
		}
		if g != want || sb.ArrayPosition != pos || sb.DataOffset != 0 || sb.UsedSize != image || sb.RecoveryOffset != -1 ||
			sb.ResyncOffset != -1 || len(sb.Failed) != 0 || !sb.Extended || sb.Reshaping || sb.ArraySize != 8<<20 {
			t.Errorf("%s: %+v, geometry %+v", name, sb, g)
		}
	}
}

// Hostile superblocks fail naming the field; failed bits past the device
// count are ignored; an interrupted reshape parses but has no geometry.
func TestDMRaidSuperblockHostile(t *testing.T) {
	good := labDMRaidSuperblocks(t)["r5_rmeta_0"]
	const image = 4 << 20
	edit := func(off int, v uint64, width int) []byte {
		b := append([]byte(nil), good...)
		if width == 4 {
			binary.LittleEndian.PutUint32(b[off:], uint32(v))
		} else {
			binary.LittleEndian.PutUint64(b[off:], v)
		}
		return b
	}
	for _, c := range []struct {
		b    []byte
		want string
	}{
		{good[:100], "100 bytes"},
		{edit(0, 0x12345678, 4), "magic"},
		{edit(4, 6, 4), "compatible features"},
		{edit(8, 0, 4), "num_devices 0"},
		{edit(8, 254, 4), "num_devices 254"},
		{edit(12, 3, 4), "array_position 3 of 3"},
		{edit(12, 0xffffffff, 4), "array_position -1"},
		{edit(56, 1<<22, 4), "stripe_sectors"},
		{edit(32, 1<<40, 8), "disk_recovery_offset"},
		{edit(96, image/512+1, 8), "data_offset"},
		{edit(112, image/512+1, 8), "sectors"},
		{edit(144, 2, 4), "incompatible features"},
	} {
		if _, err := ParseDMRaidSuperblock(c.b, image); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q: %v", c.want, err)
		}
	}
	sb, err := ParseDMRaidSuperblock(edit(24, 1<<1|1<<40, 8), image)
	if err != nil || len(sb.Failed) != 1 || sb.Failed[0] != 1 {
		t.Errorf("failed bits: %+v %v", sb, err)
	}
	reshaping := edit(60, 1, 4)
	binary.LittleEndian.PutUint64(reshaping[64:], 2048)
	for _, c := range []struct {
		b    []byte
		want string
	}{
		{reshaping, "stopped at array sector 2048"},
		{edit(48, 7, 4), "unknown level 7"},
		{edit(52, 99, 4), "unknown raid5 layout 99"},
	} {
		sb, err := ParseDMRaidSuperblock(c.b, image)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sb.Geometry(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q: %v", c.want, err)
		}
	}
}

// FuzzDMRaidSuperblock mutates the lab's real superblocks: any input gives
// a superblock whose offsets fit the image, or an error; never a panic.
func FuzzDMRaidSuperblock(f *testing.F) {
	for _, b := range labDMRaidSuperblocks(f) {
		f.Add(b[:160], int64(4<<20))
	}
	f.Fuzz(func(t *testing.T, b []byte, image int64) {
		sb, err := ParseDMRaidSuperblock(b, image)
		if err != nil {
			return
		}
		if sb.DataOffset+sb.UsedSize > image || sb.DataOffset < 0 || sb.ArrayPosition >= sb.NumDevices || len(sb.Failed) > sb.NumDevices {
			t.Fatalf("out of bounds: %+v", sb)
		}
		_, _ = sb.Geometry()
	})
}
