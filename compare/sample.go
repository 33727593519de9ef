package compare

import (
	"bytes"

	"holmes/blockdev"
)

// sampleReadAhead is how many blocks each device may read ahead of the
// slowest one while sampling.
const sampleReadAhead = 16

// SampleBlocks reads the BlockSize block at each of offsets (ascending,
// relative to the start of each device's data area) on every device, the
// devices in parallel, each in one forward sweep, and hands visit the
// blocks of each offset in turn. blocks[i] is nil where device i's area
// ends before the block does. An offset where some device lacks the block
// (a blockdev.UnreadableError: a ddrescue gap, a region a collect archive
// did not keep) is not visited: it tells nothing about how the devices
// compare. Reading stops at the first other failed read.
func SampleBlocks(devs []blockdev.Device, areas []DataArea, offsets []int64, visit func(blocks [][]byte)) error {
	done := make(chan struct{})
	defer close(done) // stops the readers when visiting ends early
	type sample struct {
		b       []byte
		lacking bool
	}
	feeds := make([]chan sample, len(devs))
	errs := make([]error, len(devs))
	for i, d := range devs {
		feeds[i] = make(chan sample, sampleReadAhead)
		go func() {
			defer close(feeds[i])
			for _, off := range offsets {
				var s sample
				if off >= 0 && off+BlockSize <= areas[i].Size {
					s.b = make([]byte, BlockSize)
					if err := readFull(d, s.b, areas[i].Offset+off); err != nil {
						if _, ok := blockdev.AsUnreadable(err); !ok {
							errs[i] = err
							return
						}
						s.lacking = true
					}
				}
				select {
				case feeds[i] <- s:
				case <-done:
					return
				}
			}
		}()
	}
	blocks := make([][]byte, len(devs))
	for range offsets {
		lacking := false
		for i := range devs {
			s, ok := <-feeds[i]
			if !ok {
				return errs[i] // written before the feed was closed
			}
			blocks[i], lacking = s.b, lacking || s.lacking
		}
		if !lacking {
			visit(blocks)
		}
	}
	return nil
}

// Agreement counts, for every two devices, the sampled blocks that say
// something about whether they are copies (seen) and those that are
// identical (same). A block present on both sides says something unless
// both are the same single repeated byte (zeroed or never written): every
// empty disk would look like a mirror of every other.
type Agreement struct {
	n          int
	same, seen []int // [i*n+j], i < j
}

// NewAgreement counts over n devices.
func NewAgreement(n int) *Agreement {
	return &Agreement{n: n, same: make([]int, n*n), seen: make([]int, n*n)}
}

// Add counts the blocks of one sampled offset (nil where a device has none).
func (a *Agreement) Add(blocks [][]byte) {
	for i, x := range blocks {
		if x == nil {
			continue
		}
		for j := i + 1; j < len(blocks); j++ {
			y := blocks[j]
			if y == nil {
				continue
			}
			equal := bytes.Equal(x, y)
			if equal && IsConstant(x) {
				continue
			}
			a.seen[i*a.n+j]++
			if equal {
				a.same[i*a.n+j]++
			}
		}
	}
}

// Same and Seen are the counts for devices i and j.
func (a *Agreement) Same(i, j int) int { i, j = min(i, j), max(i, j); return a.same[i*a.n+j] }
func (a *Agreement) Seen(i, j int) int { i, j = min(i, j), max(i, j); return a.seen[i*a.n+j] }

// IsConstant says whether b is one byte repeated (zeroed, never written).
func IsConstant(b []byte) bool { return len(b) == 0 || bytes.Equal(b[1:], b[:len(b)-1]) }
