package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The journal is replayed in memory: the image (and the external journal
// device) stay byte-identical (the harness hashes them), cat reads the
// replayed state, --no-journal the on-disk one, and ext replay reports the
// paths the replay changed.
func TestExtReplayCLI(t *testing.T) {
	t.Parallel()
	img := extImage(t, "ext4-replay")
	out, _, code := holmes(t, "ext", "cat", img, "/new/hello")
	if code != 0 || out != "written after mkfs\n" {
		t.Fatalf("cat after replay: %d %q", code, out)
	}
	if _, errOut, code := holmes(t, "ext", "--no-journal", "cat", img, "/new/hello"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Fatalf("--no-journal cat: %d %s", code, errOut)
	}
	out, errOut, code := holmes(t, "--json", "ext", "replay", img)
	if code != 0 {
		t.Fatalf("replay: %d %s", code, errOut)
	}
	var rp struct {
		Transactions int `json:"transactions"`
		Revoked      []uint64
		Inodes       []struct {
			Paths []string `json:"paths"`
		} `json:"inodes"`
	}
	if err := json.Unmarshal([]byte(out), &rp); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, in := range rp.Inodes {
		paths = append(paths, in.Paths...)
	}
	if rp.Transactions < 2 || len(rp.Revoked) == 0 || !strings.Contains(strings.Join(paths, " "), "/new/after-revoke.txt") {
		t.Fatalf("replay report: %+v", rp)
	}

	ext, jdev := extImage(t, "ext4-replay-ext"), extImage(t, "ext4-replay-ext.journal")
	out, _, code = holmes(t, "ext", "--journal-device", jdev, "cat", ext, "/new/hello")
	if code != 0 || out != "written after mkfs\n" {
		t.Fatalf("external journal: %d %q", code, out)
	}
	out, _, _ = holmes(t, "ext", "info", ext)
	if !strings.Contains(out, "--journal-device") {
		t.Fatalf("info without the journal device:\n%s", out)
	}
}
