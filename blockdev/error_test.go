package blockdev

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// testDisk makes a named image file of size bytes.
func testDisk(t *testing.T, size int64) *File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(p, make([]byte, size), 0o444); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestTraceThroughSections follows a byte from a data area cut from a
// partition down to the disk; the area carries the partition's name, so
// the two show once.
func TestTraceThroughSections(t *testing.T) {
	disk := testDisk(t, 1<<20)
	part, err := Slice(disk, 4096, 512<<10, "disk.img:p1")
	if err != nil {
		t.Fatal(err)
	}
	area, err := Slice(part, 8192, 256<<10, "disk.img:p1")
	if err != nil {
		t.Fatal(err)
	}
	got := Trace(area, 100)
	want := []Location{{"disk.img:p1", 8292}, {disk.Name(), 12388}}
	if !slices.Equal(got, want) {
		t.Errorf("Trace = %v, want %v", got, want)
	}
	if got := Trace(Stack(area, part), 100); !slices.Equal(got, want) {
		t.Errorf("Trace through Stack = %v, want %v", got, want)
	}
	if got := Trace(Stack(disk), 100); len(got) != 1 {
		t.Errorf("a stacked device that maps nothing traced below itself: %v", got)
	}
	if got := Trace(area, 300<<10); len(got) != 1 {
		t.Errorf("a byte past the area traced below it: %v", got)
	}
}

// loop maps every byte onto itself, as a corrupt stack could.
type loop struct{ *Section }

func (l loop) MapOffset(off int64) (Device, int64, bool) { return l, off + 1, true }
func (l loop) Name() string                              { return "loop" + string(rune('a'+l.start)) }

func TestTraceEnds(t *testing.T) {
	s, err := Slice(testDisk(t, 4096), 0, 4096, "s")
	if err != nil {
		t.Fatal(err)
	}
	if got := Trace(loop{s}, 0); len(got) > maxTraceDepth+1 {
		t.Errorf("a looping mapping traced %d layers", len(got))
	}
}

// TestErrorJoinsTheChain: a read error met in a lower layer continues the
// upper layer's chain where their locations meet.
func TestErrorJoinsTheChain(t *testing.T) {
	member := &Error{What: "member 1", Where: []Location{{"d1.img", 2197760}}, Err: syscall.EIO}
	array := &Error{What: "md0: read", Where: []Location{{"md0", 1149184}}, Err: member}
	lv := &Error{What: "lvm: vg/root: read", Where: []Location{{"vg/root", 100608}, {"md0", 1149184}, {"d0.img", 2197760}}, Err: array}
	got := (&Error{What: "ext: inode 2: read", Where: lv.Where, Err: lv}).Error()
	want := "ext: inode 2: read (vg/root @ 100608 = md0 @ 1149184): member 1 (d1.img @ 2197760): input/output error"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if !errors.Is(lv, syscall.EIO) {
		t.Error("the cause is not reachable with errors.Is")
	}
	var e *Error
	if !errors.As(lv, &e) || e.Dev() != "vg/root" || e.Off() != 100608 {
		t.Errorf("Dev/Off of %v", e)
	}
	if got := (&Error{What: "x", Where: []Location{{"", 7}}, Err: errors.New("bad")}).Error(); got != "x (byte 7): bad" {
		t.Errorf("unnamed reader: %q", got)
	}
}

func TestSliceOutOfRange(t *testing.T) {
	disk := testDisk(t, 4096)
	if _, err := Slice(disk, 4000, 200, "p"); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("slice past the end: %v, want ErrOutOfRange", err)
	}
}
