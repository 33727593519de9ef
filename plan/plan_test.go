package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"holmes/casefile"
	"holmes/internal/fixture"
)

// fakeImages makes n empty files named like the incident's disks: the plan
// only needs them to exist.
func fakeImages(t *testing.T, n int) []string {
	dir := t.TempDir()
	var out []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("d%d.img", i))
		if err := os.WriteFile(p, nil, 0o444); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func loadCase(t *testing.T, data []byte) *casefile.Case {
	t.Helper()
	p := filepath.Join(t.TempDir(), "case.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := casefile.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The incident's original stack: the lines a rescue system runs, in order,
// with the stale halves left out as missing.
func TestIncidentPlanLines(t *testing.T) {
	images := fakeImages(t, 10)
	p, err := FromCase(loadCase(t, incidentCase(t, images)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	vg := fixture.Repo(t, "testdata/incident/record/original-guests.vgcfgbackup.txt")
	overlays := func(p int, skip ...int) string {
		var m []string
		for i := range 10 {
			if slices.Contains(skip, i) {
				m = append(m, "missing")
			} else {
				m = append(m, fmt.Sprintf("/dev/mapper/holmes-d%dp%d", i, p))
			}
		}
		return strings.Join(m, " ")
	}
	want := []string{
		"mkdir -p /tmp/holmes-overlays",
		"L0=$(losetup --find --show --read-only --partscan " + images[0] + ")",
		`truncate -s "$(blockdev --getsize64 "${L0}p1")" /tmp/holmes-overlays/d0p1.cow`,
		"C0=$(losetup --find --show /tmp/holmes-overlays/d0p1.cow)",
		`dmsetup create holmes-d0p1 --table "0 $(blockdev --getsz "${L0}p1") snapshot ${L0}p1 $C0 N 8"`,
		`dmsetup create holmes-d9p2 --table "0 $(blockdev --getsz "${L9}p2") snapshot ${L9}p2 $C16 N 8"`,
		"mdadm --create /dev/md0 --assume-clean --readonly --run --metadata=0.90 --level=raid1 --raid-devices=10 --bitmap=none " + overlays(1, 9),
		"mdadm --create /dev/md1 --assume-clean --readonly --run --metadata=0.90 --level=raid10 --layout=n2 --chunk=64K --raid-devices=10 --bitmap=none " + overlays(2, 1, 4),
		"mdadm --readwrite /dev/md1",
		`LVM0="devices { use_devicesfile = 0 filter = [ \"a|^/dev/md1\$|\", \"r|.*|\" ] }"`,
		"wipefs --all --types LVM2_member /dev/md1",
		`pvcreate --config "$LVM0" -ff -y --uuid PffJVp-4G0Q-Bb9h-cbmI-V9BT-G63K-tw8f2v --restorefile ` + vg + " /dev/md1",
		`vgcfgrestore --config "$LVM0" -f ` + vg + " guests",
		`vgchange --config "$LVM0" -ay guests`,
		"e2fsck -f -n -b 8193 -B 1024 /dev/md0 || echo 'md0: e2fsck -n reports damage, as expected: its root directory is lost' >&2",
		"e2fsck -f -n /dev/guests/home",
		"mkdir -p /mnt/holmes/guests-home && mount -o ro /dev/guests/home /mnt/holmes/guests-home",
		"e2fsck -f -n /dev/guests/var",
		"e2fsck -f -n /dev/guests/distros",
		"P0=$(losetup --find --show --read-only --partscan /dev/guests/vm01)",
		`e2fsck -f -n "${P0}p1"`,
		`mkdir -p /mnt/holmes/guests-vm01p1 && mount -o ro "${P0}p1" /mnt/holmes/guests-vm01p1`,
	}
	var shells []string
	for _, s := range p.Steps {
		shells = append(shells, s.Shell)
	}
	at := -1
	for _, w := range want {
		i := slices.Index(shells, w)
		if i < 0 {
			t.Errorf("the plan lacks\n  %s\nin:\n  %s", w, strings.Join(shells, "\n  "))
			continue
		}
		if i < at {
			t.Errorf("%q comes too early (step %d, after step %d)", w, i, at)
		}
		at = i
	}
	firstCreate := slices.IndexFunc(shells, func(s string) bool { return strings.HasPrefix(s, "mdadm --create") })
	overlaysMade := 0
	for i, s := range p.Steps {
		if strings.HasPrefix(s.Shell, "dmsetup create") {
			overlaysMade++
			if i > firstCreate {
				t.Errorf("overlay made after the first write: %s", s.Shell)
			}
		}
		if strings.HasPrefix(s.Shell, "L") && !strings.HasPrefix(s.Shell, "LVM") && !strings.Contains(s.Shell, "--read-only") {
			t.Errorf("a disk image attached writable: %s", s.Shell)
		}
		if !strings.HasPrefix(s.Writes, "nothing") && !strings.HasPrefix(s.Writes, "overlay") && !strings.HasPrefix(s.Writes, "the directory /tmp/holmes-overlays") {
			t.Errorf("step %q writes %q: only overlays may be written", s.Shell, s.Writes)
		}
	}
	if overlaysMade != 17 {
		t.Errorf("%d overlays, want one per member the arrays use (9 + 8)", overlaysMade)
	}
	lines := p.Lines()
	if !slices.Contains(lines, "#   mdadm --stop /dev/md0") || !slices.Contains(lines, "#   dmsetup remove holmes-d0p1") ||
		!slices.Contains(lines, "# writes: nothing (attached read-only); undo: losetup -d \"$L0\"") {
		t.Errorf("undo comments missing:\n%s", strings.Join(lines, "\n"))
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "md0: its root directory is lost") }) {
		t.Errorf("no warning that md0 is not mounted: %v", p.Warnings)
	}
	for _, s := range shells {
		if strings.Contains(s, "/mnt/holmes/md0") {
			t.Errorf("the lost-root filesystem is mounted: %s", s)
		}
	}
}

// Partitions and ranges of images, arrays stacked on arrays, PVs on whole
// block devices and on a partition of an array, and an array without a
// recorded metadata format.
func TestPlanForms(t *testing.T) {
	img := fakeImages(t, 2)
	vg := fixture.Repo(t, "testdata/lvm/record/backup-guests.vg")
	c := loadCase(t, []byte(`{"arrays": [
		{"name": "md5", "level": "raid1", "data_offset": 1048576, "data_size": 20971520, "members": ["`+img[0]+`@1M+24M", "`+img[1]+`:p3@4096"]},
		{"name": "big", "level": "linear", "data_offset": 0, "metadata": "1.0", "members": ["md5", "`+img[1]+`:p2"]}],
		"volume_groups": [{"metadata": "`+vg+`", "pvs": {"pv0": "/dev/sdz", "pv1": "big:p1"}}]}`))
	p, err := FromCase(c, Options{OverlayDir: "/var/tmp/ov dir", Prefix: "x-"})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Join(p.Lines(), "\n")
	for _, want := range []string{
		"mkdir -p '/var/tmp/ov dir'",
		"L0=$(losetup --find --show --read-only --offset 1048576 --sizelimit 25165824 " + img[0] + ")",
		"L1=$(losetup --find --show --read-only --partscan " + img[1] + ")",
		`L2=$(losetup --find --show --read-only --offset 4096 "${L1}p3")`,
		`dmsetup create x-d1p3-4096 --table "0 $(blockdev --getsz "$L2") snapshot $L2 $C1 N 8"`,
		`truncate -s "$(blockdev --getsize64 /dev/sdz)" '/var/tmp/ov dir/sdz.cow'`,
		`dmsetup create x-sdz --table "0 $(blockdev --getsz /dev/sdz) snapshot /dev/sdz $C3 N 8"`,
		"mdadm --create /dev/md5 --assume-clean --readonly --run --metadata=1.2 --level=raid1 --raid-devices=2 --data-offset=1024K --size=20480K --bitmap=none /dev/mapper/x-d0-1048576+25165824 /dev/mapper/x-d1p3-4096",
		"mdadm --readwrite /dev/md5\n",
		"mdadm --create /dev/md/big --assume-clean --readonly --run --metadata=1.0 --level=linear --raid-devices=2 --bitmap=none /dev/md5 /dev/mapper/x-d1p2",
		"P0=$(losetup --find --show --partscan /dev/md/big)",
		`LVM0="devices { use_devicesfile = 0 filter = [ \"a|^/dev/mapper/x-sdz\$|\", \"a|^${P0}p1\$|\", \"r|.*|\" ] }"`,
		`pvcreate --config "$LVM0" -ff -y --uuid m9NfcT-N2Wa-rtiZ-4UrA-kA2o-BoPc-1j2CY8 --restorefile ` + vg + ` "${P0}p1"`,
		`pvcreate --config "$LVM0" -ff -y --uuid Nry7Nt-he1J-8uCG-bBcU-lyqs-3Ky3-IneHbT --restorefile ` + vg + " /dev/mapper/x-sdz",
		`vgcfgrestore --config "$LVM0" --force -f ` + vg + " guests",
		"# warning: array md5: the case file does not record its md metadata format; the plan uses 1.2",
		"# warning: guests: thin pool(s) pool",
		"# warning: no filesystems are listed",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("the plan lacks\n  %s\nin:\n%s", want, lines)
		}
	}
}

func TestPlanRefuses(t *testing.T) {
	img := fakeImages(t, 1)
	for _, c := range []struct{ json, want string }{
		{`{"arrays": [{"name": "md0", "level": "raid1", "data_offset": 4096, "metadata": "0.90", "members": ["` + img[0] + `"]}]}`, "metadata 0.90 keeps data at offset 0"},
		{`{"arrays": [{"name": "md0", "level": "raid1", "data_offset": 0, "metadata": "2.0", "members": ["` + img[0] + `"]}]}`, `metadata "2.0"`},
		{`{"arrays": [{"name": "md0", "level": "raid1", "data_offset": 0, "members": ["md1"]}, {"name": "md1", "level": "raid1", "data_offset": 0, "members": ["md0"]}]}`, "stacked on itself"},
		{`{"arrays": [{"name": "md 0", "level": "raid1", "data_offset": 0, "members": ["` + img[0] + `"]}]}`, "array name"},
		{`{"arrays": [{"name": "md0", "level": "raid1", "data_offset": 0, "members": ["/nonexistent/d.img"]}]}`, "no such file"},
		{`{"arrays": [{"name": "md0", "level": "raid1", "data_offset": 0, "members": ["` + img[0] + `:p1:p2"]}]}`, "only one partition"},
		{`{"filesystems": [{"dev": "` + img[0] + `", "superblock": 32768}]}`, "needs its block_size"},
	} {
		_, err := FromCase(loadCase(t, []byte(c.json)), Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.json, err, c.want)
		}
	}
}

