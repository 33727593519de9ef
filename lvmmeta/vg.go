package lvmmeta

import (
	"fmt"
	"math"
	"strings"

	"holmes/blockdev"
)

// VG is a volume group as its metadata text describes it. Sizes the text
// gives in 512-byte sectors are converted to bytes.
type VG struct {
	Name         string   `json:"name"`
	ID           string   `json:"id"`
	Seqno        int64    `json:"seqno"`
	ExtentSize   int64    `json:"extent_size"` // bytes
	Status       []string `json:"status"`
	Flags        []string `json:"flags"`
	Tags         []string `json:"tags"`
	Description  string   `json:"description,omitempty"`
	CreationHost string   `json:"creation_host,omitempty"`
	CreationTime int64    `json:"creation_time,omitempty"` // seconds since 1970
	PVs          []*PV    `json:"pvs"`
	LVs          []*LV    `json:"lvs"`

	// Section is the parsed VG section, kept so a restore file can be
	// written from exactly what was found.
	Section *Section `json:"-"`
}

// PV is a physical volume of a VG.
type PV struct {
	Name    string   `json:"name"` // "pv0": how segments refer to it
	ID      string   `json:"id"`
	Device  string   `json:"device,omitempty"` // a hint only
	Status  []string `json:"status"`
	Tags    []string `json:"tags"`
	DevSize int64    `json:"dev_size"` // bytes
	PEStart int64    `json:"pe_start"` // bytes
	PECount int64    `json:"pe_count"`
}

// LV is a logical volume; hidden sub-volumes (raid images, thin pool data)
// are LVs too, without the VISIBLE status.
type LV struct {
	Name     string     `json:"name"`
	ID       string     `json:"id"`
	Status   []string   `json:"status"`
	Flags    []string   `json:"flags"`
	Tags     []string   `json:"tags"`
	Visible  bool       `json:"visible"`
	Segments []*Segment `json:"segments"`
}

// Extents is the LV's length in extents.
func (lv *LV) Extents() int64 {
	var n int64
	for _, s := range lv.Segments {
		n += s.ExtentCount
	}
	return n
}

// Segment is a run of an LV's logical extents.
type Segment struct {
	StartExtent int64  `json:"start_extent"`
	ExtentCount int64  `json:"extent_count"`
	Offset      int64  `json:"offset"`                // bytes from the start of the LV
	Length      int64  `json:"length"`                // bytes
	Type        string `json:"type"`                  // "striped" (linear when one stripe), "raid1", "thin", ...
	StripeSize  int64  `json:"stripe_size,omitempty"` // bytes
	// Stripes are the PV areas of a striped segment.
	Stripes []Stripe `json:"stripes,omitempty"`
	// Legs are the sub-LVs of mirror and raid segments (raid metadata LVs
	// included, as the text lists them).
	Legs []string `json:"legs,omitempty"`
	// Pool, Origin and friends: the LVs a thin, cache or snapshot segment
	// refers to, by field name.
	Refs map[string]string `json:"refs,omitempty"`
	// Thin and thin-pool segments: the transaction the VG text expects the
	// pool's metadata at, the thin device's id in the pool, and the pool's
	// data block size.
	TransactionID int64 `json:"transaction_id,omitempty"`
	DeviceID      int64 `json:"device_id,omitempty"`
	ChunkSize     int64 `json:"chunk_size,omitempty"` // bytes
	// Raid and mirror segments: how many images the text says there are,
	// raid10's copies of each chunk (lvm2's data_copies, 0 when unset),
	// and the bytes each bit of the write-intent bitmap or mirror log covers.
	DeviceCount int64 `json:"device_count,omitempty"`
	// CacheMode is a cache or cache-pool segment's cache_mode
	// (writethrough, writeback, passthrough), "" when the text has none.
	CacheMode string `json:"cache_mode,omitempty"`
	// CacheVolMeta and CacheVolData are where in its cache volume a cache
	// segment's dm-cache metadata and cache blocks lie (lvm2's
	// metadata_start/_len and data_start/_len); nil with a cache pool.
	CacheVolMeta *blockdev.Extent `json:"-"`
	CacheVolData *blockdev.Extent `json:"-"`
	DataCopies   int64            `json:"data_copies,omitempty"`
	RegionSize   int64            `json:"region_size,omitempty"`
}

