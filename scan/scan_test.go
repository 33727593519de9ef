package scan

import (
	"encoding/binary"
	"io"
	"math/rand"
	"sync/atomic"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// countingDevice is a device of zeros that counts the bytes read from it.
type countingDevice struct {
	size int64
	read atomic.Int64
}

func (d *countingDevice) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	d.read.Add(int64(len(p)))
	return len(p), nil
}
func (d *countingDevice) Size() int64  { return d.size }
func (d *countingDevice) Name() string { return "zeros" }
func (d *countingDevice) Close() error { return nil }

// TestScanReadsBoundedAmount: on a 4 TiB device a default scan reads the two
// 64 MiB edges and a few sectors, not the disk.
func TestScanReadsBoundedAmount(t *testing.T) {
	d := &countingDevice{size: 4 << 40}
	r, err := Scan(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, limit := d.read.Load(), int64(2*DefaultEdge+1<<20); got > limit {
		t.Errorf("read %d bytes of a 4 TiB device, want at most %d", got, limit)
	}
	if len(r.Signatures) != 0 || len(r.Searched) != 2 {
		t.Errorf("zeros: signatures %v, searched %v", r.Signatures, r.Searched)
	}
}

// TestScanStepFindsPartitionsBeyondTheEdge: with a 1 MiB edge the lab's
// wiped disk shows nothing past its first MiB; --step 1M probes every MiB
// boundary and finds the md member, the PV and the filesystem again.
func TestScanStepFindsPartitionsBeyondTheEdge(t *testing.T) {
	d, err := blockdev.OpenFile(fixture.Unpack(t, fixture.Repo(t, "testdata/md/wiped-mbr/d0.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	narrow, err := Scan(d, Options{Edge: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(narrow.Signatures) != 0 {
		t.Errorf("1 MiB edge: found %d signatures; the partitions start later", len(narrow.Signatures))
	}
	stepped, err := Scan(d, Options{Edge: 1 << 20, Step: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	starts := map[string]int64{}
	for _, s := range stepped.Signatures {
		if s.Start != nil {
			if _, ok := starts[s.Kind]; !ok {
				starts[s.Kind] = *s.Start
			}
		}
	}
	want := map[string]int64{"md": 1 << 20, "lvm": 13 << 20, "ext": 14 << 20} // the first ext is in the LV
	for kind, start := range want {
		if starts[kind] != start {
			t.Errorf("--step: first %s starts at %d, want %d (all: %v)", kind, starts[kind], start, starts)
		}
	}
}

// memDevice is a device over a byte slice.
type memDevice struct{ b []byte }

func (d memDevice) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(d.b)) {
		return 0, io.EOF
	}
	n := copy(p, d.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
func (d memDevice) Size() int64  { return int64(len(d.b)) }
func (d memDevice) Name() string { return "mem" }
func (d memDevice) Close() error { return nil }

// TestScanGarbageWithMagics: random bytes with every magic sprinkled on
// random sectors (and random bytes after them) must scan without an error
// or a panic; whatever is reported must be flagged or self-consistent.
func TestScanGarbageWithMagics(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for round := 0; round < 20; round++ {
		b := make([]byte, 2<<20+rng.Intn(4096))
		rng.Read(b)
		for i := 0; i < 200; i++ {
			at := rng.Intn(len(b)/512-1) * 512
			switch rng.Intn(5) {
			case 0:
				binary.LittleEndian.PutUint32(b[at:], 0xa92b4efc)
				binary.LittleEndian.PutUint32(b[at+4:], uint32(rng.Intn(2)))
			case 1:
				binary.BigEndian.PutUint32(b[at:], 0xa92b4efc)
				binary.BigEndian.PutUint32(b[at+4:], 0)
			case 2:
				copy(b[at:], "LABELONE")
				binary.LittleEndian.PutUint64(b[at+8:], uint64(rng.Intn(5)))
				copy(b[at+24:], "LVM2 001")
			case 3:
				binary.LittleEndian.PutUint16(b[at+0x38:], 0xef53)
			case 4:
				binary.BigEndian.PutUint32(b[at+60:], 0x8374026b+uint32(rng.Intn(3)))
			}
		}
		r, err := Scan(memDevice{b}, Options{})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, s := range r.Signatures {
			if s.Offset < 0 || s.Offset >= int64(len(b)) {
				t.Fatalf("round %d: signature outside the device: %+v", round, s)
			}
		}
	}
}