// incidentCase is the case file of the incident's original stack: the
// raid1 root (0.90) over every partition 1 but the stale d9p1, the raid10
// (0.90, near-2, 64 KiB) over every partition 2 but the stale d1p2 and
// d4p2, VG guests as lvm2 backed it up, and its filesystems; the root's
// primary superblock was overwritten by the installer's mkfs.
func incidentCase(t *testing.T, images []string) []byte {
	member := func(i, p int) *string { s := fmt.Sprintf("%s:p%d", images[i], p); return &s }
	var raid1, raid10 []*string
	for i := range images {
		raid1 = append(raid1, member(i, 1))
		raid10 = append(raid10, member(i, 2))
	}
	raid1[9], raid10[1], raid10[4] = nil, nil, nil
	c := casefile.Case{
		Arrays: []casefile.Array{
			{Name: "md0", Level: "raid1", Metadata: "0.90", Members: raid1},
			{Name: "md1", Level: "raid10", Layout: "n2", ChunkBytes: 65536, Metadata: "0.90", Members: raid10},
		},
		VolumeGroups: []casefile.VolumeGroup{{
			Metadata: fixture.Repo(t, "testdata/incident/record/original-guests.vgcfgbackup.txt"),
			PVs:      map[string]string{"pv0": "md1"}}},
		Filesystems: []casefile.Filesystem{
			{Dev: "md0", Type: "ext3", Superblock: 8193, BlockSize: 1024, RootLost: true},
			{Dev: "guests/home"}, {Dev: "guests/var"}, {Dev: "guests/distros"}, {Dev: "guests/vm01:p1"},
		},
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
