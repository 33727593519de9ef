package trace

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"holmes/casefile"
	"holmes/internal/fixture"
	"holmes/mdraid"
)

// incidentStack writes the case file of the incident's ORIGINAL stack (the
// arrays before the installer, the old VG) over the unpacked images, with
// the halves that missed writes left out of reading (newer_halves), so
// that reads see what the record describes. The installer's interrupted
// mkfs owns the root's primary superblock now: the old root is read from
// its first backup (block 8193: 1 KiB blocks, 8192 per group).
func incidentStack(t *testing.T) (*Stack, *fixture.Incident) {
	t.Helper()
	r := fixture.LoadIncident(t)
	stale := map[string]bool{}
	for _, halves := range r.NewerHalves {
		for _, older := range halves {
			stale[older] = true
		}
	}
	dir := t.TempDir()
	vg, err := os.ReadFile(fixture.Repo(t, "testdata/incident/record/original-guests.vgcfgbackup.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "guests.vg"), vg, 0o644); err != nil {
		t.Fatal(err)
	}
	c := casefile.Case{VolumeGroups: []casefile.VolumeGroup{{Metadata: "guests.vg", PVs: map[string]string{"pv0": "md1"}}}}
	for i, a := range []fixture.IncidentArray{r.Original.Raid1, r.Original.Raid10} {
		// 0.90 keeps its superblock at the end: the data stops there.
		dataSize, _, ok := mdraid.SuperblockRange(a.Metadata, r.Partitions[i].Size)
		if !ok {
			t.Fatalf("no %s superblock place on a partition of %d bytes", a.Metadata, r.Partitions[i].Size)
		}
		arr := casefile.Array{Name: fmt.Sprintf("md%d", i), Level: a.Level, Layout: deref(a.Layout), ChunkBytes: deref(a.ChunkBytes),
			DataOffset: a.DataOffset, DataSize: dataSize, Metadata: a.Metadata,
			Members: make([]*string, len(a.Order)), LeftOut: make([]*string, len(a.Order))}
		for role, m := range a.Order {
			d := fixture.IncidentDev(t, m)
			if stale[m] {
				arr.LeftOut[role] = &d
			} else {
				arr.Members[role] = &d
			}
		}
		c.Arrays = append(c.Arrays, arr)
	}
	text, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "case.json")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := casefile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromCase(loaded)
	if err != nil {
		t.Fatal(err)
	}
	s.Superblocks = map[string]int64{"md0": 8193}
	return s, r
}

// Every region where the halves differed before the installer traces, on
// the member the record names, to what debugfs and the lab's layout said
// the old stack held there: every recorded touch is among the answer.
func TestIncidentDivergenceTraces(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks ten 64 MiB disks")
	}
	s, r := incidentStack(t)
	ranges := make([]Range, len(r.Divergence))
	for i, d := range r.Divergence {
		ranges[i] = Range{fixture.IncidentDev(t, d.Device), d.Start, d.End - d.Start}
	}
	out, err := s.TraceAll(ranges)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range r.Divergence {
		for _, touch := range d.Touches {
			if !anyMatches(out[i], touch) {
				t.Errorf("%s %d-%d: %+v is not in the trace:\n%s", d.Device, d.Start, d.End, touch, stepsText(out[i]))
			}
		}
	}
	// Trace answers one range as TraceAll does in a batch.
	one, err := s.Trace(ranges[2].Dev, ranges[2].Offset, ranges[2].Length)
	if err != nil || stepsText(one) != stepsText(out[2]) {
		t.Errorf("Trace alone:\n%s\nin the batch:\n%s (%v)", stepsText(one), stepsText(out[2]), err)
	}
}

// The regions the installer overwrote trace too, to what the record says
// the old stack held there, except the inodes of the old root's group 0
// (the installer overwrote their table, so nothing can say where their
// blocks were).
func TestIncidentInstallerWritesTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks ten 64 MiB disks")
	}
	s, r := incidentStack(t)
	for _, w := range r.InstallerWrites {
		steps, err := s.Trace(fixture.IncidentDev(t, w.Device), w.Start, w.End-w.Start)
		if err != nil {
			t.Fatalf("%s %d-%d: %v", w.Device, w.Start, w.End, err)
		}
		for _, touch := range w.Touches {
			if touch.FS == "root" && touch.Inode != 0 && touch.Inode <= rootInodesPerGroup {
				continue // an inode of the old root's group 0, whose table the installer overwrote
			}
			if !anyMatches(steps, touch) {
				t.Errorf("%s %d-%d: %+v is not in the trace:\n%s", w.Device, w.Start, w.End, touch, stepsText(steps))
			}
		}
	}
}

