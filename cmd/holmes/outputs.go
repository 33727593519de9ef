package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"holmes/compare"
)

// checkManifestTarget refuses an --out that exists and is not a manifest.
func checkManifestTarget(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		if _, err := os.Stat(filepath.Dir(path)); err != nil {
			return fmt.Errorf("--out %s: %w", path, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	defer f.Close()
	prefix := make([]byte, 64)
	n, _ := io.ReadFull(f, prefix)
	if !compare.IsManifest(prefix[:n]) {
		return fmt.Errorf("--out %s: exists and is not a holmes hash manifest; refusing to replace it", path)
	}
	return nil
}

func writeManifest(path string, text []byte) error { return os.WriteFile(path, text, 0o644) }
