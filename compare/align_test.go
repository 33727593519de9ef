package compare

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// shiftedLocator reports fixed data areas by device name, standing in for
// members whose superblocks put the data at different offsets.
func shiftedLocator(areas map[string]DataArea) Locator {
	return func(d blockdev.Device) (DataArea, bool, error) {
		a, ok := areas[d.Name()]
		return a, ok, nil
	}
}

// TestDifferentDataOffsets takes the data area of a real raid10 half (lab
// pairs d2, data at 1 MiB) and places it at 3 MiB behind other bytes, as a
// member created with a larger data offset would hold it: compare and pairs
// must align the two data areas, not the devices.
func TestDifferentDataOffsets(t *testing.T) {
	raw, err := os.ReadFile(fixture.Unpack(t, fixture.Repo(t, "testdata/md/pairs/d2.img.xz")))
	if err != nil {
		t.Fatalf("md lab pairs fixture: %v", err)
	}
	data := raw[1<<20:]
	shifted := append(bytes.Repeat([]byte("other metadata "), 3<<20/15+1)[:3<<20], data...)
	shifted[3<<20+5000] ^= 1 // one byte written behind the other's back
	a, b := newMemDev("d2", raw), newMemDev("shifted", shifted)
	loc := shiftedLocator(map[string]DataArea{
		"d2":      {Offset: 1 << 20, Size: int64(len(data)), Metadata: "1.2", SuperOffset: 4096},
		"shifted": {Offset: 3 << 20, Size: int64(len(data)), Metadata: "1.2", SuperOffset: 4096},
	})
	rep, err := Devices(a, b, Request{Limit: -1, Locate: loc})
	if err != nil {
		t.Fatal(err)
	}
	if rep.StartA != 1<<20 || rep.StartB != 3<<20 || rep.DiffBytes != 1 || *rep.FirstDiff != 1<<20+5000 || len(rep.Notes) != 1 {
		t.Fatalf("data areas not aligned: %+v", rep)
	}
	unrelated := newMemDev("d0", []byte(strings.Repeat("unrelated array sector\n", len(raw)/23+1))[:len(raw)])
	pairs, err := Pairs([]blockdev.Device{unrelated, b, a}, PairOptions{Locate: loc})
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs.Pairs) != 1 || pairs.Pairs[0].DiffBytes != 1 || pairs.Pairs[0].Confidence != "high" ||
		len(pairs.Unpaired) != 1 || pairs.Unpaired[0] != "d0" {
		t.Fatalf("pairs %+v", pairs)
	}
}

// failingDev fails every read past a point, like a disk with a bad sector.
type failingDev struct {
	memDev
	bad int64
}

func (f failingDev) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.bad {
		return 0, errors.New("input/output error")
	}
	return f.memDev.ReadAt(p, off)
}

func TestReadErrorNamesDeviceAndOffset(t *testing.T) {
	good := newMemDev("good.img", make([]byte, 8<<20))
	bad := failingDev{newMemDev("disk03.img", make([]byte, 8<<20)), 5 << 20}
	_, err := Ranges(good, bad, Options{Length: 8 << 20})
	if err == nil || !strings.Contains(err.Error(), "disk03.img") || !strings.Contains(err.Error(), "at 5242880") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Hash(bad, 1<<20, nil); err == nil || !strings.Contains(err.Error(), "disk03.img") {
		t.Fatalf("hash err = %v", err)
	}
	if _, err := Pairs([]blockdev.Device{good, bad}, PairOptions{}); err == nil || !strings.Contains(err.Error(), "disk03.img") {
		t.Fatalf("pairs err = %v", err)
	}
}

// TestManifestGarbage feeds damaged manifests: never a panic, always an error.
func TestManifestGarbage(t *testing.T) {
	m, err := Hash(newMemDev("x.img", bytes.Repeat([]byte{7}, 3*MinPieceSize+5)), MinPieceSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	m.WriteTo(&text)
	good := text.Bytes()
	for i := 0; i < len(good); i += 3 {
		for _, c := range []byte{'0', '9', ' ', '\n', 'x', 0} {
			b := bytes.Clone(good)
			b[i] = c
			if bytes.Equal(b, good) {
				continue
			}
			// Accepted only if it still describes contiguous pieces
			// covering its size (a changed hash digit is undetectable).
			if got, err := ReadManifest(bytes.NewReader(b), "m"); err == nil {
				var end int64
				for _, p := range got.Pieces {
					if p.Offset != end || p.Length <= 0 || p.Length > got.BlockSize || len(p.Hash) != 64 {
						t.Fatalf("byte %d = %q: inconsistent manifest accepted: %+v", i, c, got)
					}
					end += p.Length
				}
				if end != got.Size {
					t.Fatalf("byte %d = %q: pieces cover %d of %d bytes", i, c, end, got.Size)
				}
			}
		}
	}
	huge := "holmes-hash-manifest 1\ndevice: x\nsize: 9223372036854775807\nblock-size: 4096\nalgorithm: blake3\npieces: 2251799813685248\n"
	if _, err := ReadManifest(strings.NewReader(huge), "huge"); err == nil {
		t.Fatal("manifest claiming 2^51 pieces accepted")
	}
}

// hugeDev claims a size it never has to deliver: checks that come before
// any read.
type hugeDev struct{ memDev }

func (hugeDev) Size() int64 { return 10 << 40 }

func TestHashBoundsPieces(t *testing.T) {
	_, err := Hash(hugeDev{newMemDev("10T.img", nil)}, 1<<20, nil)
	if err == nil || !strings.Contains(err.Error(), "use a block size of at least 10485760") {
		t.Fatalf("err = %v", err)
	}
}

// TestPairsProgress: concurrent confirmations add up to one progress that
// ends complete.
func TestPairsProgress(t *testing.T) {
	var devs []blockdev.Device
	for _, n := range []string{"0", "1", "2", "3", "4", "5"} {
		d, _ := labDev(t, "pairs/d"+n+".img.xz")
		devs = append(devs, d)
	}
	var last [2]int64
	rep, err := Pairs(devs, PairOptions{Locate: MD, Options: Options{Progress: func(done, total int64) { last = [2]int64{done, total} }}})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, p := range rep.Pairs {
		want += p.Compared
	}
	if len(rep.Pairs) != 3 || last[0] != want || last[1] != want {
		t.Fatalf("%d pairs, last progress %v, want %d of %d", len(rep.Pairs), last, want, want)
	}
}
