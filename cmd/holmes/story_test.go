package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// TestInstallerStory walks the post-mortem's recovery end to end on a lab
// raid10 whose superblocks an installer re-created in another order, chunk
// and data offset: solve the geometry into a case file, carve the VG's
// metadata into the same case file, then read files out of an LV inside the
// virtual array and compare them with what the kernel wrote.
func TestInstallerStory(t *testing.T) {
	t.Parallel()
	var members []string
	for _, d := range []string{"d2", "d0", "d3", "d1"} { // not in role order
		members = append(members, labDev(t, "solve-r10-n2/"+d+".img.xz"))
	}
	dir := t.TempDir()
	caseFile := filepath.Join(dir, "case.json")

	out, stderr, code := holmes(t, append([]string{"md", "solve", "--json", "--write-case", caseFile}, members...)...)
	if code != 0 {
		t.Fatalf("md solve: exit %d: %s", code, stderr)
	}
	var solved struct {
		Level       string `json:"level"`
		Layout      string `json:"layout"`
		ChunkBytes  int64  `json:"chunk_bytes"`
		DataOffset  int64  `json:"data_offset"`
		MdadmCreate string `json:"mdadm_create"`
	}
	if err := json.Unmarshal([]byte(out), &solved); err != nil {
		t.Fatal(err)
	}
	if solved.Level != "raid10" || solved.Layout != "n2" || solved.ChunkBytes != 65536 || solved.DataOffset != 1<<20 {
		t.Fatalf("solved %+v, want raid10 n2 64K chunk at 1 MiB", solved)
	}
	if !strings.Contains(solved.MdadmCreate, "--assume-clean") {
		t.Errorf("mdadm line without --assume-clean: %s", solved.MdadmCreate)
	}

	_, stderr, code = holmes(t, "lvm", "carve", "--case", caseFile, "--out", filepath.Join(dir, "meta"), "--write-case", caseFile, "md0")
	if code != 0 {
		t.Fatalf("lvm carve: exit %d: %s", code, stderr)
	}

	sums, err := os.Open(fixture.Repo(t, "testdata/md/solve-r10-n2/root.files.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	defer sums.Close()
	checked := 0
	for sc := bufio.NewScanner(sums); sc.Scan(); {
		want, path, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			continue
		}
		content, stderr, code := holmes(t, "ext", "cat", "--case", caseFile, "vg_solve_r10_n2/root", strings.TrimPrefix(path, "."))
		if code != 0 {
			t.Fatalf("ext cat %s: exit %d: %s", path, code, stderr)
		}
		sum := sha256.Sum256([]byte(content))
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, the kernel wrote %s", path, got, want)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no files listed in root.files.sha256")
	}
}

// TestCarveKeepsExistingFiles: --out may name a directory that already
// holds files, even evidence; one of the same name with other content is
// never replaced, and a re-run writing the same bytes is no error.
func TestCarveKeepsExistingFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caseFile := filepath.Join(dir, "case.json")
	members := []string{labDev(t, "solve-r10-n2/d0.img.xz"), labDev(t, "solve-r10-n2/d1.img.xz"),
		labDev(t, "solve-r10-n2/d2.img.xz"), labDev(t, "solve-r10-n2/d3.img.xz")}
	if _, stderr, code := holmes(t, append([]string{"md", "solve", "--write-case", caseFile}, members...)...); code != 0 {
		t.Fatalf("md solve: %s", stderr)
	}
	out := filepath.Join(dir, "meta")
	carve := []string{"lvm", "carve", "--case", caseFile, "--out", out, "md0"}
	if _, stderr, code := holmes(t, carve...); code != 0 {
		t.Fatalf("lvm carve: %s", stderr)
	}
	if _, stderr, code := holmes(t, carve...); code != 0 {
		t.Fatalf("lvm carve again, same files: %s", stderr)
	}
	other := filepath.Join(out, "vg_solve_r10_n2_3.vg")
	if err := os.WriteFile(other, []byte("not ours"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := holmes(t, carve...)
	if code != 1 || !strings.Contains(stderr, "not overwriting") {
		t.Errorf("carve over a different file: exit %d, %q", code, stderr)
	}
	if b, _ := os.ReadFile(other); string(b) != "not ours" {
		t.Errorf("carve replaced an existing file")
	}
}
