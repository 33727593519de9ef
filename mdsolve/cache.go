package mdsolve

import (
	"io"
	"sync"

	"holmes/blockdev"
)

// cachedDevice keeps the 4 KiB blocks the solver has read: thousands of
// candidate assemblies read the same few hundred member blocks, in other
// combinations. Like every io.ReaderAt it may be read from several
// goroutines at once: the map is guarded.
type cachedDevice struct {
	blockdev.Device
	mu     sync.Mutex
	blocks map[int64][]byte
}

const (
	cacheBlock     = 4096
	cacheMaxBlocks = 1 << 16 // 256 MiB; past it the cache starts over
)

func newCachedDevice(d blockdev.Device) *cachedDevice {
	return &cachedDevice{Device: d, blocks: map[int64][]byte{}}
}

func (c *cachedDevice) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= c.Size() {
		return c.Device.ReadAt(p, off) // let the device report it
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		if pos >= c.Size() {
			return done, io.EOF
		}
		b, err := c.block(pos / cacheBlock)
		if err != nil {
			return done, err
		}
		n := copy(p[done:], b[pos%cacheBlock:])
		if n == 0 {
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

// block returns cached block i, reading it on a miss. The lock is not held
// during the read: two goroutines missing the same block both read it, and
// blocks are never changed once cached, so either copy is right.
func (c *cachedDevice) block(i int64) ([]byte, error) {
	c.mu.Lock()
	b, ok := c.blocks[i]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	b = make([]byte, min(cacheBlock, c.Size()-i*cacheBlock))
	if _, err := c.Device.ReadAt(b, i*cacheBlock); err != nil && err != io.EOF {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.blocks) >= cacheMaxBlocks {
		clear(c.blocks)
	}
	c.blocks[i] = b
	return b, nil
}
