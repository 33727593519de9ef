package triage

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"holmes/blockdev"
	"holmes/lvmmeta"
)

// vgVersion is one version of a VG's metadata found somewhere.
type vgVersion struct {
	vg     *lvmmeta.VG
	text   []byte
	source string
}

// findVolumeGroups finds every VG version — in the metadata areas of the
// PVs on the assembled arrays and spare partitions, and carved from their
// raw bytes (a root filesystem keeps /etc/lvm/backup and archive) — and
// chooses per VG name the version to restore: the one whose LVs hold
// filesystems that open, before the newest (docs/triage.md).
func (t *Triage) findVolumeGroups() {
	spaces := t.topDevices()
	labels := map[string]blockdev.Device{} // PV uuid -> device
	var versions []vgVersion
	carver := lvmmeta.NewCarver()
	for _, d := range spaces {
		carve := d.Size()
		if l, err := lvmmeta.ReadLabel(d, d.Size()); err == nil {
			if _, dup := labels[l.PVUUID]; !dup {
				labels[l.PVUUID] = d
			}
			// A PV keeps its metadata before its first extent; the
			// extents hold LVs, whose filesystems are read as such.
			if len(l.DataAreas) > 0 && l.DataAreas[0].Offset > 0 {
				carve = min(carve, l.DataAreas[0].Offset)
			}
		}
		if ps, err := lvmmeta.Scan(d, d.Size(), d.Name()); err == nil {
			for _, m := range ps.Metadata {
				if !m.Complete {
					continue
				}
				if vg, err := lvmmeta.ParseText(m.Text); err == nil {
					versions = append(versions, vgVersion{vg, m.Text, fmt.Sprintf("metadata area of %s @ %d", d.Name(), m.Offset)})
				}
			}
		}
		if err := carver.Scan(d, carve, d.Name()); err != nil {
			t.warn("carving LVM metadata from %s: %v", d.Name(), err)
		}
	}
	versions = append(versions, t.foreignVersions()...)
	for _, cv := range carver.Results() {
		if !cv.Complete {
			continue
		}
		text := cv.RestoreFile()
		vg, err := lvmmeta.ParseText(text)
		if err != nil {
			continue
		}
		var at []string
		for i, l := range cv.FoundAt {
			if i == 3 {
				at = append(at, fmt.Sprintf("and %d more places", len(cv.FoundAt)-i))
				break
			}
			at = append(at, fmt.Sprintf("%s @ %d", l.Device, l.Offset))
		}
		src := "carved from " + strings.Join(at, ", ")
		versions = append(versions, vgVersion{vg, text, src})
	}
	byName := map[string][]vgVersion{}
	var names []string
	for _, v := range versions {
		if _, ok := byName[v.vg.Name]; !ok {
			names = append(names, v.vg.Name)
		}
		byName[v.vg.Name] = append(byName[v.vg.Name], v)
	}
	for _, name := range names {
		t.chooseVG(byName[name], labels)
	}
}

// foreignVersions reads the metadata areas of the arrays the md
// superblocks describe where the data shows another array: an installer's
// new VG lives there. They are shown beside the version chosen, with why not.
func (t *Triage) foreignVersions() []vgVersion {
	var out []vgVersion
	for _, a := range t.arrays {
		if a.foreign == nil {
			continue
		}
		devs := make([]blockdev.Device, len(a.foreignUnits))
		for i, u := range a.foreignUnits {
			devs[i] = u.dev
		}
		name := "md array " + a.foreign.ArrayUUID + " of the superblocks"
		arr, err := a.foreign.Open(devs, name)
		if err != nil {
			continue
		}
		if ps, err := lvmmeta.Scan(arr, arr.Size(), name); err == nil {
			for _, m := range ps.Metadata {
				if vg, err := lvmmeta.ParseText(m.Text); err == nil && m.Complete {
					out = append(out, vgVersion{vg, m.Text, fmt.Sprintf("metadata area of the %s (not the array the data shows) @ %d", name, m.Offset)})
				}
			}
		}
		arr.Close()
	}
	return out
}

