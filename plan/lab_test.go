package plan_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/internal/fixture"
	"holmes/plan"
	"holmes/triage"
)

// incidentFiles are files whose sha256 the lab checks through the plan's
// mounts: the ones the degraded halves changed prove the trusted halves
// were used, the others that every LV, and the partition inside vm01, read.
var incidentFiles = map[string][]string{
	"guests/home":    {"/data/f700000", "/new-while-degraded.txt", "/docs/a/b/c/deep.txt"},
	"guests/var":     {"/log/app.log", "/log/app.log.1"},
	"guests/distros": {"/iso/image.bin", "/pub/image.bin", "/data/f700000"},
	"guests/vm01:p1": {"/etc/hostname", "/data/f131073"},
}

// TestPlanRunsOnTheIncident runs the plan that one holmes triage call makes
// of the incident's ten disks, as printed, in user-mode Linux over the
// committed disk images (issue 12's proof that it runs): every step
// under sh -e (so every e2fsck -f -n of an LV passes), files read through
// its mounts match the kernel's record, the undo lines take it all back,
// and the images are byte-identical afterwards.
func TestPlanRunsOnTheIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("boots user-mode Linux over ten 64 MiB disks")
	}
	fixture.NeedUML(t, "mdadm", "lvm", "dmsetup", "losetup", "wipefs", "blockdev", "e2fsck", "truncate")
	rec := fixture.LoadIncident(t)
	var images []string
	for i := range 10 {
		images = append(images, fixture.Unpack(t, fixture.Repo(t, fmt.Sprintf("testdata/incident/d%d.img.xz", i))))
	}
	before := fixture.SHA256Files(t, images)

	dir := t.TempDir()
	caseFile := filepath.Join(dir, "case.json")
	tr, err := triage.Run(context.Background(), images, func(s string) (blockdev.Device, error) { return blockdev.Open(s, nil) }, triage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.Result.Ambiguous {
		t.Fatalf("triage of the incident is ambiguous: %+v", tr.Result.Arrays)
	}
	if err := tr.WriteCase(caseFile, images); err != nil {
		t.Fatal(err)
	}
	c, err := casefile.Load(caseFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.FromCase(c, plan.Options{OverlayDir: filepath.Join(dir, "overlays"), MountDir: "/run/holmes"})
	if err != nil {
		t.Fatal(err)
	}
	var check, undo []string
	for dev, files := range incidentFiles {
		for _, f := range files {
			mnt := "/run/holmes/" + strings.NewReplacer("/", "-", ":", "").Replace(dev)
			check = append(check, fmt.Sprintf("echo \"%s %s $(sha256sum %s | cut -d' ' -f1)\" >> %s", dev, f, mnt+f, filepath.Join(dir, "sums.txt")))
		}
	}
	for _, l := range p.Lines() {
		if u, ok := strings.CutPrefix(l, "#   "); ok {
			undo = append(undo, u)
		}
	}
	guest := strings.Join([]string{
		"# the rescue system's udev and lvm settings, in a guest without udev",
		"export DM_DISABLE_UDEV=1 LVM_SYSTEM_DIR=/run/lvm-plan",
		"mkdir -p $LVM_SYSTEM_DIR",
		`printf 'devices { obtain_device_list_from_udev = 0 use_devicesfile = 0 }\nactivation { udev_sync = 0 udev_rules = 0 monitoring = 0 }\n' > $LVM_SYSTEM_DIR/lvm.conf`,
		"set -x",
		strings.Join(p.Lines(), "\n"),
		strings.Join(check, "\n"),
		strings.Join(undo, "\n"),
		"test ! -e " + filepath.Join(dir, "overlays") + " && echo undone",
	}, "\n") + "\n"
	script := filepath.Join(dir, "guest.sh")
	if err := os.WriteFile(script, []byte(guest), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(fixture.Repo(t, "testdata/lab/uml.sh"), "-m", "512M", script).CombinedOutput()
	if err != nil {
		t.Fatalf("the plan failed in user-mode Linux: %v\n%s", err, out)
	}
	for _, fs := range []string{"home", "var", "distros", "vm01-root"} {
		if !strings.Contains(string(out), "\n"+fs+": ") {
			t.Errorf("no e2fsck summary of %s in the guest's output", fs)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "sums.txt"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(got)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Errorf("bad sum line %q", line)
			continue
		}
		n++
		if want := rec.Files[f[0]][f[1]].SHA256; f[2] != want {
			t.Errorf("%s %s: sha256 %s through the plan's mount, the kernel read %s", f[0], f[1], f[2], want)
		}
	}
	if n != 10 {
		t.Errorf("%d files checked, want 10:\n%s", n, out)
	}
	if !strings.Contains(string(out), "\nundone\n") {
		t.Errorf("the undo lines did not run through:\n%s", out)
	}
	after := fixture.SHA256Files(t, images)
	for i := range images {
		if before[i] != after[i] {
			t.Errorf("%s changed: sha256 %s before the plan, %s after", images[i], before[i], after[i])
		}
	}
}
