package compare

import "holmes/blockdev"

// stream reads [start, end) of d in aligned chunks of chunkSize bytes on a
// separate goroutine, one chunk ahead, and hands each chunk to fn in order,
// with the ranges of it d could not read (zeroed in p). Reading and
// consuming overlap, and memory stays at three chunks.
func stream(d blockdev.Device, start, end int64, chunkSize int, fn func(off int64, p []byte, holes []blockdev.Hole) error) error {
	type chunk struct {
		off   int64
		buf   []byte
		holes []blockdev.Hole
		err   error
	}
	free := make(chan []byte, 3)
	for range cap(free) {
		free <- make([]byte, chunkSize)
	}
	full := make(chan chunk, cap(free))
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(full)
		cs := int64(chunkSize)
		for off := start; off < end; {
			next := min(end, off-off%cs+cs)
			var buf []byte
			select {
			case buf = <-free:
			case <-done:
				return
			}
			buf = buf[:next-off]
			holes, err := readAround(d, buf, off)
			full <- chunk{off, buf, holes, err}
			if err != nil {
				return
			}
			off = next
		}
	}()
	for c := range full {
		if c.err != nil {
			return c.err
		}
		if err := fn(c.off, c.buf, c.holes); err != nil {
			return err
		}
		free <- c.buf[:cap(c.buf)]
	}
	return nil
}
