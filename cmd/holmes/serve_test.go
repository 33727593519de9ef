package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"holmes/internal/fixture"
)

// needLibnbd skips unless the real NBD clients are installed.
func needLibnbd(t *testing.T) {
	t.Helper()
	for _, p := range []string{"nbdinfo", "nbdcopy"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not found: install Debian's libnbd-bin to test holmes serve against real NBD clients", p)
		}
	}
}

// startServe runs holmes serve in the background over the case file cf and
// returns the URI it prints for each export, in order; the server is
// stopped (as by SIGINT) when the test ends, and must end cleanly.
func startServe(t *testing.T, cf string, opts ServeOptions) []string {
	t.Helper()
	out, errOut := &fixture.SyncBuffer{}, &fixture.SyncBuffer{}
	opts.Factory = &Factory{Out: out, ErrOut: errOut, CaseFile: cf}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveRun(ctx, &opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
		if s := errOut.String(); s != "" {
			t.Errorf("serve's stderr: %s", s)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) == len(opts.Devices) && strings.HasSuffix(out.String(), "\n") {
			var uris []string
			for _, l := range lines {
				uri, _, _ := strings.Cut(l, "\t")
				uris = append(uris, uri)
			}
			return uris
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v (%s)", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed %q", out.String())
		}
	}
}

// lvmCase writes a case file over the LVM lab's two disks: md0 and md1 as
// degraded raid1s, the VG guests on them (the carved metadata of record).
func lvmCase(t *testing.T) (cf, diskA, diskC string) {
	t.Helper()
	diskA, diskC = lvmLab(t, "disk-a"), lvmLab(t, "disk-c")
	vg := fixture.Repo(t, "testdata/lvm/record/carved-guests_45.vg")
	cf = filepath.Join(t.TempDir(), "case.json")
	os.WriteFile(cf, []byte(`{"arrays": [
		{"name": "md0", "level": "raid1", "data_offset": 1048576, "members": ["`+diskA+`", null]},
		{"name": "md1", "level": "raid1", "data_offset": 0, "data_size": 25100288, "members": ["`+diskC+`", null]}],
		"volume_groups": [{"metadata": "`+vg+`", "pvs": {"pv0": "md0", "pv1": "md1"}}]}`), 0o644)
	return cf, diskA, diskC
}

