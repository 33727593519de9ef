package smart

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"holmes/internal/fixture"
)

// publicReports returns the bytes of every public SMART report.
func publicReports(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	reports := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		reports[path] = data
		return err
	})
	if err != nil || len(reports) == 0 {
		t.Fatalf("public SMART reports in %s: %d read, %v", dir, len(reports), err)
	}
	return reports
}

// checkDamaged holds a damaged report's outcome to what any outcome must
// be: an error naming the file, or a report of that file whose score lies
// in its health's band, every reason a known severity with a penalty.
func checkDamaged(t *testing.T, path, how string, r *Report, err error) {
	t.Helper()
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != path {
			t.Errorf("%s, %s: error %v does not name the file", path, how, err)
		}
		return
	}
	res := Score(r)
	band, known := scoreBands[res.Health]
	if r.File != path || res.File != path || !known || res.Score < band[0] || res.Score > band[1] {
		t.Errorf("%s, %s: report of %q, health %q, score %d", path, how, r.File, res.Health, res.Score)
	}
	for _, reason := range res.Reasons {
		if _, ok := severityRank[reason.Severity]; !ok || reason.Penalty < 0 || reason.Why == "" {
			t.Errorf("%s, %s: reason %+v", path, how, reason)
		}
	}
}

// TestDamagedReports cuts every public report short and flips bytes in it:
// damaged input gives an error naming the file or a well-formed score,
// never a panic. A JSON report cut short is refused (half a document is not
// a report), and a text report cut short can only lose attributes, never
// gain any.
func TestDamagedReports(t *testing.T) {
	for path, data := range publicReports(t, publicDir(t)) {
		full, fullErr := Parse(path, data)
		for i := 1; i <= 16; i++ {
			cut := len(data) * i / 17
			damaged := append([]byte(nil), data[:cut]...)
			r, err := Parse(path, damaged)
			checkDamaged(t, path, fmt.Sprintf("cut at %d", cut), r, err)
			if fullErr == nil && full.Format == "json" && err == nil && len(bytes.TrimSpace(damaged)) < len(bytes.TrimSpace(data)) {
				t.Errorf("%s: JSON cut at %d of %d bytes parsed", path, cut, len(data))
			}
			if fullErr == nil && err == nil && full.Format == "text" {
				for _, a := range r.Attributes {
					if full.Attribute(a.ID) == nil {
						t.Errorf("%s cut at %d: attribute %d the whole report does not have", path, cut, a.ID)
					}
				}
			}
			flipped := append([]byte(nil), data...)
			for j := i; j < len(flipped); j += 97 * i {
				flipped[j] ^= byte(0x11 * i)
			}
			r, err = Parse(path, flipped)
			checkDamaged(t, path, fmt.Sprintf("bytes flipped every %d", 97*i), r, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, data := range publicReports(f, fixture.Public(f, "smart")) {
		if len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := Parse("fuzz", data); err == nil {
			Score(r)
		}
	})
}
