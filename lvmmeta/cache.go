package lvmmeta

import (
	"fmt"
	"strings"

	"holmes/blockdev"
	"holmes/dmcache"
	"holmes/pdata"
)

// Cached says what a cache, writecache or vdo LV (or the pool or fast LV
// behind one) is, and whether its data can be read without that layer.
// holmes reads a dm-cache LV through its cache (package dmcache); it reads
// no writecache or vdo layer, and says which sub-LV holds the volume's
// bytes, when one does.
type Cached struct {
	LV   string `json:"lv"`
	Type string `json:"type"` // the segment type: cache, writecache, vdo, cache-pool, vdo-pool
	// Origin is the sub-LV with the volume's own bytes (lvm's _corig or
	// _wcorig), "" where there is none.
	Origin string `json:"origin,omitempty"`
	Fast   string `json:"fast,omitempty"` // the cache pool, cache volume or writecache LV
	// Mode is dm-cache's cache_mode (writethrough, writeback,
	// passthrough); "" when the text gives none.
	Mode string `json:"mode,omitempty"`
	// OriginComplete says the origin alone holds every write: reading it
	// reads the volume.
	OriginComplete bool `json:"origin_complete"`
	// Metadata is what the dm-cache metadata says, when holmes read it
	// (a dm-cache LV whose PVs were given).
	Metadata *CacheMetadata `json:"metadata,omitempty"`
	// Why explains, in a sentence that names what to read instead.
	Why string `json:"why"`
}

// CacheMetadata is what a dm-cache LV's metadata says of its cache.
type CacheMetadata struct {
	Device        string `json:"device"` // where it was read: the _cmeta LV, or the cache volume's metadata area
	Format        uint32 `json:"format"` // 1, or 2 (dirty bits in a bitset)
	CleanShutdown bool   `json:"clean_shutdown"`
	BlockSize     int64  `json:"block_size"` // bytes per cache block
	CacheBlocks   uint32 `json:"cache_blocks"`
	Mapped        int    `json:"mapped"` // cache blocks holding an origin block
	// Dirty counts the mapped blocks holding writes the origin lacks (after
	// a shutdown that was not clean, every mapped block, as the kernel
	// counts them); DirtyOrigin are their origin blocks.
	Dirty       int             `json:"dirty"`
	DirtyOnDisk int             `json:"dirty_on_disk"`
	DirtyOrigin []dmcache.Range `json:"dirty_origin_blocks"`
	Problems    []pdata.Problem `json:"problems"`
	// Untrusted says why the metadata cannot be taken as the cache's
	// state, "" when it can; holmes reads through the cache only when it
	// can.
	Untrusted string `json:"untrusted,omitempty"`
}

// cacheTypes are the segment types Cache describes.
var cacheTypes = map[string]bool{"cache": true, "writecache": true, "vdo": true, "cache-pool": true, "vdo-pool": true}

// IsCached says whether a segment is one Cache describes.
func (s *Segment) IsCached() bool { return cacheTypes[s.Kind()] }

// Cache describes the cache, writecache or vdo LV name from the VG text;
// given the PVs (pvs not nil), a dm-cache LV's metadata is read too, and
// says which blocks are dirty.
func (vg *VG) Cache(name string, pvs map[string]blockdev.Device) (*Cached, error) {
	l := vg.LV(name)
	if l == nil {
		return nil, fmt.Errorf("lvm: volume group %s has no logical volume %q", vg.Name, name)
	}
	full := vg.Name + "/" + name
	if len(l.Segments) != 1 || !l.Segments[0].IsCached() {
		return nil, fmt.Errorf("lvm: %s is not a cache, writecache or vdo LV of one segment", full)
	}
	seg := l.Segments[0]
	c := &Cached{LV: full, Type: seg.Type, Origin: seg.Refs["origin"], Mode: seg.CacheMode}
	origin := vg.Name + "/" + c.Origin
	switch seg.Kind() {
	case "cache":
		c.Fast = seg.Refs["cache_pool"]
		c.Mode = vg.cacheMode(seg)
		c.describeCache(origin)
		if pvs != nil {
			c.readMetadata(vg, name, pvs, origin)
		}
	case "writecache":
		c.Fast = seg.Refs["writecache"]
		c.Why = fmt.Sprintf("a dm-writecache LV: writes land in the fast LV %s and reach the origin %s only when written back, so the origin alone may be stale; holmes does not read writecache metadata, so it cannot tell which blocks were not yet written back", c.Fast, origin)
	case "vdo":
		c.Fast = seg.Refs["vdo_pool"]
		c.Why = fmt.Sprintf("a VDO LV: its pool %s keeps the volume's blocks deduplicated and compressed behind VDO's own block map; there is no origin holding its bytes, and holmes does not read VDO", vg.Name+"/"+c.Fast)
	case "cache-pool":
		c.Why = fmt.Sprintf("a dm-cache pool (cache mode %q): it holds cached copies of another LV's blocks, not a volume; read the cached LV", seg.CacheMode)
	case "vdo-pool":
		c.Why = fmt.Sprintf("a VDO pool: its data LV %s holds VDO's deduplicated, compressed blocks, not a volume's bytes; holmes does not read VDO", vg.Name+"/"+seg.Refs["data"])
	}
	return c, nil
}

