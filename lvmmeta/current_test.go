package lvmmeta

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// ReadCurrent reads only the committed text, and finds the same one Scan
// marks current in the history: on the lab PVs, on a text that wraps round
// the buffer, and on a PV whose label was wiped.
func TestReadCurrentAgreesWithScan(t *testing.T) {
	wrap := openFixture(t, fixture.Repo(t, "testdata/lvm/wrap.img.xz"))
	pv1 := labPVs(t)["pv1"]
	wiped := make([]byte, 1<<20)
	if _, err := pv1.ReadAt(wiped, 0); err != nil {
		t.Fatal(err)
	}
	clear(wiped[512:1024])
	for name, r := range map[string]interface {
		ReadAt([]byte, int64) (int, error)
	}{"md0": labMD0(t), "md1": pv1, "wrap.img": wrap, "wiped": bytesReader(wiped)} {
		size := int64(len(wiped))
		if d, ok := r.(interface{ Size() int64 }); ok {
			size = d.Size()
		}
		s, err := Scan(r, size, name)
		if err != nil {
			t.Fatal(err)
		}
		want := currentMetadata(s)
		got, vg, err := ReadCurrent(r, size)
		if err != nil || want == nil {
			t.Fatalf("%s: %v (Scan's current %v)", name, err, want)
		}
		if got.Offset != want.Offset || got.Size != want.Size || got.Checksum != want.Checksum || *got.ChecksumOK != *want.ChecksumOK ||
			got.Wrapped != want.Wrapped || !bytes.Equal(got.Text, want.Text) || vg.Seqno != want.Seqno || vg.ID != want.VGUUID {
			t.Errorf("%s: ReadCurrent %+v, Scan's current %+v", name, got, want)
		}
	}
	// Neither label nor metadata area: not a PV, and ReadVG reads the
	// bytes as a metadata file.
	clear(wiped[4096:4608])
	if _, _, err := ReadCurrent(bytesReader(wiped), int64(len(wiped))); !errors.Is(err, ErrNotPV) {
		t.Errorf("no label, no area: %v", err)
	}
	text := []byte("vg {\n\tid = \"x\"\n\tseqno = 4x\n}\n")
	if _, err := ReadVG(bytes.NewReader(text), int64(len(text))); err == nil || !strings.Contains(err.Error(), `bad number "4x"`) {
		t.Errorf("ReadVG of a text file: %v", err)
	}
}
