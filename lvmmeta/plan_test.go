package lvmmeta

import (
	"strings"
	"testing"
)

func TestPlanLab(t *testing.T) {
	vg, pvs := labBackup(t), labPVs(t)
	md0 := pvs["pv0"]
	l, err := ReadLabel(md0, md0.Size())
	if err != nil {
		t.Fatal(err)
	}
	p := MakePlan(vg, "guests 45.vg", map[string]Target{
		"pv0": {Path: "/dev/md0", Size: md0.Size(), Label: l},
		"pv1": {Path: "/dev/md1", Size: 20 << 20},
	})
	want := []string{
		"pvcreate -ff --uuid Nry7Nt-he1J-8uCG-bBcU-lyqs-3Ky3-IneHbT --restorefile 'guests 45.vg' /dev/md0",
		"pvcreate --uuid m9NfcT-N2Wa-rtiZ-4UrA-kA2o-BoPc-1j2CY8 --restorefile 'guests 45.vg' /dev/md1",
		"vgcfgrestore --force -f 'guests 45.vg' guests",
	}
	if strings.Join(p.Commands, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s", strings.Join(p.Commands, "\n"))
	}
	// pv1 maps 128 KiB + 23 MiB; 20 MiB is too small. md0 holds the
	// installer's PV now. The thin pool needs --force; the raid1 LV is named.
	w := strings.Join(p.Warnings, "\n")
	for _, s := range []string{"pv1: /dev/md1 has 20971520 bytes, the PV maps 24248320", "carries PV GpPaym-oNDk-K84Q-VYmi-jpSd-mez9-H2SzKx", "thin pool(s) pool", "mirror: segment type raid1"} {
		if !strings.Contains(w, s) {
			t.Errorf("warnings lack %q:\n%s", s, w)
		}
	}
	if *p.PVs[0].SizeOK != true || *p.PVs[1].SizeOK != false {
		t.Errorf("size checks = %v %v", *p.PVs[0].SizeOK, *p.PVs[1].SizeOK)
	}
}
