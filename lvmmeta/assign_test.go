package lvmmeta

import (
	"strings"
	"testing"
)

func TestAssignPVs(t *testing.T) {
	vg := &VG{PVs: []*PV{{Name: "pv0", ID: "AAAA"}, {Name: "pv1", ID: "BBBB"}}}
	found := []Location{{Device: "md0", Offset: 4608}, {Device: "md1", Offset: 4608}, {Device: "root.img", Offset: 99}}

	// Both labels intact: the ids decide, whatever the order given.
	got, notes := AssignPVs(vg, found, []PVDevice{{"md1", "BBBB"}, {"md0", "AAAA"}, {"root.img", ""}})
	if got["pv0"] != "md0" || got["pv1"] != "md1" || len(notes) != 0 {
		t.Errorf("by label: %v %v", got, notes)
	}

	// pv1's label rewritten by an installer's pvcreate: the one unclaimed
	// PV device holding the text takes the one unmapped PV, with a note.
	got, notes = AssignPVs(vg, found, []PVDevice{{"md0", "AAAA"}, {"md1", "NEW1"}, {"root.img", ""}})
	if got["pv1"] != "md1" || len(notes) != 1 || !strings.Contains(notes[0], "another id") {
		t.Errorf("one rewritten label: %v %v", got, notes)
	}

	// Both rewritten: no guessing between two devices.
	got, notes = AssignPVs(vg, found, []PVDevice{{"md0", "NEW0"}, {"md1", "NEW1"}})
	if len(got) != 0 || len(notes) != 2 {
		t.Errorf("two rewritten labels: %v %v", got, notes)
	}
}
