package mdsolve

import (
	"io"

	"holmes/blockdev"
)

// cachedDevice keeps the 4 KiB blocks the solver has read: thousands of
// candidate assemblies read the same few hundred member blocks, in other
// combinations.
type cachedDevice struct {
	blockdev.Device
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

func (c *cachedDevice) block(i int64) ([]byte, error) {
	if b, ok := c.blocks[i]; ok {
		return b, nil
	}
	if len(c.blocks) >= cacheMaxBlocks {
		clear(c.blocks)
	}
	b := make([]byte, min(cacheBlock, c.Size()-i*cacheBlock))
	if _, err := c.Device.ReadAt(b, i*cacheBlock); err != nil && err != io.EOF {
		return nil, err
	}
	c.blocks[i] = b
	return b, nil
}
