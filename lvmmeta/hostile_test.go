package lvmmeta

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Regression tests for crafted metadata (issue 14); the hostile bytes are
// made here.

// textHeadBytes is the head of a metadata text, as lvm writes it, with
// no closing brace and no NUL.
func textHeadBytes(i int) []byte {
	return fmt.Appendf(nil, "vg%d {\nid = \"%06d-aaaa-bbbb-cccc-dddd-eeee-ffffff\"\nseqno = %d\n", i, i%1000000, i)
}

// ringOfHeads is a device whose metadata area at 4096 (size bytes in all)
// holds a valid header and a ring full of text heads without a NUL.
func ringOfHeads(size int) []byte {
	dev := make([]byte, 4096+size)
	h := dev[4096:][:mdaHeaderSize]
	copy(h[4:], mdaMagic)
	le := binary.LittleEndian
	le.PutUint32(h[20:], 1)
	le.PutUint64(h[24:], 4096)
	le.PutUint64(h[32:], uint64(size))
	le.PutUint32(h, checksum(initialCRC, h[4:]))
	ring := dev[4096+mdaHeaderSize:]
	for p, i := 0, 0; p < len(ring); i++ {
		p += copy(ring[p:], textHeadBytes(i))
	}
	return dev
}

func measure(t *testing.T, what string, limit time.Duration, maxAlloc uint64, fn func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	if d > limit {
		t.Errorf("%s took %v, want under %v", what, d, limit)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > maxAlloc {
		t.Errorf("%s allocated %d MiB, want under %d MiB", what, a>>20, maxAlloc>>20)
	}
}

// Issue 14.3: each NUL-less head cost a full copy of the ring (1.2 GB for
// a 256 KiB area, out of memory at 1 MiB).
func TestHostileRingOfHeads(t *testing.T) {
	dev := ringOfHeads(1 << 20)
	measure(t, "ReadHistory", 5*time.Second, 64<<20, func() {
		_, texts, err := ReadHistory(bytesReader(dev), int64(len(dev)), Area{Offset: 4096})
		if err != nil {
			t.Fatal(err)
		}
		if len(texts) < 10000 {
			t.Fatalf("%d texts, want one per head", len(texts))
		}
		for _, m := range texts {
			if m.Complete || len(m.Text) > 200 {
				t.Fatalf("text at %d: complete %v, %d bytes", m.Offset, m.Complete, len(m.Text))
			}
		}
	})
	measure(t, "carve", 10*time.Second, 256<<20, func() {
		c := NewCarver()
		if err := c.Scan(bytesReader(dev), int64(len(dev)), "ring"); err != nil {
			t.Fatal(err)
		}
	})
}

// Issue 14.10: a reader shorter than the device size claimed made
// ReadHistory allocate a negative length.
func TestHostileAreaPastTheDevice(t *testing.T) {
	dev := ringOfHeads(1 << 12)
	for _, size := range []int64{4096 + 100, 4096 + mdaHeaderSize} {
		if _, _, err := ReadHistory(bytesReader(dev), size, Area{Offset: 4096}); err == nil || !strings.Contains(err.Error(), "at 4096") {
			t.Errorf("device of %d bytes: %v", size, err)
		}
	}
}

// Issue 14.4: unclosed VG heads followed by megabytes of filler each read
// and kept a 16 MiB section (1000 heads ran out of memory).
func TestHostileCarveBomb(t *testing.T) {
	var b bytes.Buffer
	for i := range 1000 {
		b.Write(textHeadBytes(i))
	}
	b.Write(bytes.Repeat([]byte("filler = 1\n"), 17<<20/11))
	dev := b.Bytes()
	c := NewCarver()
	measure(t, "carve", 20*time.Second, 512<<20, func() {
		if err := c.Scan(bytesReader(dev), int64(len(dev)), "bomb"); err != nil {
			t.Fatal(err)
		}
	})
	res := c.Results()
	if len(res) != 1000 {
		t.Fatalf("%d versions, want 1000", len(res))
	}
	held := 0
	for _, r := range res {
		held += len(r.Section)
		if r.Complete {
			t.Fatalf("%s %d complete", r.VG, r.Seqno)
		}
	}
	if held != 0 {
		t.Errorf("incomplete texts hold %d bytes", held)
	}
}
