package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// labArraySHA is the sha256 the kernel read from a lab array, and its members.
func labArray(t *testing.T, name string) (members []string, sum string) {
	t.Helper()
	var entries []struct {
		Name        string    `json:"name"`
		Members     []*string `json:"members"`
		ArraySHA256 string    `json:"array_sha256"`
	}
	fixture.JSON(t, "testdata/md/manifest.json", &entries)
	for _, e := range entries {
		if e.Name == name {
			for _, m := range e.Members {
				if m == nil {
					members = append(members, "missing")
				} else {
					members = append(members, labDev(t, *m))
				}
			}
			return members, e.ArraySHA256
		}
	}
	t.Fatalf("%s: not in the md lab manifest", name)
	return nil, ""
}

func decodeJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("output is not one JSON document: %v\n%s", err, out)
	}
}

// runAssemble runs holmes md assemble --json with args, which must succeed,
// and decodes its report.
func runAssemble(t *testing.T, args ...string) assembleJSON {
	t.Helper()
	out, errOut, code := holmes(t, append([]string{"md", "assemble", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r assembleJSON
	decodeJSON(t, out, &r)
	return r
}

type assembleJSON struct {
	Level      string    `json:"level"`
	Layout     string    `json:"layout"`
	ChunkBytes int64     `json:"chunk_bytes"`
	DataOffset int64     `json:"data_offset"`
	ArraySize  int64     `json:"array_size"`
	Source     string    `json:"source"`
	Members    []*string `json:"members"`
	SHA256     string    `json:"sha256"`
	Candidates []struct {
		Device string `json:"device"`
		Status string `json:"status"`
		Why    string `json:"why"`
	} `json:"candidates"`
	Warnings []string `json:"warnings"`
}

func TestMdAssembleFromSuperblocks(t *testing.T) {
	t.Parallel()
	members, sum := labArray(t, "r5-ls-v12")
	// Given in reverse order: the superblocks put them back.
	args := []string{"--sha256"}
	for i := len(members) - 1; i >= 0; i-- {
		args = append(args, members[i])
	}
	r := runAssemble(t, args...)
	if r.Source != "superblocks" || r.Level != "raid5" || r.Layout != "left-symmetric" || r.ChunkBytes != 65536 || r.DataOffset != 1<<20 {
		t.Errorf("geometry %+v", r)
	}
	for i, m := range r.Members {
		if m == nil || *m != members[i] {
			t.Errorf("role %d: %v, want %s", i, m, members[i])
		}
	}
	if r.SHA256 != sum {
		t.Errorf("sha256 %s, the kernel read %s", r.SHA256, sum)
	}
	compareWithMdadm(t, members[0], r)
}

// compareWithMdadm runs the real mdadm --examine on a member, when it is
// installed, and checks that the assembly agrees on level, layout, chunk,
// data offset and array size.
func compareWithMdadm(t *testing.T, member string, r assembleJSON) {
	t.Helper()
	if _, err := exec.LookPath("mdadm"); err != nil {
		t.Log("mdadm not installed: live comparison skipped")
		return
	}
	out, err := exec.Command("mdadm", "--examine", member).Output()
	if err != nil {
		t.Fatalf("mdadm --examine %s: %v", member, err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s*` + name + ` : (\S+)`).FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("mdadm --examine %s: no %q", member, name)
		}
		return m[1]
	}
	num := func(name string) int64 {
		n, err := strconv.ParseInt(strings.TrimSuffix(field(name), "K"), 10, 64)
		if err != nil {
			t.Fatalf("mdadm --examine: %s: %v", name, err)
		}
		return n
	}
	if got := field("Raid Level"); got != r.Level {
		t.Errorf("level %s, mdadm says %s", r.Level, got)
	}
	if got := field("Layout"); got != r.Layout {
		t.Errorf("layout %s, mdadm says %s", r.Layout, got)
	}
	if got := num("Chunk Size") * 1024; got != r.ChunkBytes {
		t.Errorf("chunk %d, mdadm says %d", r.ChunkBytes, got)
	}
	if got := num("Data Offset") * 512; got != r.DataOffset {
		t.Errorf("data offset %d, mdadm says %d", r.DataOffset, got)
	}
	if got := num("Array Size") * 1024; got != r.ArraySize {
		t.Errorf("array size %d, mdadm says %d", r.ArraySize, got)
	}
}

// A member of another array among the DEVs is reported as foreign and left out.
func TestMdAssembleReportsForeignMembers(t *testing.T) {
	t.Parallel()
	members, sum := labArray(t, "r5-ls-v12")
	other, _ := labArray(t, "r10-n2-v12")
	r := runAssemble(t, append([]string{"--sha256", other[0]}, members...)...)
	if r.SHA256 != sum {
		t.Errorf("sha256 %s, the kernel read %s", r.SHA256, sum)
	}
	if c := r.Candidates[0]; c.Device != other[0] || c.Status != "foreign" || !strings.Contains(c.Why, "superblock of array") {
		t.Errorf("foreign member reported as %+v", c)
	}
	if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "superblocks of 2 arrays") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

// A member that was failed out and missed later writes (the kernel made it:
// events 1 against 7) is reported stale, with the fresher copies named, and
// left out; the array reads what the kernel read without it.
func TestMdAssembleLeavesStaleMemberOut(t *testing.T) {
	t.Parallel()
	var entries []struct {
		Name        string   `json:"name"`
		Stale       []string `json:"stale"`
		ArraySHA256 string   `json:"array_sha256"`
	}
	fixture.JSON(t, "testdata/md/manifest.json", &entries)
	members, sum := labArray(t, "r1-stale-v12")
	var stale string
	for _, e := range entries {
		if e.Name == "r1-stale-v12" && len(e.Stale) == 1 {
			stale = labDev(t, e.Stale[0])
		}
	}
	if stale == "" || len(members) != 3 || members[2] != "missing" {
		t.Fatalf("r1-stale-v12 fixture: members %q, stale %q", members, stale)
	}
	r := runAssemble(t, "--sha256", stale, members[0], members[1])
	if r.SHA256 != sum {
		t.Errorf("sha256 %s, the kernel read %s", r.SHA256, sum)
	}
	if c := r.Candidates[0]; c.Device != stale || c.Status != "stale" || !strings.Contains(c.Why, "events 1 < 7") || !strings.Contains(c.Why, "utime") {
		t.Errorf("stale member reported as %+v", c)
	}
	for _, c := range r.Candidates[1:] {
		if c.Status != "member" {
			t.Errorf("fresh member reported as %+v", c)
		}
	}
}

// Geometry from flags, a member missing, --order, and the case file: the
// array written with --write-case reads back through --case in any command.
func TestMdAssembleFromFlagsAndCaseFile(t *testing.T) {
	t.Parallel()
	members, sum := labArray(t, "r5-ls-v12")
	caseFile := filepath.Join(t.TempDir(), "case.json")
	r := runAssemble(t, "--sha256", "--level", "5", "--chunk", "64",
		"--data-offset", "1024", "--order", "2,missing,1,0", "--name", "md1", "--write-case", caseFile,
		members[3], members[2], members[0])
	if r.Source != "flags" || r.Members[1] != nil || r.SHA256 != sum {
		t.Errorf("degraded assembly from flags: %+v, want sha256 %s", r, sum)
	}
	dump, errOut, code := holmes(t, "dump", "md1", "--case", caseFile)
	if code != 0 {
		t.Fatalf("dump md1 --case: exit %d: %s", code, errOut)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256([]byte(dump))); got != sum {
		t.Errorf("dump md1 through the case file: sha256 %s, want %s", got, sum)
	}
	text, _ := os.ReadFile(caseFile)
	if strings.Contains(string(text), t.TempDir()) || !strings.Contains(string(text), `"name": "md1"`) {
		t.Errorf("case file:\n%s", text)
	}
}

func TestMdAssembleErrors(t *testing.T) {
	t.Parallel()
	members, _ := labArray(t, "r5-ls-v12")
	noMD := filepath.Join(t.TempDir(), "blank.img")
	if err := os.WriteFile(noMD, make([]byte, 1<<20), 0o444); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--chunk", "64", members[0]}, 2, "need --level"},
		{[]string{"--level", "5", "--chunk", "64", "--order", "0,0", members[0], members[1]}, 2, "--order"},
		{[]string{"--level", "5", "--chunk", "abc", members[0], members[1]}, 2, "--chunk"},
		{[]string{"--level", "9", "--chunk", "64", members[0], members[1]}, 2, "unknown raid level"},
		{[]string{noMD}, 1, "no device carries a valid md superblock"},
		{[]string{"/nonexistent/disk.img"}, 1, "/nonexistent/disk.img"},
		{[]string{"--level", "5", "--chunk", "64", "--data-offset", "64M", members[0], members[1], members[2]}, 1, "outside the device"},
	} {
		out, errOut, code := holmes(t, append([]string{"md", "assemble"}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("md assemble %v: exit %d, stderr %q; want exit %d and one line saying %q", c.args, code, errOut, c.code, c.want)
		}
	}
}