// Stripe is one PV area of a striped segment.
type Stripe struct {
	PV          string `json:"pv"`
	StartExtent int64  `json:"start_extent"`
	Offset      int64  `json:"offset"` // bytes from the start of the PV
}

// Kind is the segment type without the flags lvm2 appends after a "+"
// ("cache+CACHE_USES_CACHEVOL" is a cache segment).
func (s *Segment) Kind() string {
	kind, _, _ := strings.Cut(s.Type, "+")
	return kind
}

// Mappable says whether holmes can map the segment as data: linear and
// striped segments only.
func (s *Segment) Mappable() bool { return s.Type == "striped" }

// ThinPools lists the LVs holding thin pool segments.
func (vg *VG) ThinPools() []string {
	var names []string
	for _, lv := range vg.LVs {
		for _, s := range lv.Segments {
			if s.Type == "thin-pool" {
				names = append(names, lv.Name)
				break
			}
		}
	}
	return names
}

// LV returns the named logical volume, or nil.
func (vg *VG) LV(name string) *LV {
	for _, lv := range vg.LVs {
		if lv.Name == name {
			return lv
		}
	}
	return nil
}

// PV returns the PV named by a segment ("pv0"), or nil.
func (vg *VG) PV(name string) *PV {
	for _, pv := range vg.PVs {
		if pv.Name == name {
			return pv
		}
	}
	return nil
}

// maxCount bounds numbers read from text (sizes in sectors, seqno) so
// corrupted ones fail cleanly; extent counts and sizes are 32-bit in lvm2.
const (
	maxCount   = 1 << 40
	maxExtents = 1<<32 - 1
)

// ParseText parses metadata text (a backup or archive file, or text from a
// metadata area) into a VG. Errors carry line and column.
func ParseText(text []byte) (*VG, error) {
	root, err := Parse(text)
	if err != nil {
		return nil, err
	}
	return BuildVG(root)
}

// BuildVG makes the VG model from a parsed text: the one top-level section
// is the VG; the file header fields are top-level assignments.
func BuildVG(root *Section) (*VG, error) {
	if len(root.Sections) != 1 {
		return nil, &SyntaxError{Pos: root.Pos, Msg: fmt.Sprintf("want exactly one volume group section, found %d", len(root.Sections))}
	}
	m := &modeler{}
	s := root.Sections[0]
	vg := &VG{
		Name:         s.Name,
		ID:           m.str(s, "id", true),
		Seqno:        m.count(s, "seqno", true),
		ExtentSize:   m.sectors(s, "extent_size", true),
		Status:       m.strs(s, "status"),
		Flags:        m.strs(s, "flags"),
		Tags:         m.strs(s, "tags"),
		Description:  m.str(root, "description", false),
		CreationHost: m.str(root, "creation_host", false),
		CreationTime: m.count(root, "creation_time", false),
		Section:      s,
	}
	if m.err == nil && (vg.ExtentSize == 0 || vg.ExtentSize > maxExtents*sectorSize) {
		m.fail(s.Field("extent_size").Value.Pos, "extent_size %d sectors is out of range", vg.ExtentSize/sectorSize)
	}
	if pvs := s.Section("physical_volumes"); pvs != nil {
		for _, ps := range pvs.Sections {
			vg.PVs = append(vg.PVs, &PV{
				Name:    ps.Name,
				ID:      m.str(ps, "id", true),
				Device:  m.str(ps, "device", false),
				Status:  m.strs(ps, "status"),
				Tags:    m.strs(ps, "tags"),
				DevSize: m.sectors(ps, "dev_size", false),
				PEStart: m.sectors(ps, "pe_start", true),
				PECount: m.count(ps, "pe_count", true),
			})
			// Every byte offset derived from the PV must fit in an int64.
			if pv := vg.PVs[len(vg.PVs)-1]; m.err == nil && pv.PECount > (math.MaxInt64-pv.PEStart)/vg.ExtentSize {
				m.fail(ps.Field("pe_count").Value.Pos, "%s: pe_count %d is out of range", ps.Name, pv.PECount)
			}
		}
	} else {
		m.fail(s.Pos, "volume group %s has no physical_volumes section", s.Name)
	}
	if lvs := s.Section("logical_volumes"); lvs != nil {
		for _, ls := range lvs.Sections {
			vg.LVs = append(vg.LVs, m.lv(vg, ls))
		}
	}
	if m.err != nil {
		return nil, m.err
	}
	return vg, nil
}

