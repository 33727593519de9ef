package nbd_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// kernelGuest is the script TestKernelClient runs in user-mode Linux.
// The guest cannot reach a host socket through hostfs, so the server (the
// static holmes binary, read through hostfs like the disk images) and the
// kernel's NBD client both run in it, on a socket in the guest's own /run.
// nbd-client is given no -readonly: the export alone must make the device
// read-only. Its -timeout turns a server that stops answering into an I/O
// error instead of a hang. What the host checks is written to $W.
const kernelGuest = `
modprobe nbd
sock=/run/holmes.sock
"$HOLMES" --case "$W/case.json" serve --socket $sock guests/home guests/vm01:p1 md1 >"$W/serve.out" 2>"$W/serve.err" &
server=$!
i=0
while [ ! -S $sock ]; do sleep 0.1; i=$((i + 1)); [ $i -lt 300 ]; done
set -x
connect() { timeout 60 nbd-client -unix $sock "$1" -name "$2" -timeout 60; }
connect /dev/nbd0 guests/home
connect /dev/nbd1 md1
connect /dev/nbd2 guests/vm01:p1

# A client that hangs up in the middle of a read: the kernel's, disconnected
# once dd has read 4 MiB of the 194 MiB array.
before=$(awk '{print $3}' /sys/block/nbd1/stat)
dd if=/dev/nbd1 of=/dev/null bs=1M iflag=direct &
reader=$!
while kill -0 $reader 2>/dev/null && [ $(awk '{print $3}' /sys/block/nbd1/stat) -le $((before + 8192)) ]; do sleep 0.02; done
nbd-client -d /dev/nbd1
rc=0; wait $reader || rc=$?
echo $rc >"$W/cut.rc"

# The server still serves: the array again, read whole while the files of
# the filesystems are read through the other connections.
connect /dev/nbd1 md1
for n in 0 1 2; do blockdev --getro /dev/nbd$n; done >"$W/ro"
(timeout 120 sha256sum /dev/nbd1 >"$W/md1.sum") &
reader=$!
for n in 0 2; do
	mkdir "$W/nbd$n"
	mount -o ro,noload /dev/nbd$n "$W/nbd$n"
	(cd "$W/nbd$n" && timeout 120 find . -type f -exec sha256sum {} +) >"$W/nbd$n.sums"
done
wait $reader

# Writes fail: to the device, and by remounting read-write.
if dd if=/dev/zero of=/dev/nbd0 bs=4096 count=1 oflag=direct; then echo dd >>"$W/written"; fi
if mount -o remount,rw "$W/nbd0"; then echo remount >>"$W/written"; fi

umount "$W/nbd0" "$W/nbd2"
for n in 0 1 2; do nbd-client -d /dev/nbd$n; done
kill -TERM $server
rc=0; wait $server || rc=$?
echo $rc >"$W/serve.rc"
if [ -e $sock ]; then echo socket left >>"$W/serve.err"; fi
`

