package smart

import (
	"os"
	"path/filepath"
	"testing"

	"holmes/internal/fixture"
)

// publicReports returns the bytes of every public SMART report.
func publicReports(t testing.TB, dir string) map[string][]byte {
	reports := map[string][]byte{}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := os.ReadFile(path); err == nil {
				reports[path] = data
			}
		}
		return nil
	})
	return reports
}

// TestDamagedReports cuts every public report short and flips bytes in it:
// damaged input must give a result or an error, never a panic.
func TestDamagedReports(t *testing.T) {
	for path, data := range publicReports(t, publicDir(t)) {
		for i := 1; i <= 16; i++ {
			cut := len(data) * i / 17
			damaged := append([]byte(nil), data[:cut]...)
			if r, err := Parse(path, damaged); err == nil {
				Score(r)
			}
			flipped := append([]byte(nil), data...)
			for j := i; j < len(flipped); j += 97 * i {
				flipped[j] ^= byte(0x11 * i)
			}
			if r, err := Parse(path, flipped); err == nil {
				Score(r)
			}
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
