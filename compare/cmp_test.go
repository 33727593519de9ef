package compare

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// cmpFacts runs GNU cmp -l over Length bytes from skipA in a and skipB in b
// and returns what `cmp -l | wc -l` counts and the first differing offset
// (in a, 0-based; -1 if none).
func cmpFacts(t *testing.T, a, b string, skipA, skipB, length int64) (first, count int64) {
	t.Helper()
	if _, err := exec.LookPath("cmp"); err != nil {
		t.Skip("GNU cmp not installed")
	}
	cmd := exec.Command("cmp", "-l", "-i", fmt.Sprintf("%d:%d", skipA, skipB), "-n", strconv.FormatInt(length, 10), a, b)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first = -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if count == 0 {
			n, err := strconv.ParseInt(strings.Fields(sc.Text())[0], 10, 64)
			if err != nil {
				t.Fatalf("cmp -l printed %q", sc.Text())
			}
			first = skipA + n - 1 // cmp counts bytes from 1 after the skip
		}
		count++
	}
	if err := cmd.Wait(); err != nil && cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("cmp: %v", err)
	}
	return first, count
}

func openT(t *testing.T, path string) blockdev.Device {
	t.Helper()
	d, err := blockdev.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// derived writes a copy of the real image src with the given bytes
// changed, so that a test knows exactly where two real members differ.
func derived(t *testing.T, src string, edits map[int64]string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for off, s := range edits {
		copy(b[off:], s)
	}
	p := filepath.Join(t.TempDir(), "edited-"+filepath.Base(src))
	if err := os.WriteFile(p, b, 0o444); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAgainstCmp compares a real md 1.2 member (util-linux's mdraid-1.img:
// superblock at 4096, data from 2 MiB) with a copy whose data area was
// written at known places: default compare leaves the metadata out and
// agrees with cmp -l over the data area; --raw, windows and different sizes
// agree with cmp over the same ranges.
func TestAgainstCmp(t *testing.T) {
	a := fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/mdraid-1.img.xz"))
	edits := map[int64]string{2<<20 + 17: "Z", 3_000_000: "written behind its back", 10<<20 - 3: "end"}
	b := derived(t, a, edits)
	devA, devB := openT(t, a), openT(t, b)

	rep, err := Devices(devA, devB, Request{Limit: -1, Locate: MD})
	if err != nil {
		t.Fatal(err)
	}
	if rep.StartA != 2<<20 || rep.Compared != 8<<20 || len(rep.Excluded) != 1 || rep.Excluded[0].End != 2<<20 ||
		!strings.Contains(rep.Excluded[0].Why, "md 1.2") {
		t.Fatalf("md data area not used: start %d, compared %d, excluded %+v", rep.StartA, rep.Compared, rep.Excluded)
	}
	checkAgainstCmp(t, a, b, rep)

	for _, c := range []struct {
		name string
		req  Request
	}{
		{"raw", Request{Raw: true, Limit: -1, Locate: MD}},
		{"window", Request{Offset: 2_999_990, Limit: 12, Locate: MD}},
		{"window before data", Request{Offset: 4096, Limit: 8192, Raw: true}},
		{"limit 0", Request{Limit: 0, Raw: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Devices(devA, devB, c.req)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstCmp(t, a, b, rep)
		})
	}

	t.Run("different sizes", func(t *testing.T) {
		short := filepath.Join(t.TempDir(), "short.img")
		data, _ := os.ReadFile(b)
		os.WriteFile(short, data[:3<<20], 0o444)
		rep, err := Devices(devA, openT(t, short), Request{Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Compared != 3<<20 || len(rep.Notes) == 0 || rep.Excluded[len(rep.Excluded)-1].Start != 3<<20 {
			t.Fatalf("common length not used or not said: %+v", rep)
		}
		checkAgainstCmp(t, a, short, rep)
	})
}

func checkAgainstCmp(t *testing.T, a, b string, rep *Report) {
	t.Helper()
	first, count := cmpFacts(t, a, b, rep.StartA, rep.StartB, rep.Compared)
	if got := ptrOr(rep.FirstDiff, -1); got != first || rep.DiffBytes != count {
		t.Errorf("holmes: first %d, %d bytes; cmp -l -i %d:%d -n %d: first %d, %d bytes",
			got, rep.DiffBytes, rep.StartA, rep.StartB, rep.Compared, first, count)
	}
}

// TestMDStale0_90 is the other end of the disk: util-linux's 0.90 member
// keeps its superblock in the last 64 KiB, which default compare leaves out.
func TestMDStale0_90(t *testing.T) {
	a := fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/mdraid.img.xz"))
	b := derived(t, a, map[int64]string{100: "x"})
	rep, err := Devices(openT(t, a), openT(t, b), Request{Limit: -1, Locate: MD})
	if err != nil {
		t.Fatal(err)
	}
	last := rep.Excluded[len(rep.Excluded)-1]
	if rep.StartA != 0 || last.Start != 0x9F0000 || !strings.Contains(last.Why, "0.90") || rep.DiffBytes != 1 {
		t.Fatalf("0.90 superblock area not excluded: %+v", rep)
	}
	checkAgainstCmp(t, a, b, rep)
}

func TestManifestRoundTripAndPieces(t *testing.T) {
	a := fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/mdraid-1.img.xz"))
	b := derived(t, a, map[int64]string{3_000_000: "x"})
	ma, err := Hash(openT(t, a), 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	ma.WriteTo(&text)
	back, err := ReadManifest(bytes.NewReader(text.Bytes()), "a.manifest")
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Pieces) != 10 || back.Size != 10<<20 || !reflect.DeepEqual(back.Pieces[9], ma.Pieces[9]) {
		t.Fatalf("round trip lost facts: %+v", back)
	}
	mb, err := Hash(openT(t, b), 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ComparePieces(back, mb)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Differing) != 1 || r.Differing[0].Offset != 2<<20 || *r.FirstDiff != 2<<20 || r.ComparedCount != 10 {
		t.Fatalf("differing pieces %+v", r)
	}
	// A damaged manifest is refused with its line, never half-used.
	for _, bad := range []string{
		strings.Replace(text.String(), "pieces: 10", "pieces: 11", 1),
		strings.Replace(text.String(), "block-size: 1048576", "block-size: 0", 1),
		text.String()[:text.Len()-40],
		strings.Replace(text.String(), "1048576 1048576 ", "1048577 1048576 ", 1),
	} {
		if _, err := ReadManifest(strings.NewReader(bad), "bad.manifest"); err == nil || !strings.Contains(err.Error(), "bad.manifest line") {
			t.Errorf("damaged manifest: err = %v", err)
		}
	}
}
