package main

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

type solveJSON struct {
	Level       string   `json:"level"`
	Layout      string   `json:"layout"`
	ChunkBytes  int64    `json:"chunk_bytes"`
	DataOffset  int64    `json:"data_offset"`
	Metadata    string   `json:"metadata"`
	Order       []string `json:"order"`
	Confidence  float64  `json:"confidence"`
	Evidence    []string `json:"evidence"`
	MdadmCreate string   `json:"mdadm_create"`
	Superblocks []string `json:"superblocks"`
	Warning     string   `json:"warning"`
}

// md solve on a kernel-made raid10 far-2 array, members given shuffled:
// the JSON names the original order, and the case file it writes reads
// back as the kernel's array.
func TestMdSolveJSONAndCaseFile(t *testing.T) {
	t.Parallel()
	members, sum := labArray(t, "r10-f2-v12")
	shuffled := []string{members[2], members[0], members[3], members[1]}
	caseFile := filepath.Join(t.TempDir(), "case.json")
	out, errOut, code := holmes(t, append([]string{"md", "solve", "--json", "--name", "md3", "--write-case", caseFile}, shuffled...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r solveJSON
	decodeJSON(t, out, &r)
	if r.Level != "raid10" || r.Layout != "f2" || r.ChunkBytes != 32768 || r.DataOffset != 2<<20 || r.Metadata != "1.2" {
		t.Errorf("solved %+v", r)
	}
	if strings.Join(r.Order, " ") != strings.Join(members, " ") {
		t.Errorf("order %v, want %v", r.Order, members)
	}
	want := "mdadm --create /dev/md0 --assume-clean --readonly --level=raid10 --raid-devices=4 --metadata=1.2 --chunk=32K --layout=f2 --data-offset=2048K " + strings.Join(members, " ")
	if r.MdadmCreate != want {
		t.Errorf("mdadm line\n %s\nwant\n %s", r.MdadmCreate, want)
	}
	if r.Confidence <= 0 || len(r.Evidence) < 2 || !strings.Contains(r.Warning, "overlays") {
		t.Errorf("confidence %v, evidence %q, warning %q", r.Confidence, r.Evidence, r.Warning)
	}
	for _, s := range r.Superblocks {
		if !strings.Contains(s, "agrees with the data") {
			t.Errorf("the array's own superblock: %s", s)
		}
	}
	// The case file records the metadata format, so holmes plan re-creates
	// the array as it was, on overlays of the members (docs/plan.md).
	out, errOut, code = holmes(t, "--case", caseFile, "plan")
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "\nmdadm --create /dev/md3 --assume-clean --readonly --run --metadata=1.2 --level=raid10 --layout=f2 --chunk=32K --raid-devices=4 --data-offset=2048K --bitmap=none /dev/mapper/holmes-") {
		t.Errorf("plan of the solved array:\n%s", out)
	}
	if _, errOut, code = holmes(t, "plan"); code != 2 || !strings.Contains(errOut, "plan needs --case FILE") {
		t.Errorf("plan without --case: exit %d, %q", code, errOut)
	}
	dump, errOut, code := holmes(t, "dump", "md3", "--case", caseFile)
	if code != 0 {
		t.Fatalf("dump md3: exit %d: %s", code, errOut)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256([]byte(dump))); got != sum {
		t.Errorf("solved array through the case file: sha256 %s, the kernel read %s", got, sum)
	}
}

func TestMdSolveHumanOutputAndErrors(t *testing.T) {
	t.Parallel()
	members, _ := labArray(t, "r5-ls-v12")
	out, errOut, code := holmes(t, append([]string{"md", "solve"}, members...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"left-symmetric", "Evidence:", "Warning: try it on overlays", "mdadm --create /dev/md0 --assume-clean --readonly --run --metadata=1.2 --level=raid5", "--bitmap=none /dev/mapper/holmes-"} {
		if !strings.Contains(out, want) {
			t.Errorf("human output lacks %q:\n%s", want, out)
		}
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{members[0]}, 2, "holmes md solve: needs at least 2 DEVs (usage: holmes md solve DEV... [flags])"},
		{[]string{"--chunk", "x", members[0], members[1]}, 2, "--chunk"},
		{[]string{"--raid-devices", "2", members[0], members[1], members[2]}, 2, "--raid-devices"},
		{[]string{"--level", "raid6", members[0], members[1], members[2], members[3]}, 1, "rules out level raid6"},
	} {
		out, errOut, code := holmes(t, append([]string{"md", "solve"}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("md solve %v: exit %d, stderr %q; want exit %d and one line saying %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

// md solve on the two halves of one raid10 pair: they read like a raid1,
// but the PV on them is twice their size. It exits 3 (docs/cli.md), the
// JSON has "mdadm_create": null and lists the candidates, and the human
// report says why and prints no create line.
func TestMdSolveAmbiguousExits3(t *testing.T) {
	members, _ := labArray(t, "solve-r10-n2")
	out, errOut, code := holmes(t, "md", "solve", "--json", members[0], members[1])
	if code != 3 || !strings.Contains(errOut, "ambiguous") {
		t.Fatalf("exit %d, stderr %q; want 3 saying ambiguous", code, errOut)
	}
	var r struct {
		MdadmCreate *string `json:"mdadm_create"`
		Subset      bool    `json:"subset"`
		Candidates  []struct {
			Level      string   `json:"level"`
			Layout     *string  `json:"layout"`
			ChunkBytes *int64   `json:"chunk_bytes"`
			DataOffset *int64   `json:"data_offset"`
			Order      []string `json:"order"`
			Score      *float64 `json:"score"`
		} `json:"candidates"`
	}
	decodeJSON(t, out, &r)
	if r.MdadmCreate != nil || !r.Subset || len(r.Candidates) == 0 {
		t.Fatalf("mdadm_create %v, subset %v, candidates %+v", r.MdadmCreate, r.Subset, r.Candidates)
	}
	c := r.Candidates[0]
	if c.Level == "" || c.Layout == nil || c.ChunkBytes == nil || c.DataOffset == nil || c.Score == nil || len(c.Order) != 2 {
		t.Errorf("candidate lacks a field of docs/cli.md: %+v", c)
	}
	out, _, code = holmes(t, "md", "solve", members[1], members[0])
	if code != 3 || strings.Contains(out, "\nmdadm --create") || !strings.Contains(out, "subset") || !strings.Contains(out, "Candidates:") {
		t.Errorf("human report, exit %d:\n%s", code, out)
	}
}
