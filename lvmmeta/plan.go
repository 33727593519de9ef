package lvmmeta

import (
	"fmt"
	"strings"

	"holmes/blockdev"
	"holmes/internal/shell"
	"holmes/thin"
)

// Target is the device a PV is to be recreated on. Size is -1 when the
// device could not be opened here, so its size is unknown. Label is the PV
// label it carries now, if any.
type Target struct {
	Path  string
	Size  int64
	Label *Label
	// Word: Path is already a shell word ("${L0}p1"), written as it is.
	Word bool
	// Overlay: the target is a copy-on-write overlay, so whatever label
	// it carries may be replaced without asking (-ff -y).
	Overlay bool
	// Dev is the device opened read-only, or nil: with every PV a thin
	// pool's metadata LV lies on, the plan checks the pool's transaction id.
	Dev blockdev.Device
}

// Plan is how to put a VG's metadata back with lvm2's own tools.
type Plan struct {
	VG       string   `json:"vg"`
	VGUUID   string   `json:"vg_uuid"`
	Seqno    int64    `json:"seqno"`
	File     string   `json:"file"`
	PVs      []PlanPV `json:"pvs"`
	Commands []string `json:"commands"`
	Warnings []string `json:"warnings"`
}

// PlanPV is one PV to recreate and whether its target is large enough.
type PlanPV struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Device string `json:"device"`
	// Need is pe_start + pe_count extents: the bytes the restored PV maps.
	Need   int64  `json:"need"`
	Size   *int64 `json:"size"`    // null when the device is not accessible here
	SizeOK *bool  `json:"size_ok"` // null when the size is unknown
}

// MakePlan writes the pvcreate and vgcfgrestore commands restoring vg from
// file (the path as the commands should name it). targets maps PV names
// ("pv0") to devices; a PV without a target uses the device hint in the
// metadata.
func MakePlan(vg *VG, file string, targets map[string]Target) *Plan {
	p := &Plan{VG: vg.Name, VGUUID: vg.ID, Seqno: vg.Seqno, File: file, PVs: []PlanPV{}, Commands: []string{}, Warnings: []string{}}
	for _, pv := range vg.PVs {
		t, ok := targets[pv.Name]
		if !ok {
			t = Target{Path: pv.Device, Size: -1}
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: no target given, using the metadata's device hint %s, which may name another disk now", pv.Name, pv.Device))
		}
		pp := PlanPV{Name: pv.Name, ID: pv.ID, Device: t.Path, Need: pv.PEStart + pv.PECount*vg.ExtentSize}
		if t.Size >= 0 {
			size, fits := t.Size, t.Size >= pp.Need
			pp.Size, pp.SizeOK = &size, &fits
			if !fits {
				p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %s has %d bytes, the PV maps %d (pe_start %d + %d extents of %d): too small", pv.Name, t.Path, size, pp.Need, pv.PEStart, pv.PECount, vg.ExtentSize))
			}
		}
		force, path := "", shell.Quote(t.Path)
		if t.Word {
			path = t.Path
		}
		if t.Overlay {
			force = "-ff -y "
		} else if t.Label != nil && t.Label.PVUUID != pv.ID {
			// pvcreate refuses to replace a PV label without -ff.
			force = "-ff "
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %s carries PV %s now; pvcreate -ff replaces that label (and asks first)", pv.Name, t.Path, t.Label.PVUUID))
		}
		p.PVs = append(p.PVs, pp)
		p.Commands = append(p.Commands, fmt.Sprintf("pvcreate %s--uuid %s --restorefile %s %s", force, shell.Quote(pv.ID), shell.Quote(file), path))
	}
	restore := "vgcfgrestore -f "
	if pools := vg.ThinPools(); len(pools) > 0 {
		restore = "vgcfgrestore --force -f "
		p.Warnings = append(p.Warnings, fmt.Sprintf("thin pool(s) %s: vgcfgrestore needs --force, and the restored thin volumes are only sound if the pool's own metadata on disk matches this text (its transaction_id)", strings.Join(pools, ", ")))
		devs := map[string]blockdev.Device{}
		for name, t := range targets {
			if t.Dev != nil {
				devs[name] = t.Dev
			}
		}
		for _, pool := range pools {
			if w := thinTransaction(vg, pool, devs); w != "" {
				p.Warnings = append(p.Warnings, w)
			}
		}
	}
	for _, lv := range vg.LVs {
		for _, s := range lv.Segments {
			if s.Type != "striped" && !strings.HasPrefix(s.Type, "thin") {
				p.Warnings = append(p.Warnings, fmt.Sprintf("%s: segment type %s; check the restored LV with lvs -a before activating", lv.Name, s.Type))
				break
			}
		}
	}
	p.Commands = append(p.Commands, restore+shell.Quote(file)+" "+shell.Quote(vg.Name))
	return p
}

// thinTransaction compares a pool's transaction id in its own metadata on
// the targets with the text's: lvm refuses to activate a pool whose
// metadata is at another transaction. Empty when the metadata cannot be
// read here.
func thinTransaction(vg *VG, pool string, devs map[string]blockdev.Device) string {
	tp, err := vg.ThinPool(pool)
	if err != nil {
		return ""
	}
	meta, err := OpenLV(vg, tp.Metadata, devs)
	if err != nil {
		return ""
	}
	defer meta.Close()
	md, err := thin.Open(meta, meta.Size())
	if err != nil {
		return fmt.Sprintf("thin pool %s: its metadata LV %s holds no readable pool metadata (%v)", pool, tp.Metadata, err)
	}
	on, want := md.Super.TransactionID, tp.Segment.TransactionID
	if int64(on) == want {
		return fmt.Sprintf("thin pool %s: its metadata on the targets is at transaction %d, as this text says", pool, on)
	}
	return fmt.Sprintf("thin pool %s: its metadata on the targets is at transaction %d, this text says %d: lvm will not activate the pool with this text; look for the version whose transaction_id is %d (holmes lvm carve lists them)", pool, on, want, on)
}
