package scan

import (
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// Old mke2fs wrote group 0 into every backup superblock: scan places each
// copy of testdata/ext/ext3-oldbackup (primary zeroed) in its group of the
// filesystem at byte 0, as ext does, not as the primary of a filesystem
// starting 1024 bytes before it.
func TestScanPlacesOldStyleBackups(t *testing.T) {
	d, err := blockdev.OpenFile(fixture.Unpack(t, fixture.Repo(t, "testdata/ext/ext3-oldbackup.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := Scan(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]int{(8192 + 1) * 1024: 1, (3*8192 + 1) * 1024: 3, (5*8192 + 1) * 1024: 5, (7*8192 + 1) * 1024: 7}
	found := 0
	for _, s := range r.Signatures {
		if s.Ext == nil {
			continue
		}
		g, ok := want[s.Offset]
		if !ok || s.Start == nil || *s.Start != 0 || s.Ext.Group != g || s.Ext.Copy {
			t.Errorf("ext at %d: start %v, group %d, copy %v", s.Offset, s.Start, s.Ext.Group, s.Ext.Copy)
			continue
		}
		found++
	}
	if found != len(want) {
		t.Fatalf("found %d of the %d backups", found, len(want))
	}
}
