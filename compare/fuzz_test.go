package compare

import (
	"bytes"
	"testing"
)

// FuzzManifest reads hash manifests: any text must give a manifest whose
// pieces cover exactly its size, or an error; two manifests read compare.
func FuzzManifest(f *testing.F) {
	disk := bytes.Repeat([]byte("holmes manifest seed "), 3000)
	m, err := Hash(newMemDev("seed.img", disk), 4096, nil)
	if err != nil {
		f.Fatal(err)
	}
	var text bytes.Buffer
	if _, err := m.WriteTo(&text); err != nil {
		f.Fatal(err)
	}
	f.Add(text.Bytes())
	f.Add([]byte("holmes-hash-manifest 1\ndevice: d\nsize: 8192\nblock-size: 4096\nalgorithm: blake3\npieces: 2\n" +
		"0 4096 unreadable 0+512,1024+100\n4096 4096 unreadable 8000+192\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ReadManifest(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		ComparePieces(got, got)
		ComparePieces(got, m)
		var out bytes.Buffer
		if _, err := got.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		again, err := ReadManifest(&out, "rewritten")
		if err != nil {
			t.Fatalf("a manifest read back after writing fails: %v", err)
		}
		if len(again.Pieces) != len(got.Pieces) {
			t.Fatalf("%d pieces, %d after writing", len(got.Pieces), len(again.Pieces))
		}
	})
}
