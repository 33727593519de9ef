package blockdev

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// sectorDevice reads as zeros except for the sectors planted in it: a
// device of any size built from a few sectors.
type sectorDevice struct {
	size    int64
	sectors map[int64][]byte // sector number → 512 bytes
}

func (d sectorDevice) ReadAt(p []byte, off int64) (int, error) {
	return readAtBounded(readerAtFunc(func(p []byte, off int64) (int, error) {
		clear(p)
		for s, b := range d.sectors {
			o := s * 512
			if o < off+int64(len(p)) && o+512 > off {
				lo := max(o, off)
				copy(p[lo-off:], b[lo-o:])
			}
		}
		return len(p), nil
	}), d.size, p, off)
}
func (d sectorDevice) Size() int64  { return d.size }
func (d sectorDevice) Name() string { return "fuzz" }
func (d sectorDevice) Close() error { return nil }

// encodeSectors is the fuzz input form of a device: its size in sectors,
// then (sector number, 512 bytes) pairs.
func encodeSectors(img []byte) []byte {
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(img)/512))
	for s := 0; s+512 <= len(img); s += 512 {
		if !bytes.Equal(img[s:s+512], make([]byte, 512)) {
			out = binary.LittleEndian.AppendUint32(out, uint32(s/512))
			out = append(out, img[s:s+512]...)
		}
	}
	return out
}

func decodeSectors(b []byte) sectorDevice {
	d := sectorDevice{sectors: map[int64][]byte{}}
	if len(b) < 4 {
		return d
	}
	d.size = int64(binary.LittleEndian.Uint32(b)%(1<<20)) * 512 // up to 512 MiB
	for b = b[4:]; len(b) >= 4+512 && len(d.sectors) < 256; b = b[4+512:] {
		d.sectors[int64(binary.LittleEndian.Uint32(b))] = b[4 : 4+512]
	}
	return d
}

// FuzzPartitionTable reads MBR, EBR chains and GPT (primary and backup)
// from devices built of the lab images' non-zero sectors, mutated, and
// opens every partition found.
func FuzzPartitionTable(f *testing.F) {
	for _, name := range []string{"mbr-logical", "mbr-ebr-loop", "gpt", "gpt-bad-primary", "mbr-over-gpt"} {
		img, err := os.ReadFile(fixture.Unpack(f, fixture.Repo(f, "testdata/blockdev/"+name+".img.xz")))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(encodeSectors(img))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := decodeSectors(b)
		pt, err := ReadPartitionTable(d)
		if err != nil {
			return
		}
		for _, p := range pt.Partitions {
			if p.Start < 0 || p.Size < 0 {
				t.Fatalf("partition %d with a negative start or size: %+v", p.Number, p)
			}
			part, err := OpenPartition(d, p.Number)
			if p.Start+p.Size > d.size {
				// Listed, as a truncated image's partitions are, but
				// with a problem that names it, and never opened.
				if !slices.ContainsFunc(pt.Problems, func(s string) bool {
					return strings.HasPrefix(s, fmt.Sprintf("partition %d ", p.Number))
				}) {
					t.Fatalf("partition %d runs past the device with no problem noted: %+v %q", p.Number, p, pt.Problems)
				}
				if err == nil {
					t.Fatalf("partition %d runs past the device but opens", p.Number)
				}
				continue
			}
			if err == nil {
				part.ReadAt(make([]byte, 512), 0)
			}
		}
	})
}

// FuzzDevSpec parses DEV names (PATH, PATH:pN, PATH@START+LEN, stacked)
// against one real partitioned image.
func FuzzDevSpec(f *testing.F) {
	img := fixture.Unpack(f, fixture.Repo(f, "testdata/blockdev/mbr-logical.img.xz"))
	for _, s := range []string{img, img + ":p5", img + "@1M+4M", img + ":p2@1s+2s", img + "@0x10", img + ":p99", img + "@-1", img + "@1T", "x@1K", img + ":p1:p1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ParseSize(spec)
		Paths(spec)
		if !strings.HasPrefix(spec, img) {
			return // other paths could name a FIFO or a device of this machine
		}
		if d, err := Open(spec, nil); err == nil {
			if d.Size() < 0 {
				t.Fatalf("%q: size %d", spec, d.Size())
			}
			d.ReadAt(make([]byte, 512), 0)
			d.Close()
		}
	})
}