// cacheMode is a cache segment's cache_mode, or its cache pool's: a cache
// pool keeps the mode in its own segment.
func (vg *VG) cacheMode(seg *Segment) string {
	if pool := vg.LV(seg.Refs["cache_pool"]); seg.CacheMode == "" && pool != nil && len(pool.Segments) == 1 {
		return pool.Segments[0].CacheMode
	}
	return seg.CacheMode
}

// describeCache says what the VG text alone says of a dm-cache LV.
func (c *Cached) describeCache(origin string) {
	switch c.Mode {
	case "writethrough":
		c.OriginComplete = true
		c.Why = fmt.Sprintf("a dm-cache LV in writethrough mode: every write reached the origin before it completed, so the origin %s holds the volume; holmes reads %s through the cache %s as dm-cache does, given its PVs", origin, c.LV, c.Fast)
	case "passthrough":
		c.OriginComplete = true
		c.Why = fmt.Sprintf("a dm-cache LV in passthrough mode: dm-cache reads every block from the origin %s (the cache %s may be stale), and so does holmes", origin, c.Fast)
	case "writeback":
		c.Why = fmt.Sprintf("a dm-cache LV in writeback mode: blocks written since they were last flushed may be only in the cache %s (dirty), so its origin %s alone may be stale; given its PVs, holmes reads the cache metadata for which blocks are dirty and reads %s through the cache as dm-cache does", c.Fast, origin, c.LV)
	default:
		c.Why = fmt.Sprintf("a dm-cache LV whose cache mode the VG text does not give: if it was writethrough its origin %s holds the volume, if writeback dirty blocks may be only in the cache %s; given its PVs, holmes reads the cache metadata for which blocks are dirty", origin, c.Fast)
	}
}

// readMetadata reads the dm-cache metadata of the dm-cache LV name and
// says what it shows in c.Why.
func (c *Cached) readMetadata(vg *VG, name string, pvs map[string]blockdev.Device, origin string) {
	a, err := vg.CacheAreas(name)
	if err != nil {
		c.Why += fmt.Sprintf("; its metadata could not be read (%v)", err)
		return
	}
	meta, err := OpenArea(vg, a.MetaLV, a.Meta, "cmeta", pvs)
	if err != nil {
		c.Why += fmt.Sprintf("; its metadata could not be read (%v)", err)
		return
	}
	defer meta.Close()
	md, err := dmcache.Open(meta, meta.Size())
	if err != nil {
		c.Why += fmt.Sprintf("; its metadata %s could not be read (%v), so holmes cannot tell which blocks are dirty", meta.Name(), err)
		return
	}
	m := &CacheMetadata{Device: meta.Name(), Format: md.Super.Version, CleanShutdown: md.Super.CleanShutdown(), BlockSize: md.Super.BlockBytes(),
		CacheBlocks: md.Super.CacheBlocks, Mapped: len(md.Mappings), Dirty: len(md.Dirty()), DirtyOnDisk: md.DirtyOnDisk, DirtyOrigin: md.DirtyRanges(), Problems: append([]pdata.Problem{}, md.Problems...)}
	c.Metadata = m
	what := "a dm-cache LV in " + c.Mode + " mode"
	if c.Mode == "" {
		what = "a dm-cache LV whose cache mode the VG text does not give"
	}
	state := fmt.Sprintf("its cache metadata %s (format %d) maps %d of the cache's %d blocks of %d bytes", m.Device, m.Format, m.Mapped, m.CacheBlocks, m.BlockSize)
	if err := md.Trusted(); err != nil {
		m.Untrusted = err.Error()
		if c.Mode != "passthrough" { // which reads no block from the cache
			c.OriginComplete = false
			c.Why = fmt.Sprintf("%s: %s, but %s: holmes cannot tell which blocks are dirty and does not read through the cache; its origin %s alone may be stale", what, state, err, origin)
			return
		}
		state += ", but " + err.Error()
	}
	read := fmt.Sprintf("holmes reads %s through the cache as dm-cache does", c.LV)
	if c.Mode == "passthrough" {
		read = fmt.Sprintf("in passthrough mode dm-cache, and holmes, read %s from its origin", c.LV)
	}
	if d, err := OpenLV(vg, name, pvs); err != nil {
		read = fmt.Sprintf("holmes cannot read %s (%v)", c.LV, err)
	} else {
		d.Close()
	}
	if !m.CleanShutdown {
		state += fmt.Sprintf("; the cache was not shut down cleanly, so its dirty bits may miss the last writes and, as the kernel does on starting it, holmes counts every mapped block as dirty (%d were marked dirty)", m.DirtyOnDisk)
	}
	if m.Dirty == 0 {
		c.OriginComplete = true
		c.Why = fmt.Sprintf("%s: %s, none dirty, so the origin %s holds the volume; %s", what, state, origin, read)
		return
	}
	c.OriginComplete = false
	c.Why = fmt.Sprintf("%s: %s, %d of them dirty (origin blocks %s): only the cache %s holds their current data, so the origin %s alone is stale there; %s", what, state, m.Dirty, rangeList(m.DirtyOrigin, 8), c.Fast, origin, read)
}

