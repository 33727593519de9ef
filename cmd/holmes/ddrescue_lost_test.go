package main

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/internal/fixture"
	"holmes/triage"
)

// The Done-when of issue 15's ddrescue part, on the lab (testdata/ddrescue):
// with members failing over the same file bytes, ext extract and triage
// name exactly the files the lab recorded as losing bytes, with exactly
// those bytes (file offsets); with members failing in different ranges
// nothing is lost, and extract writes every file as the kernel wrote it.
func TestDdrescueExtractAndTriageNameExactlyTheLostFiles(t *testing.T) {
	t.Parallel()
	for _, set := range []string{"overlap", "diff"} {
		for md := range ddrescueArrays {
			t.Run(set+"/"+md, func(t *testing.T) {
				t.Parallel()
				want := map[string][]blockdev.Extent{}
				if set == "overlap" {
					_, want = ddrescueLost(t, md)
				}
				caseFile, maps := assembleWithMaps(t, set, md)
				extractReportsExactly(t, caseFile, maps, md, want)
				triageReportsExactly(t, set, md, want)
			})
		}
	}
}

// extractReportsExactly extracts / of md and checks the damaged files and
// the bytes of every file against the lab's record.
func extractReportsExactly(t *testing.T, caseFile string, maps []string, md string, want map[string][]blockdev.Extent) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "out")
	args := append(append([]string{"--case", caseFile}, maps...), "ext", "extract", md, "/", dest, "--json")
	out, errOut, code := holmes(t, args...)
	var res ext.ExtractResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("ext extract: exit %d: %v\n%s", code, err, errOut)
	}
	if wantCode := map[bool]int{true: 4, false: 0}[len(want) > 0]; code != wantCode {
		t.Errorf("ext extract: exit %d, want %d: %s", code, wantCode, errOut)
	}
	got := map[string][]blockdev.Extent{}
	for _, d := range res.Damaged {
		for _, r := range d.Lost {
			got[d.Path] = append(got[d.Path], blockdev.Extent{Off: r.Start, Len: r.End - r.Start})
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ext extract: damaged %v, the lab recorded %v", got, want)
	}
	if len(res.UnreadableMetadata) > 0 {
		t.Errorf("ext extract: unreadable metadata %+v", res.UnreadableMetadata)
	}
	sums := fixture.TreeSHA256(t, filepath.Join(dest, "root"))
	for file, sum := range ddrescueSums(t, "files-"+md+".sha256") {
		if want[file] == nil && sums[file[1:]] != sum {
			t.Errorf("ext extract: %s sha256 %q, the kernel wrote %s", file, sums[file[1:]], sum)
		}
	}
}

// triageReportsExactly runs triage over md's member images with their
// mapfiles and checks the files it reports lost.
func triageReportsExactly(t *testing.T, set, md string, want map[string][]blockdev.Extent) {
	t.Helper()
	images, maps := ddrescueMembers(t, set, md)
	out, errOut, code := holmes(t, append(append(maps, "triage", "--json"), images...)...)
	var res triage.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
		t.Fatalf("triage: exit %d: %v\n%s", code, err, errOut)
	}
	got := map[string][]blockdev.Extent{}
	for _, f := range res.LostFiles {
		for _, r := range f.Ranges {
			got[f.Path] = append(got[f.Path], blockdev.Extent{Off: r.Start, Len: r.End - r.Start})
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("triage: lost files %v, the lab recorded %v", got, want)
	}
	if len(res.Unreadable) == 0 {
		t.Error("triage lists no unreadable range")
	}
	for _, u := range res.Unreadable {
		if set == "diff" && (len(u.LostInArrays) > 0 || len(u.Lost) > 0) {
			t.Errorf("triage: %s %d-%d lost %+v %+v, though the other members hold it", u.Dev, u.Start, u.End, u.LostInArrays, u.Lost)
		}
	}
}