// TestKernelClient is issue 15's proof that holmes serve feeds the
// kernel: in user-mode Linux, the holmes binary serves the incident's
// raid10 (md1, assembled from the case file holmes triage writes), its LV
// guests/home and the partition inside its LV guests/vm01; the kernel's nbd
// client, given the export, makes a read-only block device; mount -o
// ro,noload shows every file of both filesystems with the sha256 the lab
// recorded, and the array reads as holmes dump reads it. Writing to the
// device and remounting read-write fail. Three clients at once, and a
// client that hangs up mid-read, leave the server serving; SIGTERM stops it
// cleanly, and the disks are unchanged. It drives the holmes binary only,
// so it lives here, beside the server, and runs beside cmd/holmes's tests.
func TestKernelClient(t *testing.T) {
	if testing.Short() {
		t.Skip("boots user-mode Linux and reads a 194 MiB array through the kernel's NBD client")
	}
	fixture.NeedUML(t, "nbd-client", "blockdev", "mount", "timeout")
	if m, _ := filepath.Glob("/usr/lib/uml/modules/*/kernel/drivers/block/nbd.ko"); len(m) == 0 {
		t.Skip("the user-mode Linux kernel has no nbd.ko")
	}
	bin := fixture.BuildHolmes(t)
	r := fixture.LoadIncident(t)
	var disks []string
	for _, d := range r.Disks {
		disks = append(disks, fixture.IncidentDev(t, d))
	}
	before := fixture.SHA256Files(t, disks)
	dir := t.TempDir()
	caseFile := filepath.Join(dir, "case.json")
	if out, err := exec.Command(bin, append([]string{"triage", "--write-case", caseFile}, disks...)...).CombinedOutput(); err != nil {
		t.Fatalf("holmes triage: %v\n%s", err, out)
	}
	dump := exec.Command(bin, "--case", caseFile, "dump", "md1")
	h := sha256.New()
	var stderr strings.Builder
	dump.Stdout, dump.Stderr = h, &stderr
	if err := dump.Run(); err != nil {
		t.Fatalf("holmes dump md1: %v\n%s", err, stderr.String())
	}
	md1 := hex.EncodeToString(h.Sum(nil))

	script := filepath.Join(dir, "guest.sh")
	env := fmt.Sprintf("HOLMES='%s' W='%s'\n", bin, dir)
	if err := os.WriteFile(script, []byte(env+kernelGuest), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(fixture.Repo(t, "testdata/lab/uml.sh"), script).CombinedOutput()
	if err != nil {
		t.Fatalf("the guest failed: %v\n%s", err, out)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}

	if got := read("cut.rc"); got == "0" || got == "" {
		t.Errorf("dd was not cut short by the client's hang-up (exit %q): the test did not hang up mid-read", got)
	}
	if got := read("ro"); got != "1\n1\n1" {
		t.Errorf("blockdev --getro of the three exports: %q, want 1 for each", got)
	}
	for nbd, fs := range map[string]string{"nbd0": "guests/home", "nbd2": "guests/vm01:p1"} {
		want := r.Files[fs]
		seen := map[string]bool{}
		for _, line := range strings.Split(read(nbd+".sums"), "\n") {
			sum, path, ok := strings.Cut(line, "  ./")
			if !ok {
				t.Errorf("%s: sha256sum printed %q", fs, line)
				continue
			}
			path = "/" + path
			seen[path] = true
			if w, ok := want[path]; !ok {
				t.Errorf("%s %s: mounted, not in the record", fs, path)
			} else if sum != w.SHA256 {
				t.Errorf("%s %s: sha256 %s through the kernel's mount, the lab recorded %s", fs, path, sum, w.SHA256)
			}
		}
		for path := range want {
			if !seen[path] {
				t.Errorf("%s %s: in the record, not in the mount", fs, path)
			}
		}
	}
	if got, want := read("md1.sum"), md1+"  /dev/nbd1"; got != want {
		t.Errorf("md1 through the kernel's client: %q, holmes dump: %q", got, want)
	}
	if got := read("written"); got != "" {
		t.Errorf("writes succeeded: %s", got)
	}
	if got := read("serve.rc"); got != "0" {
		t.Errorf("serve exited %q after SIGTERM", got)
	}
	if got := read("serve.err"); got != "" {
		t.Errorf("serve's stderr: %s", got)
	}
	if got := read("serve.out"); !strings.Contains(got, "nbd+unix:///guests/home?socket=/run/holmes.sock\t") || strings.Count(got, "\n") != 2 {
		t.Errorf("serve printed %q", got)
	}
	after := fixture.SHA256Files(t, disks)
	for i := range disks {
		if before[i] != after[i] {
			t.Errorf("%s changed while it was served", disks[i])
		}
	}
	if t.Failed() {
		t.Logf("the guest's output:\n%s", out)
	}
}
