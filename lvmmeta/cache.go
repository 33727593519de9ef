package lvmmeta

import "fmt"

// Cached says what a cache, writecache or vdo LV (or the pool or fast LV
// behind one) is, and whether its data can be read without that layer.
// holmes reads none of these layers itself; it says which sub-LV holds
// the volume's bytes, when one does.
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
	// Why explains, in a sentence that names what to read instead.
	Why string `json:"why"`
}

// cacheTypes are the segment types Cache describes.
var cacheTypes = map[string]bool{"cache": true, "writecache": true, "vdo": true, "cache-pool": true, "vdo-pool": true}

// IsCached says whether a segment is one Cache describes.
func (s *Segment) IsCached() bool { return cacheTypes[s.Kind()] }

// Cache describes the cache, writecache or vdo LV name from the VG text.
func (vg *VG) Cache(name string) (*Cached, error) {
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
		if pool := vg.LV(c.Fast); c.Mode == "" && pool != nil && len(pool.Segments) == 1 {
			c.Mode = pool.Segments[0].CacheMode // a cache pool keeps the mode in its own segment
		}
		switch c.Mode {
		case "writethrough", "passthrough":
			c.OriginComplete = true
			c.Why = fmt.Sprintf("a dm-cache LV in %s mode: every write reached the origin before it completed, so the origin %s holds the volume (read it instead; holmes does not read through the cache %s)", c.Mode, origin, c.Fast)
		case "writeback":
			c.Why = fmt.Sprintf("a dm-cache LV in writeback mode: blocks written since they were last flushed may be only in the cache %s (dirty), so its origin %s alone may be stale; holmes does not read dm-cache metadata, so it cannot tell which blocks are dirty (an origin read is a best effort, not the volume)", c.Fast, origin)
		default:
			c.Why = fmt.Sprintf("a dm-cache LV whose cache mode the VG text does not give: if it was writethrough its origin %s holds the volume, if writeback dirty blocks may be only in the cache %s; holmes cannot tell", origin, c.Fast)
		}
	case "writecache":
		c.Fast = seg.Refs["writecache"]
		c.Why = fmt.Sprintf("a dm-writecache LV: writes land in the fast LV %s and reach the origin %s only when written back, so the origin alone may be stale; holmes does not read writecache metadata, so it cannot tell which blocks were not yet written back", c.Fast, origin)
	case "vdo":
		c.Fast = seg.Refs["vdo_pool"]
		c.Why = fmt.Sprintf("a VDO LV: its pool %s keeps the volume's blocks deduplicated and compressed behind VDO's own block map; there is no origin holding its bytes, and holmes does not read VDO", vg.Name+"/"+c.Fast)
	case "cache-pool":
		c.Why = fmt.Sprintf("a dm-cache pool (cache mode %q): it holds cached copies of another LV's blocks, not a volume; read the cached LV's origin", seg.CacheMode)
	case "vdo-pool":
		c.Why = fmt.Sprintf("a VDO pool: its data LV %s holds VDO's deduplicated, compressed blocks, not a volume's bytes; holmes does not read VDO", vg.Name+"/"+seg.Refs["data"])
	}
	return c, nil
}