// modeler reads typed fields, keeping the first error (with its position)
// so the model code reads straight.
type modeler struct{ err error }

func (m *modeler) fail(at Pos, format string, args ...any) {
	if m.err == nil {
		m.err = &SyntaxError{Pos: at, Msg: fmt.Sprintf(format, args...)}
	}
}

func (m *modeler) field(s *Section, name string, required bool) *Field {
	f := s.Field(name)
	if f == nil && required {
		m.fail(s.Pos, "%s: %s is missing", s.Name, name)
	}
	return f
}

func (m *modeler) str(s *Section, name string, required bool) string {
	f := m.field(s, name, required)
	if f == nil {
		return ""
	}
	if f.Value.Kind != KindString {
		m.fail(f.Value.Pos, "%s: %s is not a string", s.Name, name)
	}
	return f.Value.Str
}

func (m *modeler) count(s *Section, name string, required bool) int64 {
	f := m.field(s, name, required)
	if f == nil {
		return 0
	}
	if f.Value.Kind != KindInt || f.Value.Int < 0 || f.Value.Int > maxCount {
		m.fail(f.Value.Pos, "%s: %s is not a count between 0 and 2^40", s.Name, name)
		return 0
	}
	return f.Value.Int
}

// sectors reads a count of 512-byte sectors and returns bytes.
func (m *modeler) sectors(s *Section, name string, required bool) int64 {
	return m.count(s, name, required) * sectorSize
}

func (m *modeler) strs(s *Section, name string) []string {
	out := []string{}
	f := s.Field(name)
	if f == nil {
		return out
	}
	if f.Value.Kind != KindList {
		m.fail(f.Value.Pos, "%s: %s is not a list", s.Name, name)
		return out
	}
	for _, v := range f.Value.List {
		if v.Kind != KindString {
			m.fail(v.Pos, "%s: %s holds a non-string", s.Name, name)
			return out
		}
		out = append(out, v.Str)
	}
	return out
}

func (m *modeler) lv(vg *VG, s *Section) *LV {
	lv := &LV{
		Name:   s.Name,
		ID:     m.str(s, "id", true),
		Status: m.strs(s, "status"),
		Flags:  m.strs(s, "flags"),
		Tags:   m.strs(s, "tags"),
	}
	for _, st := range lv.Status {
		lv.Visible = lv.Visible || st == "VISIBLE"
	}
	want := m.count(s, "segment_count", true)
	for _, ss := range s.Sections {
		if strings.HasPrefix(ss.Name, "segment") {
			lv.Segments = append(lv.Segments, m.segment(vg, ss))
		}
	}
	if m.err == nil && int64(len(lv.Segments)) != want {
		m.fail(s.Field("segment_count").Value.Pos, "%s: segment_count is %d but %d segments follow", s.Name, want, len(lv.Segments))
	}
	var next int64
	for i, seg := range lv.Segments {
		if m.err == nil && seg.StartExtent != next {
			m.fail(s.Sections[i].Pos, "%s: segment %d starts at extent %d, expected %d", s.Name, i+1, seg.StartExtent, next)
		}
		next = seg.StartExtent + seg.ExtentCount
	}
	if m.err == nil && vg.ExtentSize > 0 && next > math.MaxInt64/vg.ExtentSize {
		m.fail(s.Pos, "%s: %d extents is out of range", s.Name, next)
	}
	if m.err == nil {
		for _, seg := range lv.Segments {
			seg.Offset, seg.Length = seg.StartExtent*vg.ExtentSize, seg.ExtentCount*vg.ExtentSize
		}
	}
	return lv
}

// segmentRefs are the fields by which thin, cache, vdo, mirror and
// snapshot segments name other LVs.
var segmentRefs = []string{"thin_pool", "pool", "origin", "cow", "metadata", "external_origin", "cache_pool", "merging_store", "data", "writecache", "vdo_pool", "mirror_log"}

// refs reads the segmentRefs a segment has; nil when none.
func refs(s *Section) map[string]string {
	var out map[string]string
	for _, name := range segmentRefs {
		if f := s.Field(name); f != nil && f.Value.Kind == KindString {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = f.Value.Str
		}
	}
	return out
}

