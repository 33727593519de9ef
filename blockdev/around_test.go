package blockdev

import (
	"bytes"
	"math/rand"
	"slices"
	"testing"
)

// striped is a two-member raid0 (chunk bytes per chunk) whose reads on a
// member with a hole fail there, and whose mirror mode reads a chunk from
// the other member when the first cannot: the two ways an array passes a
// member's hole up, or routes around it.
type striped struct {
	m      [2]Device
	chunk  int64
	mirror bool
}

func (s *striped) Size() int64 {
	if s.mirror {
		return s.m[0].Size()
	}
	return 2 * s.m[0].Size()
}
func (s *striped) Name() string { return "md0" }
func (s *striped) Close() error { return nil }

func (s *striped) MapOffset(off int64) (Device, int64, bool) {
	if s.mirror {
		return s.m[0], off, true
	}
	c := off / s.chunk
	return s.m[c%2], (c/2)*s.chunk + off%s.chunk, true
}

func (s *striped) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		at := off + int64(done)
		n := int(min(int64(len(p)-done), s.chunk-at%s.chunk))
		dev, devOff, _ := s.MapOffset(at)
		if s.mirror { // byte by byte, from whichever member holds it
			n = 1
		}
		k, err := dev.ReadAt(p[done:done+n], devOff)
		if err != nil && s.mirror {
			k, err = s.m[1].ReadAt(p[done:done+n], devOff)
		}
		done += k
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

type named struct {
	Device
	name string
}

func (n named) Name() string { return n.name }

// bruteHoles asks d byte by byte which bytes it cannot read.
func bruteHoles(d Device) []Extent {
	var out []Extent
	for off := int64(0); off < d.Size(); off++ {
		if readable(d, off) {
			continue
		}
		if k := len(out); k > 0 && out[k-1].End() == off {
			out[k-1].Len++
		} else {
			out = append(out, Extent{off, 1})
		}
	}
	return out
}

// randomHoles are whole sectors, as disks lose them, or any bytes.
func randomHoles(r *rand.Rand, size int64, unit int64) []Extent {
	var h []Extent
	for range r.Intn(6) {
		h = append(h, Extent{r.Int63n(size/unit) * unit, unit * (1 + r.Int63n(size/4/unit))})
	}
	return h
}

func TestReadAroundFindsExactlyTheBytesTheDeviceCannotRead(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	const size = 3 * 4096
	for round := range 60 {
		data := make([]byte, size)
		r.Read(data)
		members := [2]Device{
			WithHoles(named{memDevice(data), "disk0"}, randomHoles(r, size, 1), "a"),
			WithHoles(named{memDevice(data), "disk1"}, randomHoles(r, size, 1), "b"),
		}
		if round%2 == 1 {
			members[0] = WithHoles(named{memDevice(data), "disk0"}, randomHoles(r, size, sector), "a")
			members[1] = WithHoles(named{memDevice(data), "disk1"}, randomHoles(r, size, sector), "b")
		}
		part, _ := Slice(members[0], 100, size-300, "mem:p1")
		devs := []Device{members[0], part, &striped{m: members, chunk: 1024}}
		if round%2 == 1 { // a mirror's copies lose whole sectors
			devs = append(devs, &striped{m: members, chunk: 1024, mirror: true})
		}
		for _, d := range devs {
			want := bruteHoles(d)
			off, n := int64(r.Intn(100)), d.Size()-int64(r.Intn(100))-100
			p := make([]byte, n)
			got, err := ReadAround(d, p, off)
			if err != nil {
				t.Fatalf("round %d %T: %v", round, d, err)
			}
			var clipped []Extent
			for _, e := range want {
				if s, e := max(e.Off, off), min(e.End(), off+n); s < e {
					clipped = append(clipped, Extent{s, e - s})
				}
			}
			if !slices.Equal(got, clipped) {
				t.Fatalf("round %d %T: holes %v, want %v", round, d, got, clipped)
			}
			// Every byte outside the holes is the device's own.
			for i := range p {
				at := off + int64(i)
				if slices.ContainsFunc(got, func(e Extent) bool { return e.Off <= at && at < e.End() }) {
					if p[i] != 0 {
						t.Fatalf("byte %d in a hole is %d, not zero", at, p[i])
					}
					continue
				}
				var b [1]byte
				d.ReadAt(b[:], at)
				if p[i] != b[0] {
					t.Fatalf("round %d %T: byte %d is %d, device says %d", round, d, at, p[i], b[0])
				}
			}
		}
	}
}

func TestUnreadableInCrossesChunks(t *testing.T) {
	d := WithHoles(memDevice(bytes.Repeat([]byte{1}, 10000)), []Extent{{1000, 5000}, {9000, 10}}, "x")
	got, err := UnreadableIn(d, 500, 9000, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Extent{{1000, 5000}, {9000, 10}}; !slices.Equal(got, want) {
		t.Fatalf("holes %v, want %v", got, want)
	}
}