// topDevices are the devices LVM may sit on: assembled arrays and the
// units no array uses.
func (t *Triage) topDevices() []blockdev.Device {
	var ds []blockdev.Device
	for _, a := range t.arrays {
		if a.dev != nil {
			ds = append(ds, a.dev)
		}
	}
	for _, u := range t.units {
		if !u.used {
			ds = append(ds, u.dev)
		}
	}
	return ds
}

// candidateVG is the newest version of one VG uuid, with its PVs found.
type candidateVG struct {
	v      vgVersion
	pvs    map[string]blockdev.Device
	opened int // LVs whose content opens as a filesystem or partition table
	older  int // older versions of the same VG found
}

func (t *Triage) chooseVG(versions []vgVersion, labels map[string]blockdev.Device) {
	newest := map[string]*candidateVG{}
	var ids []string
	for _, v := range versions {
		c := newest[v.vg.ID]
		switch {
		case c == nil:
			ids = append(ids, v.vg.ID)
			newest[v.vg.ID] = &candidateVG{v: v}
		case v.vg.Seqno > c.v.vg.Seqno:
			c.v, c.older = v, c.older+1
		case v.vg.Seqno < c.v.vg.Seqno:
			c.older++
		}
	}
	var cands []*candidateVG
	for _, id := range ids {
		c := newest[id]
		c.pvs = map[string]blockdev.Device{}
		for _, pv := range c.v.vg.PVs {
			if d, ok := labels[pv.ID]; ok {
				c.pvs[pv.Name] = d
			}
		}
		for _, lv := range c.v.vg.LVs {
			if !holdsData(lv) {
				continue
			}
			if d, err := lvmmeta.OpenLV(c.v.vg, lv.Name, c.pvs); err == nil {
				if opensAsContent(d) {
					c.opened++
				}
				d.Close()
			}
		}
		cands = append(cands, c)
	}
	slices.SortStableFunc(cands, func(a, b *candidateVG) int {
		return cmp.Or(cmp.Compare(b.opened, a.opened), cmp.Compare(b.v.vg.Seqno, a.v.vg.Seqno))
	})
	best := cands[0]
	vg := best.v.vg
	res := &VolumeGroup{VG: vg.Name, VGUUID: vg.ID, Seqno: vg.Seqno, Source: best.v.source, PVs: map[string]string{}}
	for _, lv := range vg.LVs {
		res.LVs = append(res.LVs, lv.Name)
	}
	res.Why = append(res.Why, fmt.Sprintf("newest version (seqno %d) of VG %s found; %s older", vg.Seqno, vg.ID, plural(best.older, "version", "versions")))
	res.Why = append(res.Why, fmt.Sprintf("%d of its %d LVs hold a filesystem or partition table that opens", best.opened, len(vg.LVs)))
	for _, pv := range vg.PVs {
		if d, ok := best.pvs[pv.Name]; ok {
			res.PVs[pv.Name] = d.Name()
			res.Why = append(res.Why, fmt.Sprintf("PV %s (%s) has its label on %s", pv.Name, pv.ID, d.Name()))
		} else {
			t.warn("VG %s: PV %s (%s) not found: its LVs cannot be read", vg.Name, pv.Name, pv.ID)
		}
	}
	for _, c := range cands[1:] {
		r := VGVersion{VGUUID: c.v.vg.ID, Seqno: c.v.vg.Seqno, Source: c.v.source}
		for _, lv := range c.v.vg.LVs {
			r.LVs = append(r.LVs, lv.Name)
		}
		switch {
		case len(c.v.vg.LVs) == 0:
			r.Why = "another VG of the same name with no LVs (an installer's or a new VG): restoring it would bring back nothing"
		default:
			r.Why = fmt.Sprintf("%d of its %d LVs open, against %d of the chosen version's", c.opened, len(c.v.vg.LVs), best.opened)
		}
		res.Rejected = append(res.Rejected, r)
	}
	t.vgs = append(t.vgs, &volumeGroup{res: res, vg: vg, text: best.v.text, pvs: best.pvs})
}
