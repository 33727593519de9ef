package mdsolve

import (
	"errors"
	"fmt"
	"strconv"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/lvmmeta"
	"holmes/mdraid"
)

// evidence is what one candidate assembly shows, with its score.
type evidence struct {
	score float64
	notes []string
	// probes are array offsets where structures were found: places known
	// to hold data, where copies and parity are worth checking.
	probes []int64
}

func (e *evidence) add(points float64, format string, args ...any) {
	e.score += points
	e.notes = append(e.notes, fmt.Sprintf("%+.1f ", points)+fmt.Sprintf(format, args...))
}

// volume is a stretch of the array that should hold a filesystem.
type volume struct {
	name        string
	start, size int64
}

// score reads what a correct assembly would show through the candidate
// array: an LVM PV whose metadata parses and whose size fits, ext
// filesystems at the volumes' starts with backup superblocks where the
// primary says, numbered text running on across chunk boundaries, and
// copies or parity that agree with the data.
//
// Checks come in stages of rising cost: every candidate gets the quick ones
// (a few dozen small reads), the leaders the redundancy check (parity
// arithmetic), the last few the directory check (opens the filesystem).
func (s *solver) score(arr *mdraid.Array, stage int) evidence {
	var e evidence
	vols := s.lvmEvidence(arr, &e)
	if vols == nil {
		vols = []volume{{"the array", 0, arr.Size()}}
	}
	for _, v := range vols {
		s.extEvidence(arr, v, stage >= stageDeep, &e)
	}
	s.continuityEvidence(arr, &e)
	if stage >= stageFull {
		s.redundancyEvidence(arr, &e)
	}
	return e
}

// Scoring stages.
const (
	stageQuick = iota
	stageFull
	stageDeep
)

// lvmEvidence checks for a PV at the start of the array and returns the
// logical volumes its metadata maps onto it (nil without LVM).
func (s *solver) lvmEvidence(arr *mdraid.Array, e *evidence) []volume {
	label, err := lvmmeta.ReadLabel(arr, arr.Size())
	if err != nil {
		return nil
	}
	e.add(2, "LVM PV label %s in sector %d", label.PVUUID, label.Sector)
	if d := label.DeviceSize - arr.Size(); d >= 0 && d <= arr.Size()/100 || d < 0 && -d <= arr.Size()/100 {
		e.add(3, "array size %d matches the PV size %d recorded in the label", arr.Size(), label.DeviceSize)
	} else {
		e.add(-3, "array size %d does not match the PV size %d recorded in the label", arr.Size(), label.DeviceSize)
	}
	if len(label.MetadataAreas) == 0 {
		return nil
	}
	current, vg, err := lvmmeta.ReadCurrent(arr, arr.Size())
	if current == nil {
		e.add(-2, "no readable LVM metadata: %v", err)
		return nil
	}
	if vg == nil {
		e.add(-4, "LVM metadata text at %d does not parse: %v", current.Offset, err)
		return nil
	}
	e.add(6, "LVM metadata of VG %s (seqno %d, %d bytes at %d) parses", vg.Name, vg.Seqno, len(current.Text), current.Offset)
	var pvName string
	for _, pv := range vg.PVs {
		if pv.ID == label.PVUUID {
			pvName = pv.Name
		}
	}
	var vols []volume
	for _, lv := range vg.LVs {
		if len(lv.Segments) == 0 || !lv.Segments[0].Mappable() || len(lv.Segments[0].Stripes) != 1 {
			continue
		}
		seg := lv.Segments[0]
		if seg.Stripes[0].PV != pvName || seg.StartExtent != 0 {
			continue
		}
		v := volume{vg.Name + "/" + lv.Name, seg.Stripes[0].Offset, seg.ExtentCount * vg.ExtentSize}
		if v.start >= 0 && v.start+v.size <= arr.Size() && len(vols) < 8 {
			vols = append(vols, v)
		}
	}
	return vols
}

