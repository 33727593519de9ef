package lvmmeta

import "fmt"

// PVUse is what a VG keeps at a run of bytes of one of its PVs: a piece of
// a logical volume, or a named area (the label and metadata before
// pe_start, extents no LV uses, bytes past the last extent).
type PVUse struct {
	Length   int64  // bytes the answer holds for, from the offset asked
	LV       string // the LV (hidden sub-LVs included), "" for an area
	LVOffset int64  // where the run lies in the LV
	What     string // "logical volume", "LVM PV label and metadata area", "unallocated extents", "past the last extent"
}

// PVUseAt says what the VG keeps at byte off of PV pv (its name in the
// text, "pv0"): the inverse of the LV mapping OpenLV reads through.
func (vg *VG) PVUseAt(pv string, off int64) (PVUse, error) {
	p := vg.PV(pv)
	if p == nil {
		return PVUse{}, fmt.Errorf("lvm: volume group %s has no PV %q", vg.Name, pv)
	}
	if off < 0 {
		return PVUse{}, fmt.Errorf("lvm: negative offset %d on %s", off, pv)
	}
	if off < p.PEStart {
		return PVUse{Length: p.PEStart - off, What: "LVM PV label and metadata area"}, nil
	}
	extent := (off - p.PEStart) / vg.ExtentSize
	if extent >= p.PECount {
		return PVUse{Length: 1 << 62, What: "past the last extent"}, nil
	}
	free := p.PEStart + p.PECount*vg.ExtentSize - off // up to the next allocated extent
	for _, lv := range vg.LVs {
		for _, seg := range lv.Segments {
			n := int64(len(seg.Stripes))
			if n == 0 {
				continue
			}
			perStripe := seg.ExtentCount / n * vg.ExtentSize
			for k, st := range seg.Stripes {
				if st.PV != pv {
					continue
				}
				rel := off - st.Offset
				if rel >= perStripe {
					continue
				}
				if rel < 0 {
					free = min(free, -rel)
					continue
				}
				if n == 1 {
					return PVUse{Length: perStripe - rel, LV: lv.Name, LVOffset: seg.Offset + rel, What: "logical volume"}, nil
				}
				chunk, within := rel/seg.StripeSize, rel%seg.StripeSize
				return PVUse{Length: seg.StripeSize - within, LV: lv.Name,
					LVOffset: seg.Offset + (chunk*n+int64(k))*seg.StripeSize + within, What: "logical volume"}, nil
			}
		}
	}
	return PVUse{Length: free, What: "unallocated extents"}, nil
}

// AreaAt names byte off of the PV this label is on by the label's own
// layout: "LVM PV label" (its sector), "LVM metadata area" (the mda header
// and its ring), or "" where the label places nothing; n is how many bytes
// from off the answer holds for (at most limit).
func (l *Label) AreaAt(off, limit int64) (what string, n int64) {
	next := off + limit
	if s := l.Sector * sectorSize; off >= s && off < s+sectorSize {
		return "LVM PV label", min(limit, s+sectorSize-off)
	} else if s > off {
		next = min(next, s)
	}
	for _, a := range l.MetadataAreas {
		if off >= a.Offset && off < a.Offset+a.Size {
			return "LVM metadata area", min(limit, a.Offset+a.Size-off)
		}
		if a.Offset > off {
			next = min(next, a.Offset)
		}
	}
	return "", next - off
}
