package lvmmeta

import (
	"fmt"
	"io"
	"sort"

	"holmes/blockdev"
)

// lvDevice reads an LV through its segments' stripes on the PV devices.
type lvDevice struct {
	name   string
	extent int64
	size   int64
	segs   []mappedSegment
}

// mappedSegment is a striped segment bound to its PV devices.
type mappedSegment struct {
	start, length int64 // bytes within the LV
	chunk         int64 // bytes per stripe chunk
	stripes       []mappedStripe
}

type mappedStripe struct {
	dev    blockdev.Device
	offset int64 // bytes from the start of the PV device
}

// OpenLV maps logical volume lv of vg over the PV devices (keyed by the
// PV's name in the text, "pv0", or by its id) as a read-only device.
// Linear and striped segments are mapped onto the PVs; a thin LV through
// its pool's metadata (package thin) onto the pool's data LV; a raid or
// mirror LV as the md array of its image sub-LVs (see Raid); a dm-cache LV
// through its cache, as dm-cache reads it (package dmcache). Writecache and
// vdo LVs and cache pools are refused with what they are and which sub-LV
// to read instead (see Cache). Any other segment type is named in the
// error. Closing the LV does not close the PVs.
func OpenLV(vg *VG, lv string, pvs map[string]blockdev.Device) (blockdev.Device, error) {
	l := vg.LV(lv)
	if l == nil {
		return nil, fmt.Errorf("lvm: volume group %s has no logical volume %q", vg.Name, lv)
	}
	if len(l.Segments) == 1 && l.Segments[0].Type == "thin" {
		return openThinLV(vg, l, pvs)
	}
	if len(l.Segments) == 1 && l.Segments[0].IsRaid() {
		return openRaidLV(vg, l, pvs)
	}
	if len(l.Segments) == 1 && l.Segments[0].Kind() == "cache" {
		return openCachedLV(vg, l, pvs)
	}
	if len(l.Segments) == 1 && l.Segments[0].IsCached() {
		c, err := vg.Cache(lv, nil)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("lvm: %s is %s", c.LV, c.Why)
	}
	d := &lvDevice{name: vg.Name + "/" + lv, extent: vg.ExtentSize}
	for i, seg := range l.Segments {
		if !seg.Mappable() {
			return nil, fmt.Errorf("lvm: %s segment %d is of type %s; holmes reads linear and striped segments, and thin, raid and mirror LVs of one segment", d.name, i+1, seg.Type)
		}
		n := int64(len(seg.Stripes))
		ms := mappedSegment{start: seg.Offset, length: seg.Length, chunk: seg.StripeSize}
		if n == 1 {
			ms.chunk = ms.length // linear: one chunk covers the segment
		}
		perStripe := seg.Length / n
		for _, st := range seg.Stripes {
			pv := vg.PV(st.PV)
			dev := pvs[st.PV]
			if dev == nil {
				dev = pvs[pv.ID]
			}
			if dev == nil {
				return nil, fmt.Errorf("lvm: %s segment %d needs %s (id %s), which was not given", d.name, i+1, st.PV, pv.ID)
			}
			if end := st.Offset + perStripe; end > dev.Size() {
				return nil, fmt.Errorf("lvm: %s segment %d needs %s up to byte %d, but %s has %d bytes", d.name, i+1, st.PV, end, dev.Name(), dev.Size())
			}
			ms.stripes = append(ms.stripes, mappedStripe{dev: dev, offset: st.Offset})
		}
		d.segs = append(d.segs, ms)
		d.size = ms.start + ms.length
	}
	return d, nil
}

func (d *lvDevice) Size() int64  { return d.size }
func (d *lvDevice) Name() string { return d.name }
func (d *lvDevice) Close() error { return nil }

// ReadAt splits the read at segment and stripe-chunk boundaries.
func (d *lvDevice) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", d.name, off)
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		if pos >= d.size {
			return done, io.EOF
		}
		dev, devOff, avail := d.locate(pos)
		want := p[done:]
		if int64(len(want)) > avail {
			want = want[:avail]
		}
		n, err := dev.ReadAt(want, devOff)
		done += n
		if err != nil && !(err == io.EOF && n == len(want)) {
			return done, blockdev.At(d, pos, "lvm: "+d.name+": read", err)
		}
	}
	return done, nil
}

// MapOffset places LV byte off on the PV device holding it.
func (d *lvDevice) MapOffset(off int64) (blockdev.Device, int64, bool) {
	if off < 0 || off >= d.size {
		return nil, 0, false
	}
	dev, devOff, _ := d.locate(off)
	return dev, devOff, true
}

// locate maps an LV byte offset to a PV device, the offset there, and how
// many bytes continue contiguously.
func (d *lvDevice) locate(pos int64) (blockdev.Device, int64, int64) {
	// The segment holding pos: the first that ends after it.
	i := sort.Search(len(d.segs), func(i int) bool { return d.segs[i].start+d.segs[i].length > pos })
	s := d.segs[i]
	rel := pos - s.start
	chunk := rel / s.chunk
	n := int64(len(s.stripes))
	st := s.stripes[chunk%n]
	within := rel % s.chunk
	return st.dev, st.offset + chunk/n*s.chunk + within, s.chunk - within
}
