package scan

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// The thin lab's PV holds its pool's metadata where the kernel's dm table
// put the _tmeta LV; scan finds it there, with the transaction id
// thin_dump printed, and nothing else claims to be thin metadata.
func TestScanFindsThinMetadata(t *testing.T) {
	d, err := blockdev.OpenFile(fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/thin/pve.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	table, _ := os.ReadFile(fixture.Repo(t, "testdata/lvm/thin/record/tmeta-table.txt"))
	f := strings.Fields(string(table)) // 0 LEN linear MAJ:MIN OFFSET
	sectors, _ := strconv.ParseInt(f[4], 10, 64)
	length, _ := strconv.ParseInt(f[1], 10, 64)
	r, err := Scan(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var found []*Signature
	for _, s := range r.Signatures {
		if s.Kind == "thin" {
			found = append(found, s)
		}
	}
	if len(found) != 1 || found[0].Offset != sectors*512 || found[0].Thin.TransactionID != 5 || !found[0].Thin.ChecksumOK ||
		found[0].Thin.MetadataSize != length*512 || found[0].Thin.DataBlockSize != 65536 || found[0].Error != "" {
		t.Errorf("thin signatures %+v (want one at %d)", found, sectors*512)
	}
}

// The cache lab's second PV holds the two cache pools' metadata where the
// kernel's dm tables put the _cmeta LVs; scan finds both there, with the
// format, cache blocks and metadata size, and nothing else claims to be
// dm-cache metadata.
func TestScanFindsCacheMetadata(t *testing.T) {
	d, err := blockdev.OpenFile(fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/cache/pv-b.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := Scan(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]uint32{}
	for _, lv := range []string{"wb2", "wb1"} {
		table, _ := os.ReadFile(fixture.Repo(t, "testdata/lvm/cache/record/cmeta-table-"+lv+".txt"))
		f := strings.Fields(string(table)) // 0 LEN linear MAJ:MIN OFFSET
		sectors, _ := strconv.ParseInt(f[4], 10, 64)
		want[sectors*512] = map[string]uint32{"wb2": 2, "wb1": 1}[lv]
	}
	n := 0
	for _, s := range r.Signatures {
		if s.Kind != "cache" {
			continue
		}
		n++
		if c := s.Cache; want[s.Offset] != c.Format || c.CacheBlocks != 96 || c.BlockSize != 65536 || c.MetadataSize != 5<<20 || !c.CleanShutdown || !c.ChecksumOK || s.Error != "" {
			t.Errorf("cache signature at %d: %+v", s.Offset, c)
		}
	}
	if n != 2 {
		t.Errorf("%d cache signatures, want 2", n)
	}
}