func (m *modeler) segment(vg *VG, s *Section) *Segment {
	seg := &Segment{
		StartExtent: m.count(s, "start_extent", true),
		ExtentCount: m.count(s, "extent_count", true),
		Type:        m.str(s, "type", true),
	}
	switch seg.Type {
	case "striped":
		n := m.count(s, "stripe_count", true)
		seg.StripeSize = m.sectors(s, "stripe_size", n > 1)
		list := m.pairs(s, "stripes")
		if m.err != nil {
			return seg
		}
		if n == 0 || int64(len(list)) != n || seg.ExtentCount%n != 0 {
			m.fail(s.Pos, "%s: %d stripes listed for stripe_count %d over %d extents", s.Name, len(list), n, seg.ExtentCount)
			return seg
		}
		if n > 1 && (seg.StripeSize == 0 || vg.ExtentSize%seg.StripeSize != 0) {
			m.fail(s.Field("stripe_size").Value.Pos, "%s: stripe_size %d does not divide the extent size %d", s.Name, seg.StripeSize, vg.ExtentSize)
			return seg
		}
		for _, st := range list {
			pv := vg.PV(st.PV)
			if pv == nil {
				m.fail(st.pos, "%s: stripe on %q, which is not a PV of the volume group", s.Name, st.PV)
				return seg
			}
			if st.StartExtent+seg.ExtentCount/n > pv.PECount {
				m.fail(st.pos, "%s: stripe %s:%d+%d runs past the PV's %d extents", s.Name, st.PV, st.StartExtent, seg.ExtentCount/n, pv.PECount)
				return seg
			}
			st.Offset = pv.PEStart + st.StartExtent*vg.ExtentSize
			seg.Stripes = append(seg.Stripes, st.Stripe)
		}
	case "mirror":
		seg.Refs = refs(s)
		seg.Legs = m.names(s, "mirrors")
		seg.DeviceCount = m.count(s, "mirror_count", false)
		seg.RegionSize = m.sectors(s, "region_size", false)
	default:
		seg.Refs = refs(s)
		seg.CacheMode = m.str(s, "cache_mode", false)
		if strings.HasPrefix(seg.Type, "raid") {
			seg.Legs = m.names(s, "raids")
			seg.DeviceCount = m.count(s, "device_count", false)
			seg.DataCopies = m.count(s, "data_copies", false)
			seg.StripeSize = m.sectors(s, "stripe_size", false)
			seg.RegionSize = m.sectors(s, "region_size", false)
		}
		if seg.Kind() == "cache" && s.Field("metadata_len") != nil {
			seg.CacheVolMeta = &blockdev.Extent{Off: m.sectors(s, "metadata_start", true), Len: m.sectors(s, "metadata_len", true)}
			seg.CacheVolData = &blockdev.Extent{Off: m.sectors(s, "data_start", true), Len: m.sectors(s, "data_len", true)}
		}
		switch seg.Type {
		case "thin-pool":
			seg.TransactionID = m.count(s, "transaction_id", true)
			seg.ChunkSize = m.sectors(s, "chunk_size", false)
		case "thin":
			seg.TransactionID = m.count(s, "transaction_id", false)
			seg.DeviceID = m.count(s, "device_id", true)
		}
	}
	return seg
}

type posStripe struct {
	Stripe
	pos Pos
}

// pairs reads a ["pv0", 0, "pv1", 0] list.
func (m *modeler) pairs(s *Section, name string) []posStripe {
	f := m.field(s, name, true)
	if f == nil {
		return nil
	}
	l := f.Value.List
	if f.Value.Kind != KindList || len(l)%2 != 0 {
		m.fail(f.Value.Pos, "%s: %s is not a list of name, extent pairs", s.Name, name)
		return nil
	}
	var out []posStripe
	for i := 0; i < len(l); i += 2 {
		if l[i].Kind != KindString || l[i+1].Kind != KindInt || l[i+1].Int < 0 || l[i+1].Int > maxCount {
			m.fail(l[i].Pos, "%s: %s entry %d is not a name and an extent", s.Name, name, i/2)
			return nil
		}
		out = append(out, posStripe{Stripe{PV: l[i].Str, StartExtent: l[i+1].Int}, l[i].Pos})
	}
	return out
}

func (m *modeler) names(s *Section, name string) []string {
	f := s.Field(name)
	if f == nil {
		return nil
	}
	var out []string
	for _, v := range f.Value.List {
		if v.Kind == KindString {
			out = append(out, v.Str)
		}
	}
	return out
}
