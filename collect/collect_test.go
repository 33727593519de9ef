package collect

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/internal/fixture"
)

func openPlain(s string) (blockdev.Device, error) { return blockdev.Open(s, nil) }

// collectTo collects specs into a new archive file and returns its path.
func collectTo(t *testing.T, specs ...string) (string, *Manifest) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := Collect(context.Background(), specs, openPlain, f, Options{Now: func() time.Time { return time.Unix(1796169600, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return path, m
}

// fileNames lists the paths of every file ext's walk finds on d.
func fileNames(t *testing.T, d blockdev.Device) []string {
	t.Helper()
	fs, err := ext.Open(d, d.Size(), ext.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found, err := fs.FindAll("", "*", false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range found.Matches {
		names = append(names, m.Path)
	}
	slices.Sort(names)
	return names
}

// TestCollectExtImage: the archive of a filesystem made by mke2fs holds its
// regions byte for byte, reads as "not collected" elsewhere, and keeps
// enough of the filesystem (superblocks, descriptors, inode tables and
// directories a walk reads) for the same walk to find the same files.
func TestCollectExtImage(t *testing.T) {
	img := fixture.SmallExt(t, "ext4")
	path, m := collectTo(t, img)
	if len(m.Devices) != 1 || m.Devices[0].Name != img || len(m.Devices[0].Regions) == 0 {
		t.Fatalf("manifest %+v", m.Devices)
	}
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if !IsArchive(path) || IsArchive(img) {
		t.Errorf("IsArchive: archive %v, image %v", IsArchive(path), IsArchive(img))
	}
	orig, err := blockdev.OpenFile(img)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	d, err := a.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Size() != orig.Size() || d.Name() != img {
		t.Errorf("archived device %s of %d bytes, want %s of %d", d.Name(), d.Size(), img, orig.Size())
	}
	var kept int64
	for _, r := range a.Manifest.Devices[0].Regions {
		got, want := make([]byte, r.Length), make([]byte, r.Length)
		if _, err := d.ReadAt(got, r.Offset); err != nil {
			t.Fatalf("region %d+%d: %v", r.Offset, r.Length, err)
		}
		if _, err := orig.ReadAt(want, r.Offset); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("region %d+%d differs from the image", r.Offset, r.Length)
		}
		if len(r.What) == 0 {
			t.Errorf("region %d+%d says nothing of what it holds", r.Offset, r.Length)
		}
		kept += r.Length
	}
	if kept >= orig.Size() {
		t.Errorf("kept %d of %d bytes: everything", kept, orig.Size())
	}
	holes := blockdev.HolesOf(d)
	if len(holes) == 0 {
		t.Fatal("no holes")
	}
	_, err = d.ReadAt(make([]byte, 1), holes[0].Off)
	if u, ok := blockdev.AsUnreadable(err); !ok || u.Why != NotCollected || u.Dev != img {
		t.Errorf("read outside the regions: %v", err)
	}
	if got, want := fileNames(t, d), fileNames(t, orig); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("files through the archive %v, on the image %v", got, want)
	}
}

// TestOpenRefusesDamage: a byte changed in a region's member, a member cut
// off and a manifest naming a member not there are errors that name the
// device and region.
func TestOpenRefusesDamage(t *testing.T) {
	img := fixture.SmallExt(t, "ext2")
	path, _ := collectTo(t, img)
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	regs := a.Manifest.Devices[0].Regions
	r := regs[len(regs)-1]
	bad := slices.Clone(raw)
	bad[a.at[r.File.File]+r.Length/2] ^= 0x40
	damaged := filepath.Join(t.TempDir(), "damaged.tar")
	if err := os.WriteFile(damaged, bad, 0o444); err != nil {
		t.Fatal(err)
	}
	_, err = Open(damaged)
	if err == nil || !strings.Contains(err.Error(), img) || !strings.Contains(err.Error(), "BLAKE3") ||
		!strings.Contains(err.Error(), r.File.File[strings.LastIndex(r.File.File, "/")+1:]) {
		t.Errorf("damaged region: %v", err)
	}
	cut := filepath.Join(t.TempDir(), "cut.tar")
	if err := os.WriteFile(cut, raw[:a.at[r.File.File]], 0o444); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(cut); err == nil {
		t.Error("an archive cut short opens")
	}
}