// TestServeNBDClients: nbdinfo lists every export with its size, read-only;
// nbdcopy images an LV as the kernel wrote it and an array and a member
// range as holmes dump reads them; nbdcopy cannot write; the disks are
// unchanged.
func TestServeNBDClients(t *testing.T) {
	needLibnbd(t)
	t.Parallel()
	cf, diskA, diskC := lvmCase(t)
	before := hashInputs(t, []string{diskA, diskC})
	devs := []string{"guests/root", "md0", diskC + "@4K+1M"}
	sock := filepath.Join(t.TempDir(), "nbd.sock")
	uris := startServe(t, cf, ServeOptions{Devices: devs, Socket: sock})

	out, err := exec.Command("nbdinfo", "--list", "--json", "nbd+unix:///?socket="+sock).Output()
	if err != nil {
		t.Fatalf("nbdinfo --list: %v", err)
	}
	var list struct {
		Exports []struct {
			Name     string `json:"export-name"`
			Size     int64  `json:"export-size"`
			ReadOnly bool   `json:"is_read_only"`
		}
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	f := &Factory{CaseFile: cf}
	if len(list.Exports) != len(devs) {
		t.Fatalf("nbdinfo lists %+v", list.Exports)
	}
	for i, e := range list.Exports {
		d, err := f.OpenDevice(devs[i])
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		if e.Name != devs[i] || e.Size != d.Size() || !e.ReadOnly {
			t.Errorf("nbdinfo: export %+v, want %s of %d bytes, read-only", e, devs[i], d.Size())
		}
	}

	dir := t.TempDir()
	rootSums, _ := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/lv-sha256.txt"))
	for i, dev := range devs {
		img := filepath.Join(dir, "export.img")
		os.Remove(img)
		if out, err := exec.Command("nbdcopy", uris[i], img).CombinedOutput(); err != nil {
			t.Fatalf("nbdcopy %s: %v: %s", uris[i], err, out)
		}
		got := fileSHA256(t, img)
		if dev == "guests/root" && !strings.Contains(string(rootSums), got+"  root\n") {
			t.Errorf("guests/root through NBD: sha256 %s is not the kernel's", got)
		}
		dump, stderr, code := holmes(t, "--case", cf, "dump", dev)
		if code != 0 {
			t.Fatalf("dump %s: %s", dev, stderr)
		}
		if sum := sha256.Sum256([]byte(dump)); hex.EncodeToString(sum[:]) != got {
			t.Errorf("%s: nbdcopy's image differs from holmes dump", dev)
		}
	}

	zeros := filepath.Join(dir, "zeros")
	os.WriteFile(zeros, make([]byte, 4096), 0o644)
	if out, err := exec.Command("nbdcopy", zeros, uris[0]).CombinedOutput(); err == nil || !strings.Contains(string(out), "read-only") {
		t.Errorf("nbdcopy onto an export: %v: %s", err, out)
	}
	if after := hashInputs(t, []string{diskA, diskC}); len(after) != 2 || after[diskA] != before[diskA] || after[diskC] != before[diskC] {
		t.Error("serving changed a disk")
	}
}

// TestServeTCP: --listen serves the same exports on TCP at the address it
// prints (port 0: one the kernel picks).
func TestServeTCP(t *testing.T) {
	needLibnbd(t)
	t.Parallel()
	cf, _, _ := lvmCase(t)
	uris := startServe(t, cf, ServeOptions{Devices: []string{"guests/root"}, Listen: "127.0.0.1:0"})
	if !strings.HasPrefix(uris[0], "nbd://127.0.0.1:") || !strings.HasSuffix(uris[0], "/guests/root") {
		t.Fatalf("uri %s", uris[0])
	}
	img := filepath.Join(t.TempDir(), "root.img")
	if out, err := exec.Command("nbdcopy", uris[0], img).CombinedOutput(); err != nil {
		t.Fatalf("nbdcopy: %v: %s", err, out)
	}
	sums, _ := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/lv-sha256.txt"))
	if got := fileSHA256(t, img); !strings.Contains(string(sums), got+"  root\n") {
		t.Errorf("guests/root over TCP: sha256 %s is not the kernel's", got)
	}
}

// TestServeTCPWarnsOffLoopback: listening on every address says on stderr
// that NBD has no authentication (docs/serve.md) and names the export by
// the machine's name, not "[::]"; on loopback it does not warn
// (TestServeTCP's stderr is empty).
func TestServeTCPWarnsOffLoopback(t *testing.T) {
	t.Parallel()
	img := zeroDisk(t, t.TempDir(), 4096)
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // listen, print, stop at once
	opts := ServeOptions{Factory: &Factory{Out: &out, ErrOut: &errOut}, Devices: []string{img}, Listen: "0.0.0.0:0"}
	if err := serveRun(ctx, &opts); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if !strings.HasPrefix(out.String(), "nbd://"+host+":") || !strings.Contains(errOut.String(), "warning: NBD has no authentication: anyone who reaches ") {
		t.Errorf("serve --listen 0.0.0.0:0 printed %q, stderr %q", out.String(), errOut.String())
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// zeroDisk writes a read-only image of size bytes, all zero, into dir: a disk
// for the tests that serve something without caring what.
func zeroDisk(t *testing.T, dir string, size int) string {
	t.Helper()
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, make([]byte, size), 0o444); err != nil {
		t.Fatal(err)
	}
	return img
}

func TestServeErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := zeroDisk(t, dir, 4096)
	notSocket := filepath.Join(dir, "file")
	os.WriteFile(notSocket, []byte("x"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve"}, 2, "needs a DEV"},
		{[]string{"serve", "--socket", filepath.Join(dir, "s"), "--listen", "127.0.0.1:0", img}, 2, "give one"},
		{[]string{"serve", "--socket", filepath.Join(dir, "s"), img, img}, 2, "given twice"},
		{[]string{"serve", "--socket", filepath.Join(dir, "s"), filepath.Join(dir, "nosuch")}, 1, "no such file"},
		{[]string{"serve", "--socket", notSocket, img}, 1, "exists and is not a socket"},
	} {
		_, stderr, code := holmes(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if b, _ := os.ReadFile(notSocket); string(b) != "x" {
		t.Error("--socket replaced a file")
	}
}

// TestServeSocketLeftBehind: a socket a live server listens on is refused;
// once that server died without removing it, serve replaces it.
func TestServeSocketLeftBehind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := zeroDisk(t, dir, 4096)
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := holmes(t, "serve", "--socket", sock, img); code != 1 || !strings.Contains(stderr, "another server is listening there") {
		t.Errorf("serve on a live server's socket: exit %d, %q", code, stderr)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	startServe(t, "", ServeOptions{Devices: []string{img}, Socket: sock})
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("serve did not replace the dead server's socket: %v", err)
	}
	c.Close()
}

// TestServeStopsOnSignal runs holmes serve as a process (this test binary
// again), with a client connected on its default socket (holmes.sock in
// the working directory), and sends it SIGINT, then SIGTERM: it must exit
// 0 at once and remove its socket.
func TestServeStopsOnSignal(t *testing.T) {
	if args := os.Getenv("HOLMES_SERVE_ARGS"); args != "" {
		os.Exit(run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	t.Parallel()
	dir := t.TempDir()
	img := zeroDisk(t, dir, 1<<20)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		sock := filepath.Join(dir, "holmes.sock")
		cmd := exec.Command(os.Args[0], "-test.run=^TestServeStopsOnSignal$")
		cmd.Env = append(os.Environ(), "HOLMES_SERVE_ARGS=serve\n"+img)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var c net.Conn
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var err error
			if c, err = net.Dial("unix", sock); err == nil {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("serve never listened: %v", err)
			}
		}
		defer c.Close()
		cmd.Process.Signal(sig)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%v: serve: %v: %s", sig, err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: serve did not stop with a client connected", sig)
		}
		if _, err := os.Stat(sock); !os.IsNotExist(err) {
			t.Errorf("%v: socket left behind: %v", sig, err)
		}
	}
}
