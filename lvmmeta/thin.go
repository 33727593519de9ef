package lvmmeta

import (
	"fmt"

	"holmes/blockdev"
	"holmes/thin"
)

// ThinPool is a thin pool LV's segment and the sub-LVs it names.
type ThinPool struct {
	Name     string   // the pool LV
	Segment  *Segment // its thin-pool segment: transaction_id, chunk_size
	Metadata string   // the _tmeta LV
	Data     string   // the _tdata LV
	// Volumes are the thin LVs of the pool by their device id.
	Volumes map[int64]string
}

// ThinPool describes the thin pool LV name, or says why it is not one.
func (vg *VG) ThinPool(name string) (*ThinPool, error) {
	l := vg.LV(name)
	if l == nil {
		return nil, fmt.Errorf("lvm: volume group %s has no logical volume %q", vg.Name, name)
	}
	if len(l.Segments) != 1 || l.Segments[0].Type != "thin-pool" {
		return nil, fmt.Errorf("lvm: %s/%s is not a thin pool", vg.Name, name)
	}
	seg := l.Segments[0]
	p := &ThinPool{Name: name, Segment: seg, Metadata: seg.Refs["metadata"], Data: seg.Refs["pool"], Volumes: map[int64]string{}}
	if p.Metadata == "" || p.Data == "" {
		return nil, fmt.Errorf("lvm: thin pool %s/%s names no metadata or data LV", vg.Name, name)
	}
	for _, lv := range vg.LVs {
		for _, s := range lv.Segments {
			if s.Type == "thin" && s.Refs["thin_pool"] == name {
				p.Volumes[s.DeviceID] = lv.Name
			}
		}
	}
	return p, nil
}

// openThinLV maps a thin LV through its pool: the pool's metadata LV is
// read for the device's block mapping, the data LV holds the blocks.
func openThinLV(vg *VG, l *LV, pvs map[string]blockdev.Device) (blockdev.Device, error) {
	seg := l.Segments[0]
	name := vg.Name + "/" + l.Name
	// Unmapped blocks of a thin LV with an external origin read from that
	// LV, not as zeros: reading them as zeros would be wrong.
	if o := seg.Refs["external_origin"]; o != "" {
		return nil, fmt.Errorf("lvm: %s has the external origin %s, which its unmapped blocks read from; holmes does not map that yet", name, o)
	}
	p, err := vg.ThinPool(seg.Refs["thin_pool"])
	if err != nil {
		return nil, fmt.Errorf("lvm: %s: %w", name, err)
	}
	meta, err := OpenLV(vg, p.Metadata, pvs)
	if err != nil {
		return nil, err
	}
	data, err := OpenLV(vg, p.Data, pvs)
	if err != nil {
		meta.Close()
		return nil, err
	}
	fail := func(err error) (blockdev.Device, error) {
		meta.Close()
		data.Close()
		return nil, fmt.Errorf("lvm: %s: %w", name, err)
	}
	pool, err := thin.Open(meta, meta.Size())
	if err != nil {
		return fail(err)
	}
	if bs := pool.Super.DataBlockBytes(); p.Segment.ChunkSize != 0 && bs != p.Segment.ChunkSize {
		return fail(fmt.Errorf("the pool's metadata has %d-byte data blocks, the VG text %d", bs, p.Segment.ChunkSize))
	}
	vol, err := pool.OpenVolume(uint64(seg.DeviceID), data, seg.Offset+seg.Length, name)
	if err != nil {
		return fail(err)
	}
	return blockdev.Stack(vol, meta, data), nil
}
