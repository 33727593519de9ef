package dmcache

import (
	"fmt"
	"io"

	"holmes/blockdev"
)

// Volume is a cached volume read as dm-cache reads it: an origin block the
// cache holds from the cache device, every other from the origin.
type Volume struct {
	name          string
	blockSize     int64
	origin, cache blockdev.Device
	cacheOfOrigin map[uint64]uint64
}

// OpenVolume reads the volume cached over origin (an LVM cached LV's
// _corig) by the cache device cache (a cache pool's _cdata), named name, as
// the metadata maps it. It refuses metadata that cannot be trusted
// (Trusted) and mappings that point past either device. Closing the volume
// closes neither device.
func (m *Metadata) OpenVolume(origin, cache blockdev.Device, name string) (*Volume, error) {
	if err := m.Trusted(); err != nil {
		return nil, fmt.Errorf("dmcache: %s: %w", name, err)
	}
	bs := m.Super.BlockBytes()
	originBlocks := uint64((origin.Size() + bs - 1) / bs)
	cacheBlocks := uint64(cache.Size() / bs)
	v := &Volume{name: name, blockSize: bs, origin: origin, cache: cache, cacheOfOrigin: make(map[uint64]uint64, len(m.Mappings))}
	for _, mp := range m.Mappings {
		switch {
		case mp.OriginBlock >= originBlocks:
			return nil, fmt.Errorf("dmcache: %s: cache block %d holds origin block %d, past the origin %s (%d blocks of %d bytes)", name, mp.CacheBlock, mp.OriginBlock, origin.Name(), originBlocks, bs)
		case mp.CacheBlock >= cacheBlocks:
			return nil, fmt.Errorf("dmcache: %s: cache block %d lies past the cache device %s (%d blocks of %d bytes)", name, mp.CacheBlock, cache.Name(), cacheBlocks, bs)
		}
		v.cacheOfOrigin[mp.OriginBlock] = mp.CacheBlock
	}
	return v, nil
}

func (v *Volume) Size() int64  { return v.origin.Size() }
func (v *Volume) Name() string { return v.name }
func (v *Volume) Close() error { return nil }

// ReadAt reads block by block from where dm-cache would.
func (v *Volume) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", v.name, off)
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		if pos >= v.Size() {
			return done, io.EOF
		}
		want := p[done:]
		if avail := min(v.blockSize-pos%v.blockSize, v.Size()-pos); int64(len(want)) > avail {
			want = want[:avail]
		}
		dev, devOff, _ := v.MapOffset(pos)
		n, err := dev.ReadAt(want, devOff)
		done += n
		if err != nil && !(err == io.EOF && n == len(want)) {
			return done, blockdev.At(v, pos, "dmcache: "+v.name+": read", err)
		}
	}
	return done, nil
}

// MapOffset places byte off on the cache device when the cache holds its
// block, on the origin otherwise.
func (v *Volume) MapOffset(off int64) (blockdev.Device, int64, bool) {
	if off < 0 || off >= v.Size() {
		return nil, 0, false
	}
	if cb, ok := v.cacheOfOrigin[uint64(off/v.blockSize)]; ok {
		return v.cache, int64(cb)*v.blockSize + off%v.blockSize, true
	}
	return v.origin, off, true
}
