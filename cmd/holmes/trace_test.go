package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// trace on a bare filesystem image: the primary superblock by name, and
// the first block of a file (as ext stat places it) by path and offset.
func TestTraceFilesystemImage(t *testing.T) {
	t.Parallel()
	img := extImage(t, "ext4")
	steps := traceJSON(t, "trace", img, "1024+1024", "--json")
	if len(steps) != 1 || steps[0]["layer"] != "ext" || steps[0]["what"] != "superblock (group 0)" || steps[0]["length"] != 1024.0 {
		t.Errorf("superblock: %v", steps)
	}
	out, stderr, code := holmes(t, "ext", "stat", "--json", img, "/home/user/tiny.txt")
	if code != 0 {
		t.Fatalf("ext stat: %s", stderr)
	}
	var st struct {
		Runs []struct{ Physical int64 } `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Runs) == 0 {
		t.Fatalf("ext stat: %v %s", err, out)
	}
	info, _, _ := holmes(t, "ext", "info", "--json", img)
	var fs struct {
		BlockSize int64 `json:"block_size"`
	}
	json.Unmarshal([]byte(info), &fs)
	at := st.Runs[0].Physical * fs.BlockSize
	steps = traceJSON(t, "trace", "--json", img, strconv.FormatInt(at+10, 10)+"+5")
	if len(steps) != 1 || steps[0]["what"] != "file" || steps[0]["path"] != "/home/user/tiny.txt" || steps[0]["file_offset"] != 10.0 {
		t.Errorf("file block %d: %v", at, steps)
	}
	text, _, _ := holmes(t, "trace", img, strconv.FormatInt(at, 10))
	if !strings.Contains(text, "file /home/user/tiny.txt @ 0") {
		t.Errorf("text:\n%s", text)
	}
}

func traceJSON(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	out, stderr, code := holmes(t, args...)
	if code != 0 {
		t.Fatalf("holmes %v: exit %d: %s", args, code, stderr)
	}
	var steps []map[string]any
	if err := json.Unmarshal([]byte(out), &steps); err != nil {
		t.Fatalf("holmes %v: %v\n%s", args, err, out)
	}
	return steps
}

// Bad ranges and flags are usage errors (exit 2); a range past the end is
// a failure (exit 1) that says so.
func TestTraceArguments(t *testing.T) {
	t.Parallel()
	img := extImage(t, "ext4")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"trace", img, "x"}, 1, "x is no OFFSET[+LEN]: read as a second DEV"},
		{[]string{"trace", img, "1x"}, 2, "holmes trace: OFFSET: bad size"},
		{[]string{"trace", img, "0+0"}, 2, "holmes trace: LEN: want a size above 0"},
		{[]string{"trace", "--superblock", "8193", img, "0"}, 2, "holmes trace: --superblock \"8193\": want DEV=BLOCK"},
		{[]string{"trace", img, "1T"}, 1, "run past its end"},
	} {
		_, stderr, code := holmes(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("holmes %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}
