package triage

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/ddmap"
	"holmes/internal/extgap"
	"holmes/internal/fixture"
)

// TestTriageReportsTheFilesAGapLoses: triage of a real ext4 image (mke2fs
// and debugfs made it) with a gap in /big's data and one in free space
// lists both gaps, says what each holds, and names /big as losing exactly
// the gap's bytes, in the file's offsets.
func TestTriageReportsTheFilesAGapLoses(t *testing.T) {
	const fileAt = 4196 // in /big's fifth 1 KiB block
	img, at := extgap.BigAt(t, fileAt)
	d, err := blockdev.OpenFile(img)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	dir := t.TempDir()
	mapfile := filepath.Join(dir, "ext4.map")
	fixture.WriteMapfile(t, mapfile, d.Size(), [2]int64{at, 700}, [2]int64{d.Size() - 4096, 1024})
	files := &ddmap.Set{}
	if err := files.Add(img, mapfile); err != nil {
		t.Fatal(err)
	}
	tr, err := Run(context.Background(), []string{img}, files.OpenFile, Options{Files: files, Maps: map[string]string{img: mapfile}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	r := tr.Result
	if len(r.Unreadable) != 2 {
		t.Fatalf("unreadable %+v", r.Unreadable)
	}
	if u := r.Unreadable[0]; u.Start != at || u.End != at+700 || len(u.Lost) != 1 || u.Lost[0].Path != "/big" {
		t.Errorf("first gap %+v, want /big's", u)
	}
	if u := r.Unreadable[1]; len(u.Lost) == 0 || u.Lost[0].What != "free space" {
		t.Errorf("second gap %+v, want free space", u)
	}
	want := []LostFile{{FS: img, Path: "/big", Ranges: []FileRange{{fileAt, fileAt + 700}}, Bytes: 700}}
	if !reflect.DeepEqual(r.LostFiles, want) {
		t.Fatalf("lost files %+v, want %+v", r.LostFiles, want)
	}
	// The case file keeps the map: a command reading the case reads the
	// image's gaps as gaps.
	casePath := filepath.Join(dir, "case.json")
	if err := tr.WriteCase(casePath, []string{img}); err != nil {
		t.Fatal(err)
	}
	c, err := casefile.Load(casePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Maps) != 1 || c.Path(c.Maps[mustRel(t, dir, img)]) != mapfile {
		t.Fatalf("case file maps %v", c.Maps)
	}
	again, err := blockdev.Open(img, c)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, ok := blockdev.AsUnreadable(readErr(again, at)); !ok {
		t.Fatal("the image opened through the case file reads its gap")
	}
}

func mustRel(t *testing.T, dir, path string) string {
	t.Helper()
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func readErr(d blockdev.Device, off int64) error {
	_, err := d.ReadAt(make([]byte, 1), off)
	return err
}
