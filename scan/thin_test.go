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
