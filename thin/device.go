package thin

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"holmes/blockdev"
	"holmes/pdata"
)

// ErrLost is wrapped by reads of virtual blocks whose mapping the damaged
// metadata no longer says: they are not zeros, they are unknown.
var ErrLost = errors.New("the mapping of this block is lost with damaged pool metadata")

// Volume is a thin device read through its mapping over the pool's data
// device. Unmapped blocks read as zeros, as the kernel returns them.
type Volume struct {
	name      string
	size      int64
	blockSize int64
	data      blockdev.Device
	m         *Mapping
}

// OpenVolume maps thin device id of the pool over data (the pool's data
// device, an LVM pool's _tdata LV) as a device of size bytes named name.
// Runs that point past the end of data are lost, and said so in the
// mapping's problems. Closing the volume does not close data.
func (p *Pool) OpenVolume(id uint64, data blockdev.Device, size int64, name string) (*Volume, error) {
	if p.Device(id) == nil {
		return nil, fmt.Errorf("thin: %s: the pool metadata has no thin device %d", name, id)
	}
	if size < 0 {
		return nil, fmt.Errorf("thin: %s: negative size %d", name, size)
	}
	bs := p.Super.DataBlockBytes()
	m := p.Map(id)
	dataBlocks := uint64(data.Size() / bs)
	runs := m.Runs[:0:0]
	for _, r := range m.Runs {
		if r.Data+r.Length > dataBlocks {
			m.Lost = append(m.Lost, Lost{r.Origin, r.Origin + r.Length - 1})
			m.Problems = append(m.Problems, Problem{Tree: fmt.Sprintf("device %d mapping", id), Msg: fmt.Sprintf("data blocks %d-%d lie past the data device %s (%d blocks)", r.Data, r.Data+r.Length-1, data.Name(), dataBlocks), Lo: r.Origin, Hi: r.Origin + r.Length - 1})
			continue
		}
		runs = append(runs, r)
	}
	m.Runs = runs
	sort.Slice(m.Lost, func(i, j int) bool { return m.Lost[i].First < m.Lost[j].First })
	return &Volume{name: name, size: size, blockSize: bs, data: data, m: m}, nil
}

func (v *Volume) Size() int64  { return v.size }
func (v *Volume) Name() string { return v.name }
func (v *Volume) Close() error { return nil }

// Mapping is what the metadata maps of the volume, damage included.
func (v *Volume) Mapping() *Mapping { return v.m }

// ReadAt reads mapped blocks from the data device, unmapped ones as zeros,
// and fails at the first block whose mapping is lost.
func (v *Volume) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", v.name, off)
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		if pos >= v.size {
			return done, io.EOF
		}
		want := p[done:]
		if rest := v.size - pos; int64(len(want)) > rest {
			want = want[:rest]
		}
		n, err := v.readSpan(want, pos)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// readSpan reads from pos up to the end of the run, hole or lost range
// holding it.
func (v *Volume) readSpan(p []byte, pos int64) (int, error) {
	block := uint64(pos / v.blockSize)
	within := pos % v.blockSize
	if l, ok := v.lostAt(block); ok {
		return 0, blockdev.At(v, pos, fmt.Sprintf("thin: %s: virtual block %d (lost blocks %s)", v.name, block, pdata.KeyRange(l.First, l.Last)), ErrLost)
	}
	i := sort.Search(len(v.m.Runs), func(i int) bool { return v.m.Runs[i].Origin+v.m.Runs[i].Length > block })
	if i < len(v.m.Runs) && v.m.Runs[i].Origin <= block {
		r := v.m.Runs[i]
		if span := r.Origin + r.Length - block; span <= uint64(math.MaxInt64/v.blockSize) {
			if avail := int64(span)*v.blockSize - within; int64(len(p)) > avail {
				p = p[:avail]
			}
		}
		dataOff := int64(r.Data+block-r.Origin)*v.blockSize + within
		n, err := v.data.ReadAt(p, dataOff)
		if err != nil && !(err == io.EOF && n == len(p)) {
			return n, blockdev.At(v, pos, "thin: "+v.name+": read", err)
		}
		return n, nil
	}
	// A hole: zeros up to the next run or lost range.
	next := uint64(math.MaxUint64)
	if i < len(v.m.Runs) {
		next = v.m.Runs[i].Origin
	}
	if j := sort.Search(len(v.m.Lost), func(j int) bool { return v.m.Lost[j].First > block }); j < len(v.m.Lost) && v.m.Lost[j].First < next {
		next = v.m.Lost[j].First
	}
	// next > block; a hole longer than any read needs no cut (and its
	// length in bytes may not fit an int64).
	if span := next - block; span <= uint64(math.MaxInt64/v.blockSize) {
		if avail := int64(span)*v.blockSize - within; int64(len(p)) > avail {
			p = p[:avail]
		}
	}
	clear(p)
	return len(p), nil
}

func (v *Volume) lostAt(block uint64) (Lost, bool) {
	j := sort.Search(len(v.m.Lost), func(j int) bool { return v.m.Lost[j].Last >= block })
	if j < len(v.m.Lost) && v.m.Lost[j].First <= block {
		return v.m.Lost[j], true
	}
	return Lost{}, false
}

// MapOffset places a mapped byte on the data device; holes and lost blocks
// lie nowhere.
func (v *Volume) MapOffset(off int64) (blockdev.Device, int64, bool) {
	if off < 0 || off >= v.size {
		return nil, 0, false
	}
	block := uint64(off / v.blockSize)
	i := sort.Search(len(v.m.Runs), func(i int) bool { return v.m.Runs[i].Origin+v.m.Runs[i].Length > block })
	if i == len(v.m.Runs) || v.m.Runs[i].Origin > block {
		return nil, 0, false
	}
	r := v.m.Runs[i]
	return v.data, int64(r.Data+block-r.Origin)*v.blockSize + off%v.blockSize, true
}
