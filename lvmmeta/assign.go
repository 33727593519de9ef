package lvmmeta

import (
	"fmt"
	"sort"
)

// PVDevice is a device offered to AssignPVs: the DEV as the user named it and
// the PV UUID of its label ("" when it has none).
type PVDevice struct {
	Name   string
	PVUUID string
}

// AssignPVs maps the PVs of vg (by PV name, "pv0") to the devices holding
// them. A label with the PV's id is proof. When an installer's pvcreate
// has replaced the label, the text itself is the remaining evidence: the
// last unmapped PV goes to the last unclaimed labelled device the text was
// found on. Notes say which rule placed each PV and which stayed unmapped.
func AssignPVs(vg *VG, found []Location, devices []PVDevice) (map[string]string, []string) {
	assigned := map[string]string{}
	claimed := map[string]bool{}
	var notes []string
	for _, pv := range vg.PVs {
		for _, d := range devices {
			if d.PVUUID != "" && d.PVUUID == pv.ID && !claimed[d.Name] {
				assigned[pv.Name], claimed[d.Name] = d.Name, true
				break
			}
		}
	}
	var unmapped []*PV
	for _, pv := range vg.PVs {
		if _, ok := assigned[pv.Name]; !ok {
			unmapped = append(unmapped, pv)
		}
	}
	var candidates []string
	seen := map[string]bool{}
	for _, l := range found {
		for _, d := range devices {
			if d.Name == l.Device && d.PVUUID != "" && !claimed[d.Name] && !seen[d.Name] {
				candidates, seen[d.Name] = append(candidates, d.Name), true
			}
		}
	}
	if len(unmapped) == 1 && len(candidates) == 1 {
		pv := unmapped[0]
		assigned[pv.Name] = candidates[0]
		notes = append(notes, fmt.Sprintf("%s (id %s) mapped to %s, which holds this text under a PV label of another id (rewritten by pvcreate?)", pv.Name, pv.ID, candidates[0]))
		unmapped = nil
	}
	for _, pv := range unmapped {
		notes = append(notes, fmt.Sprintf("%s (id %s) is on none of the devices given", pv.Name, pv.ID))
	}
	sort.Strings(notes)
	return assigned, notes
}
