package ext

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
	"holmes/lvmmeta"
	"holmes/mdraid"
)

// damagedMember stands for a failing or overwritten member disk: reads
// that touch [from, to) fail with EIO, or see byte flip inverted.
type damagedMember struct {
	blockdev.Device
	from, to int64 // failing range, if to > from
	flip     int64 // byte read inverted, if > 0
}

func (d *damagedMember) ReadAt(p []byte, off int64) (int, error) {
	if off < d.to && off+int64(len(p)) > d.from {
		return 0, &blockdev.Error{What: "read", Where: []blockdev.Location{{Dev: d.Name(), Off: off}}, Err: syscall.EIO}
	}
	n, err := d.Device.ReadAt(p, off)
	if d.flip > 0 && d.flip >= off && d.flip < off+int64(n) {
		p[d.flip-off] ^= 0xFF
	}
	return n, err
}

// labStack opens LV root of the lab's LVM-on-md fixture name through the
// original geometry, as the kernel ran it: LV over md0 over the member
// images. wrap, if set, may replace a member.
func labStack(t *testing.T, name string, geo mdraid.Geometry, wrap func(i int, d blockdev.Device) blockdev.Device) (*FS, blockdev.Device, []string) {
	t.Helper()
	var members []blockdev.Device
	var paths []string
	for i := range geo.RaidDisks {
		p := fixture.Unpack(t, fixture.Repo(t, fmt.Sprintf("testdata/md/%s/d%d.img.xz", name, i)))
		d, err := blockdev.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if wrap != nil {
			members = append(members, wrap(i, d))
		} else {
			members = append(members, d)
		}
		paths = append(paths, p)
	}
	arr, err := mdraid.Open(geo, members, "md0")
	if err != nil {
		t.Fatal(err)
	}
	pv, err := lvmmeta.Scan(arr, arr.Size(), "md0")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pv.Metadata, func(m lvmmeta.Metadata) bool { return m.Current })
	if i < 0 {
		t.Fatal("no current metadata on the PV")
	}
	vg, err := lvmmeta.ParseText(pv.Metadata[i].Text)
	if err != nil {
		t.Fatal(err)
	}
	lv, err := lvmmeta.OpenLV(vg, "root", map[string]blockdev.Device{"pv0": arr})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Open(lv, lv.Size(), Options{Superblock: SuperblockPrimary})
	if err != nil {
		t.Fatal(err)
	}
	return fs, lv, paths
}

// readAt reads n bytes at off of r.
func readAt(t *testing.T, r io.ReaderAt, off int64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return b
}

// TestErrorsNameTheDisk: a directory block damaged on one member of the
// lab's raid5 (LVM on md, ext4 in LV root) gives an ext error that names
// the LV byte, the array byte and the member image and byte; the member
// image really holds the LV's bytes there.
func TestErrorsNameTheDisk(t *testing.T) {
	geo := mdraid.Geometry{Level: "raid5", Layout: "left-symmetric", ChunkBytes: 65536, RaidDisks: 4, DataOffset: 1 << 20}
	fs, lv, paths := labStack(t, "solve-r5-ls", geo, nil)
	dir, err := fs.Lookup("/docs")
	if err != nil {
		t.Fatal(err)
	}
	m, err := fs.Map(dir)
	if err != nil {
		t.Fatal(err)
	}
	lvOff := int64(m.Runs[0].Physical) * fs.bs
	where := blockdev.Trace(lv, lvOff)
	if len(where) != 3 || where[0].Dev != "vg_solve_r5_ls/root" || where[1].Dev != "md0" || !slices.Contains(paths, where[2].Dev) {
		t.Fatalf("trace of LV byte %d: %v; want LV, md0, a member image", lvOff, where)
	}
	member := slices.Index(paths, where[2].Dev)
	f, err := blockdev.OpenFile(paths[member])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if block := readAt(t, lv, lvOff, int(fs.bs)); !bytes.Equal(block, readAt(t, f, where[2].Off, int(fs.bs))) {
		t.Fatalf("the member image does not hold the directory block at %v", where[2])
	}

	// The same directory with its block's last byte overwritten on that member.
	fs, _, _ = labStack(t, "solve-r5-ls", geo, func(i int, d blockdev.Device) blockdev.Device {
		if i != member {
			return d
		}
		return &damagedMember{Device: d, flip: where[2].Off + fs.bs - 1}
	})
	_, err = fs.ReadDir(dir)
	var located *blockdev.Error
	if !errors.As(err, &located) || !slices.Equal(located.Where, where) {
		t.Fatalf("damaged directory block: %v; want an error located at %v", err, where)
	}
	want := fmt.Sprintf("(vg_solve_r5_ls/root @ %d = md0 @ %d = %s @ %d): bad checksum", lvOff, where[1].Off, paths[member], where[2].Off)
	t.Log(err)
	if !strings.Contains(err.Error(), "ext: directory inode") || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// TestReadErrorsNameTheDisk: on the lab's raid1 (LVM on md, ext4 in LV
// root), both halves failing under an inode table block gives an error
// that follows the read from the LV through md0 to the failing member
// image and byte.
func TestReadErrorsNameTheDisk(t *testing.T) {
	geo := mdraid.Geometry{Level: "raid1", RaidDisks: 2, DataOffset: 1 << 20}
	fs, lv, paths := labStack(t, "solve-r1", geo, nil)
	off, err := fs.inodeLocation(RootIno)
	if err != nil {
		t.Fatal(err)
	}
	where := blockdev.Trace(lv, off)
	if len(where) != 3 {
		t.Fatalf("trace of the root inode: %v", where)
	}
	fs, _, _ = labStack(t, "solve-r1", geo, func(i int, d blockdev.Device) blockdev.Device {
		return &damagedMember{Device: d, from: where[2].Off, to: where[2].Off + 1}
	})
	_, err = fs.Inode(RootIno)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("root inode on failing disks: %v", err)
	}
	// md reads the second half when the first fails; when both fail, the
	// error names the first member's failure.
	want := fmt.Sprintf("ext: inode 2: read (vg_solve_r1/root @ %d = md0 @ %d): member 0 (%s @ %d): input/output error",
		off, where[1].Off, paths[0], where[2].Off)
	t.Log(err)
	if err.Error() != want {
		t.Errorf("error\n%q, want\n%q", err, want)
	}
}

// TestReadOutsideIsOutOfRange: a structure said to lie past the device's
// end is refused with blockdev.ErrOutOfRange, before any read.
func TestReadOutsideIsOutOfRange(t *testing.T) {
	img := loadImage(t, "ext4")
	fs, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.readAt(make([]byte, 1024), fs.size-512); !errors.Is(err, blockdev.ErrOutOfRange) {
		t.Errorf("read across the end: %v, want ErrOutOfRange", err)
	}
}