// rootInodesPerGroup is the old root's inodes per group (dumpe2fs -h in
// testdata/incident/record/original-root.dumpe2fs-h.txt).
const rootInodesPerGroup = 2040

// incidentFS maps the record's filesystem names to the DEVs of the case.
var incidentFS = map[string]string{"root": "md0", "guests/home": "guests/home", "guests/var": "guests/var",
	"guests/distros": "guests/distros", "guests/vm01:p1": "guests/vm01:p1"}

// anyMatches says whether some step answers the recorded touch. The
// mapping from the record's words (docs/trace.md):
//   - a filesystem structure: an ext step on that filesystem whose What
//     starts with the record's ("inode table of group 0 (inodes 1-8)");
//   - a file, directory or the journal: the same inode and an overlapping
//     range of the file; the path the same, or, where a directory on the
//     way lost its name, "#INODE/rest" for a recorded path ending in /rest,
//     or "#INODE" for a directory whose own name is lost;
//   - "unused blocks" (blocks debugfs icheck finds no owner for): "free
//     space", "boot block" or "in use, owner not found";
//   - "LVM PV label and metadata area": an lvm step "LVM PV label" or
//     "LVM metadata area" (the PV's label tells them apart);
//   - the md 0.90 area "beyond the old raid data": the md superblock step.
func anyMatches(steps []Step, touch fixture.IncidentTouch) bool {
	for _, s := range steps {
		switch {
		case strings.HasPrefix(touch.What, "beyond the old raid"):
			if s.Layer == "md" && strings.HasPrefix(s.What, "md superblock (0.90") {
				return true
			}
		case touch.What == "unused blocks":
			if s.Layer == "ext" && s.Dev == incidentFS[touch.FS] && (s.What == "free space" || s.What == "boot block" || s.What == "in use, owner not found") {
				return true
			}
		case touch.What == "LVM PV label and metadata area":
			if s.Layer == "lvm" && (strings.HasPrefix(s.What, "LVM PV label") || strings.HasPrefix(s.What, "LVM metadata area")) {
				return true
			}
		case s.Layer != "ext" || s.Dev != incidentFS[touch.FS] || !strings.HasPrefix(s.What, touch.What):
		case touch.Inode == 0:
			return true
		case s.Inode == touch.Inode && samePath(s.Path, touch.Path, touch.Inode) &&
			(touch.Offset == nil || s.FileOffset < touch.End && *touch.Offset < s.FileOffset+s.Length):
			return true
		}
	}
	return false
}

func samePath(got, recorded string, inode uint32) bool {
	if got == recorded || got == "#"+strconv.FormatUint(uint64(inode), 10) {
		return true // the same, or a directory whose own name is lost
	}
	if !strings.HasPrefix(got, "#") {
		return false
	}
	_, rest, ok := strings.Cut(got, "/")
	return ok && strings.HasSuffix(recorded, "/"+rest)
}

func stepsText(steps []Step) string {
	var b strings.Builder
	for _, s := range steps {
		fmt.Fprintf(&b, "  %-9s %-30s %10d %8d %s %s @%d (inode %d)\n", s.Layer, s.Dev, s.Offset, s.Length, s.What, s.Path, s.FileOffset, s.Inode)
	}
	return b.String()
}

// A member's bytes reach a filesystem inside a partition inside an LV: the
// old vm01 (an MBR with one ext4 partition at 1 MiB, on PV extents 9-12)
// starts its partition's superblock at array byte pe_start + 9 extents +
// 1 MiB + 1 KiB, chunk 612 of the raid10, which near-2 over ten members
// keeps on roles 4 and 5 at member byte 122 chunks + 1 KiB.
func TestIncidentTraceIntoVMPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks ten 64 MiB disks")
	}
	s, _ := incidentStack(t)
	steps, err := s.Trace(fixture.IncidentDev(t, "d5.img.xz:p2"), 122*65536+1024, 1024)
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{Layer: "md", Dev: "md1", Offset: 1310720 + 9*4<<20 + 1<<20 + 1024, Length: 1024, What: "md1 data (role 5, member byte 7996416)"},
		{Layer: "lvm", Dev: "guests/vm01", Offset: 1<<20 + 1024, Length: 1024, What: "logical volume guests/vm01"},
		{Layer: "partition", Dev: "guests/vm01:p1", Offset: 1024, Length: 1024, What: "partition 1"},
		{Layer: "ext", Dev: "guests/vm01:p1", Offset: 1024, Length: 1024, What: "superblock (group 0)"},
	}
	if stepsText(steps) != stepsText(want) {
		t.Errorf("got\n%swant\n%s", stepsText(steps), stepsText(want))
	}
}

// deref is the value the record gives, or the zero value where it gives
// null (a raid1 has no layout or chunk).
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
