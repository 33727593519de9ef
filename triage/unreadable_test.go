package triage

import (
	"context"
	"reflect"
	"testing"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/internal/fixture"
)

// holeyFiles opens image files with the given holes, as a ddrescue
// mapfile gives them (blockdev.FileOpener).
type holeyFiles map[string][]blockdev.Extent

func (h holeyFiles) OpenFile(path string) (blockdev.Device, error) {
	d, err := blockdev.OpenFile(path)
	if err != nil {
		return nil, err
	}
	return blockdev.WithHoles(d, h[path], "not finished in ddrescue mapfile"), nil
}

// TestTriageReportsTheFilesAGapLoses: triage of a real ext4 image (mke2fs
// and debugfs made it) with a gap in /big's data and one in free space
// lists both gaps, says what each holds, and names /big as losing exactly
// the gap's bytes, in the file's offsets.
func TestTriageReportsTheFilesAGapLoses(t *testing.T) {
	img := fixture.SmallExt(t, "ext4")
	d, err := blockdev.OpenFile(img)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := ext.Open(d, d.Size(), ext.Options{})
	if err != nil {
		t.Fatal(err)
	}
	big, err := fs.Lookup("/big")
	if err != nil {
		t.Fatal(err)
	}
	m, err := fs.Map(big)
	if err != nil || len(m.Runs) == 0 || m.Runs[0].Len < 5 {
		t.Fatalf("/big's map %+v, %v", m, err)
	}
	bs := int64(fs.SB.BlockSize())
	at := int64(m.Runs[0].Physical+4)*bs + 100 // /big @ 4*bs+100
	d.Close()
	files := holeyFiles{img: {{Off: at, Len: 700}, {Off: d.Size() - 4096, Len: 1024}}}
	tr, err := Run(context.Background(), []string{img}, files.OpenFile, Options{Files: files})
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
	want := []LostFile{{FS: img, Path: "/big", Ranges: []FileRange{{4*bs + 100, 4*bs + 800}}, Bytes: 700}}
	if !reflect.DeepEqual(r.LostFiles, want) {
		t.Fatalf("lost files %+v, want %+v", r.LostFiles, want)
	}
}