// extEvidence checks for an ext filesystem at the start of v.
func (s *solver) extEvidence(arr *mdraid.Array, v volume, deep bool, e *evidence) {
	sb, err := ext.ReadSuperblock(arr, v.start+ext.PrimaryOffset)
	if err != nil {
		if v.start > 0 { // an LV without a filesystem we know is no evidence either way
			e.add(-1, "no ext superblock at the start of %s", v.name)
		}
		return
	}
	points := 3.0
	if s.scan.extUUIDs[sb.UUIDString()] {
		points++
	}
	e.add(points, "ext superblock %s at %d (start of %s)", sb.UUIDString(), v.start+ext.PrimaryOffset, v.name)
	e.probes = append(e.probes, v.start+ext.PrimaryOffset)
	if sb.Size() > v.size {
		e.add(-3, "its filesystem (%d bytes) is larger than %s (%d bytes)", sb.Size(), v.name, v.size)
	}
	good, bad := 0, 0
	backups := sb.BackupOffsets()
	for _, off := range backups[:min(len(backups), 16)] {
		b, err := ext.ReadSuperblock(arr, v.start+off)
		if err == nil && b.UUID == sb.UUID && b.BlockGroupNr != 0 {
			good++
			e.probes = append(e.probes, v.start+off)
		} else {
			bad++
		}
	}
	if good+bad > 0 {
		e.add(2*float64(good)-float64(bad), "%d of %d backup superblocks of %s found where the primary places them", good, good+bad, v.name)
	}
	if !deep {
		return
	}
	area, err := blockdev.Slice(arr, v.start, min(v.size, arr.Size()-v.start), v.name)
	if err != nil {
		return
	}
	fs, err := ext.Open(area, area.Size(), ext.Options{Superblock: ext.SuperblockPrimary})
	if err != nil {
		e.add(-2, "%s does not open as ext: %v", v.name, err)
		return
	}
	root, err := fs.Inode(2)
	if err != nil {
		e.add(-2, "root inode of %s unreadable: %v", v.name, err)
		return
	}
	entries, err := fs.ReadDir(root)
	if err != nil {
		e.add(-2, "root directory of %s unreadable: %v", v.name, err)
		return
	}
	e.add(3, "root directory of %s lists %d entries", v.name, len(entries))
}

// continuityEvidence reads pairs of sectors across boundaries of every
// power-of-two chunk size from 4 KiB to 4 MiB (odd multiples, so each size
// is tested on its own) and checks that numbered text runs on: sector text
// carrying a counter (logs, the lab's fill) shows both a wrong order and a
// wrong chunk size.
func (s *solver) continuityEvidence(arr *mdraid.Array, e *evidence) {
	buf := make([]byte, 1024)
	good, bad := 0, 0
	for shift := 12; shift <= 22; shift++ {
		unit := int64(1) << shift
		for i := int64(0); i < 4; i++ {
			x := (2*(i*7+1) + 1) * unit // spread out: 3, 17, 31, 45 units
			if x+512 > arr.Size() {
				break
			}
			if _, err := arr.ReadAt(buf, x-512); err != nil {
				continue
			}
			a, okA := sectorNumber(buf[:512])
			b, okB := sectorNumber(buf[512:])
			if !okA || !okB {
				continue
			}
			if b == a+1 {
				good++
			} else {
				bad++
			}
		}
	}
	if good+bad > 0 {
		// A fraction, not a count: how much text there is says nothing
		// about the layout; a handful of boundaries says less than dozens.
		weight := 20 * min(1, float64(good+bad)/8)
		e.add(weight*float64(good-bad)/float64(good+bad), "numbered text runs on across %d of %d sampled boundaries", good, good+bad)
	}
}

// sectorNumber returns the first run of at least six digits in a sector.
func sectorNumber(sec []byte) (int64, bool) {
	for i := 0; i < len(sec); i++ {
		j := i
		for j < len(sec) && sec[j] >= '0' && sec[j] <= '9' {
			j++
		}
		if j-i >= 6 && j-i <= 18 {
			n, err := strconv.ParseInt(string(sec[i:j]), 10, 64)
			return n, err == nil
		}
		i = j
	}
	return 0, false
}

// redundancyEvidence checks copies (raid10) or P/Q (raid6; raid5 parity
// agrees in any order, so it is checked once, in the content facts) at
// sampled offsets holding data.
func (s *solver) redundancyEvidence(arr *mdraid.Array, e *evidence) {
	g := arr.Geometry()
	if g.Level != "raid10" && g.Level != "raid6" {
		return
	}
	good, bad := 0, 0
	const samples = 64
	offsets := append([]int64(nil), e.probes...)
	if step := arr.Size() / samples / 512 * 512; step > 0 {
		for i := int64(1); i < samples; i++ {
			offsets = append(offsets, i*step+1024)
		}
	}
	buf := make([]byte, 512)
	for _, off := range offsets {
		if _, err := arr.ReadAt(buf, off); err != nil || isZero(buf) {
			continue
		}
		ok, err := arr.CheckRedundancy(off, 512)
		switch {
		case errors.Is(err, mdraid.ErrNoRedundancy) || err != nil:
			continue
		case ok:
			good++
		default:
			bad++
		}
	}
	if good+bad > 0 {
		weight := 16 * min(1, float64(good+bad)/8)
		e.add(weight*float64(good-bad)/float64(good+bad), "copies/parity agree with the data at %d of %d sampled offsets", good, good+bad)
	}
}