// rangeList prints up to max runs of origin blocks, then how many more.
func rangeList(rs []dmcache.Range, max int) string {
	var parts []string
	for i, r := range rs {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more runs", len(rs)-max))
			break
		}
		parts = append(parts, pdata.KeyRange(r.First, r.Last))
	}
	return strings.Join(parts, ", ")
}

// CacheAreas says where a dm-cache LV's metadata and cache blocks lie:
// its cache pool's _cmeta and _cdata LVs (whole: nil extents), or two areas
// of its cache volume.
type CacheAreas struct {
	MetaLV, DataLV string
	Meta, Data     *blockdev.Extent
}

// CacheAreas names the metadata and cache blocks of the dm-cache LV name.
func (vg *VG) CacheAreas(name string) (*CacheAreas, error) {
	l := vg.LV(name)
	if l == nil || len(l.Segments) != 1 || l.Segments[0].Kind() != "cache" {
		return nil, fmt.Errorf("lvm: %s/%s is not a dm-cache LV of one segment", vg.Name, name)
	}
	seg := l.Segments[0]
	fast := seg.Refs["cache_pool"]
	if seg.CacheVolMeta != nil {
		return &CacheAreas{MetaLV: fast, DataLV: fast, Meta: seg.CacheVolMeta, Data: seg.CacheVolData}, nil
	}
	pool := vg.LV(fast)
	if pool == nil || len(pool.Segments) != 1 || pool.Segments[0].Kind() != "cache-pool" {
		return nil, fmt.Errorf("lvm: %s/%s is neither a cache pool nor named as a cache volume", vg.Name, fast)
	}
	ps := pool.Segments[0]
	return &CacheAreas{MetaLV: ps.Refs["metadata"], DataLV: ps.Refs["data"]}, nil
}

// OpenArea opens LV lv of vg, or the area of it that ext names (with
// name-SUFFIX as its name) when ext is not nil.
func OpenArea(vg *VG, lv string, ext *blockdev.Extent, suffix string, pvs map[string]blockdev.Device) (blockdev.Device, error) {
	d, err := OpenLV(vg, lv, pvs)
	if err != nil || ext == nil {
		return d, err
	}
	area, err := blockdev.Slice(d, ext.Off, ext.Len, vg.Name+"/"+lv+"-"+suffix)
	if err != nil {
		d.Close()
		return nil, err
	}
	return blockdev.Stack(area, d), nil
}

// cacheDevices opens the dm-cache metadata and cache blocks of the dm-cache
// LV name. The caller closes both.
func (vg *VG) cacheDevices(name string, pvs map[string]blockdev.Device) (meta, data blockdev.Device, err error) {
	a, err := vg.CacheAreas(name)
	if err != nil {
		return nil, nil, err
	}
	if meta, err = OpenArea(vg, a.MetaLV, a.Meta, "cmeta", pvs); err != nil {
		return nil, nil, err
	}
	if data, err = OpenArea(vg, a.DataLV, a.Data, "cdata", pvs); err != nil {
		meta.Close()
		return nil, nil, err
	}
	return meta, data, nil
}

// openCachedLV reads a dm-cache LV through its cache, as dm-cache does:
// the origin blocks the cache metadata maps from the cache, the rest from
// the origin LV; in passthrough mode every block from the origin. Metadata
// that cannot be trusted is refused with why.
func openCachedLV(vg *VG, l *LV, pvs map[string]blockdev.Device) (blockdev.Device, error) {
	seg := l.Segments[0]
	name := vg.Name + "/" + l.Name
	if vg.cacheMode(seg) == "passthrough" {
		// dm-cache reads every block from the origin: the cache may be stale.
		return OpenLV(vg, seg.Refs["origin"], pvs)
	}
	meta, data, err := vg.cacheDevices(l.Name, pvs)
	if err != nil {
		return nil, fmt.Errorf("lvm: %s: the cache: %w", name, err)
	}
	origin, err := OpenLV(vg, seg.Refs["origin"], pvs)
	if err != nil {
		meta.Close()
		data.Close()
		return nil, err
	}
	fail := func(err error) (blockdev.Device, error) {
		meta.Close()
		data.Close()
		origin.Close()
		return nil, fmt.Errorf("lvm: %s: %w", name, err)
	}
	md, err := dmcache.Open(meta, meta.Size())
	if err != nil {
		return fail(fmt.Errorf("%s: %w", meta.Name(), err))
	}
	vol, err := md.OpenVolume(origin, data, name)
	if err != nil {
		return fail(err)
	}
	return blockdev.Stack(vol, origin, meta, data), nil
}
