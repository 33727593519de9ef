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
	// verified and unreadable name the filesystems the deep check read
	// through, or failed to: a candidate with one unreadable cannot win
	// with confidence.
	verified, unreadable []string
	pvSize               int64   // the size the PV label records (0: no PV)
	fsSizes              []int64 // sizes of the filesystems found at the array's start
	// structures: a PV label or an ext superblock was read through the
	// assembly (data of its own, beyond text and parity).
	structures bool
}

func (e *evidence) add(points float64, format string, args ...any) {
	e.score += points
	e.notes = append(e.notes, fmt.Sprintf("%+.1f ", points)+fmt.Sprintf(format, args...))
}

// volume is a stretch of the array that should hold a filesystem (an LV,
// a partition inside one, or the whole array), read through the candidate
// assembly.
type volume struct {
	name string
	dev  blockdev.Device
}

// arrayOffset is where byte off of v lies in the array, through LV
// segments and partition slices; false where it maps nowhere.
func (v volume) arrayOffset(off int64) (int64, bool) {
	d := v.dev
	for range maxVolumeDepth {
		if _, ok := d.(arrayDevice); ok {
			return off, true
		}
		m, ok := d.(blockdev.Mapper)
		if !ok {
			return 0, false
		}
		next, o, ok := m.MapOffset(off)
		if !ok || next == nil {
			return 0, false
		}
		d, off = next, o
	}
	return 0, false
}

// maxVolumeDepth bounds the layers between a volume and the array.
const maxVolumeDepth = 4

// score reads what a correct assembly would show through the candidate
// array: an LVM PV whose metadata parses and whose size fits, ext
// filesystems at the volumes' starts with backup superblocks where the
// primary says, numbered text running on across chunk boundaries, and
// copies or parity that agree with the data.
//
// Checks come in stages of rising cost: every candidate gets the quick ones
// (a few dozen small reads), the leaders the redundancy check (parity
// arithmetic), the last few the directory check (opens the filesystem).
func (s *solver) score(c *candidate, arr *mdraid.Array, stage int) evidence {
	var e evidence
	vols := s.lvmEvidence(c, arr, &e)
	if vols == nil {
		vols = []volume{{"the array", arrayDevice{arr}}}
	}
	for _, v := range vols {
		s.extEvidence(c, arr, v, stage >= stageDeep, 0, &e)
	}
	if _, bare := vols[0].dev.(arrayDevice); bare {
		s.overwrittenFSEvidence(c, arr, &e)
	}
	s.continuityEvidence(c, arr, &e)
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
// logical volumes its metadata maps onto it (nil without LVM). Where the
// metadata area's header is unreadable, the newest text carved from the
// members that lists this PV says which LVs it held.
func (s *solver) lvmEvidence(c *candidate, arr *mdraid.Array, e *evidence) []volume {
	label, err := lvmmeta.ReadLabel(arr, arr.Size())
	if err != nil {
		return nil
	}
	e.pvSize, e.structures = label.DeviceSize, true
	if s.shadowed(arr, c, label.Sector*512, 512) {
		e.add(0, "LVM PV label %s in sector %d (the parity holds the same bytes: not counted)", label.PVUUID, label.Sector)
	} else {
		e.add(2, "LVM PV label %s in sector %d", label.PVUUID, label.Sector)
	}
	if d := label.DeviceSize - arr.Size(); d >= 0 && d <= arr.Size()/100 || d < 0 && -d <= arr.Size()/100 {
		e.add(3, "array size %d matches the PV size %d recorded in the label", arr.Size(), label.DeviceSize)
	} else {
		e.add(-3, "array size %d does not match the PV size %d recorded in the label", arr.Size(), label.DeviceSize)
	}
	if len(label.MetadataAreas) == 0 {
		return nil
	}
	current, vg, err := lvmmeta.ReadCurrent(arr, arr.Size())
	switch {
	case vg != nil && s.shadowedRange(arr, c, current.Offset, int64(len(current.Text))):
		e.add(0, "LVM metadata of VG %s (seqno %d, %d bytes at %d) parses (the parity holds the same bytes: not counted)", vg.Name, vg.Seqno, len(current.Text), current.Offset)
	case vg != nil:
		e.add(6, "LVM metadata of VG %s (seqno %d, %d bytes at %d) parses", vg.Name, vg.Seqno, len(current.Text), current.Offset)
	default:
		why := fmt.Sprint(err)
		if current != nil {
			why = fmt.Sprintf("the text at %d does not parse: %v", current.Offset, err)
		}
		if vg = s.scan.carvedVG(label.PVUUID); vg == nil {
			e.add(-2, "no readable LVM metadata: %s", why)
			return nil
		}
		e.add(1, "no readable LVM metadata (%s); the newest text carved from the members that lists this PV is VG %s seqno %d, with %d LVs", why, vg.Name, vg.Seqno, len(vg.LVs))
	}
	return s.lvVolumes(vg, label.PVUUID, arr)
}

// lvVolumes opens the LVs of vg that lie wholly on this PV (the array),
// through every segment.
func (s *solver) lvVolumes(vg *lvmmeta.VG, pvUUID string, arr *mdraid.Array) []volume {
	var pvName string
	for _, pv := range vg.PVs {
		if pv.ID == pvUUID {
			pvName = pv.Name
		}
	}
	var vols []volume
	for _, lv := range vg.LVs {
		if len(vols) >= maxVolumes {
			break
		}
		d, err := lvmmeta.OpenLV(vg, lv.Name, map[string]blockdev.Device{pvName: arrayDevice{arr}})
		if err != nil { // on other PVs, past this array's end, or not mappable
			continue
		}
		vols = append(vols, volume{vg.Name + "/" + lv.Name, d})
	}
	return vols
}

// maxVolumes bounds the volumes read per candidate.
const maxVolumes = 8

// extEvidence checks for an ext filesystem at the start of v, or a
// partition table holding some (a VM's disk in an LV), depth levels down.
func (s *solver) extEvidence(c *candidate, arr *mdraid.Array, v volume, deep bool, depth int, e *evidence) {
	sb, err := ext.ReadSuperblock(v.dev, ext.PrimaryOffset)
	if err != nil {
		if depth == 0 {
			if parts := partitionVolumes(v); len(parts) > 0 {
				e.add(1, "a partition table at the start of %s lists %d partitions", v.name, len(parts))
				for _, p := range parts {
					s.extEvidence(c, arr, p, deep, depth+1, e)
				}
				return
			}
		}
		if _, whole := v.dev.(arrayDevice); !whole { // an LV without a filesystem we know is no evidence either way
			e.add(-1, "no ext superblock at the start of %s", v.name)
		}
		return
	}
	e.structures = true
	points := 3.0
	if s.scan.extUUIDs[sb.UUIDString()] {
		points++
	}
	at, mapped := v.arrayOffset(ext.PrimaryOffset)
	if mapped && s.shadowed(arr, c, at, 1024) {
		e.add(0, "ext superblock %s at %d (start of %s; the parity holds the same bytes: not counted)", sb.UUIDString(), at, v.name)
	} else {
		e.add(points, "ext superblock %s at %d (start of %s)", sb.UUIDString(), at, v.name)
	}
	if mapped {
		e.probes = append(e.probes, at)
	}
	if _, whole := v.dev.(arrayDevice); whole {
		e.fsSizes = append(e.fsSizes, sb.Size())
	}
	if sb.Size() > v.dev.Size() {
		e.add(-3, "its filesystem (%d bytes) is larger than %s (%d bytes)", sb.Size(), v.name, v.dev.Size())
	}
	good, bad, shadows := 0, 0, 0
	backups := sb.BackupOffsets()
	for _, off := range backups[:min(len(backups), 16)] {
		b, err := ext.ReadSuperblock(v.dev, off)
		at, mapped := v.arrayOffset(off)
		switch {
		case err != nil || b.UUID != sb.UUID || b.BlockGroupNr == 0:
			bad++
		case mapped && s.shadowed(arr, c, at, 1024):
			shadows++
		default:
			good++
			if mapped {
				e.probes = append(e.probes, at)
			}
		}
	}
	if good+bad > 0 {
		also := ""
		if shadows > 0 {
			also = fmt.Sprintf(" (%d more also on the parity: not counted)", shadows)
		}
		e.add(2*float64(good)-float64(bad), "%d of %d backup superblocks of %s found where the primary places them%s", good, good+bad+shadows, v.name, also)
	}
	if !deep {
		return
	}
	verifyVolume(v, e)
}

// overwrittenFSEvidence looks for a filesystem at the start of the array
// whose primary superblock is gone or was overwritten (an installer's mkfs
// writes only the start of the device): its backup superblocks, found on
// the members, read through the assembly where a filesystem starting at
// array offset 0 keeps them.
func (s *solver) overwrittenFSEvidence(c *candidate, arr *mdraid.Array, e *evidence) {
	primary := ""
	if sb, err := ext.ReadSuperblock(arr, ext.PrimaryOffset); err == nil {
		primary = sb.UUIDString()
	}
	found := map[string][]uint16{}
	var uuids []string
	tried := 0
	for _, a := range s.scan.anchors {
		if a.fs == "" || a.fs == primary || a.at == ext.PrimaryOffset || a.at >= arr.Size() {
			continue
		}
		if tried++; tried > maxOverwrittenCopies {
			break
		}
		b, err := ext.ReadSuperblock(arr, a.at)
		if err != nil || b.UUIDString() != a.fs || b.BlockGroupNr == 0 || s.shadowed(arr, c, a.at, 1024) {
			continue
		}
		if found[a.fs] == nil {
			uuids = append(uuids, a.fs)
		}
		found[a.fs] = append(found[a.fs], b.BlockGroupNr)
		e.structures = true
		e.fsSizes = append(e.fsSizes, b.Size())
		e.probes = append(e.probes, a.at)
	}
	for _, u := range uuids {
		over := "gone"
		if primary != "" {
			over = "overwritten by filesystem " + primary
		}
		e.add(2*float64(len(found[u])), "ext filesystem %s starts at the array's start: its backup superblocks of groups %v sit where that puts them (its primary is %s)", u, found[u], over)
	}
}

// maxOverwrittenCopies bounds the backup superblocks read per candidate
// looking for an overwritten filesystem (a crafted member may hold
// thousands).
const maxOverwrittenCopies = 32

// partitionVolumes lists the partitions of a partition table at the start
// of v (up to maxVolumes), each as a volume.
func partitionVolumes(v volume) []volume {
	t, err := blockdev.ReadPartitionTable(v.dev)
	if err != nil {
		return nil
	}
	var out []volume
	for _, p := range t.Partitions {
		if p.Extended || len(out) >= maxVolumes {
			continue
		}
		name := fmt.Sprintf("%s:p%d", v.name, p.Number)
		if d, err := blockdev.Slice(v.dev, p.Start, p.Size, name); err == nil {
			out = append(out, volume{name, d})
		}
	}
	return out
}

// shadowedRange says whether every piece of [off, off+n) is shadowed (see
// shadowed).
func (s *solver) shadowedRange(arr *mdraid.Array, c *candidate, off, n int64) bool {
	for pos := off; pos < off+n; pos += 512 {
		if !s.shadowed(arr, c, pos, int(min(512, off+n-pos))) {
			return false
		}
	}
	return true
}

// continuityEvidence reads sectors across boundaries of every power-of-two
// chunk size from 4 KiB to 4 MiB (odd multiples, so each size is tested on
// its own) and checks that numbered text runs on: sector text carrying a
// counter (logs, the lab's fill, numbered lines) shows both a wrong order
// and a wrong chunk size. The text's own step (1 a sector for a sector
// counter, 8 for numbered 64-byte lines) is read from the two sectors
// before the boundary, which lie in one chunk whatever the chunk size.
func (s *solver) continuityEvidence(c *candidate, arr *mdraid.Array, e *evidence) {
	buf := make([]byte, 1536)
	good, bad := 0, 0
	for shift := 12; shift <= 22; shift++ {
		unit := int64(1) << shift
		for i := int64(0); i < 4; i++ {
			x := (2*(i*7+1) + 1) * unit // spread out: 3, 17, 31, 45 units
			if x+512 > arr.Size() {
				break
			}
			if _, err := arr.ReadAt(buf, x-1024); err != nil {
				continue
			}
			runs, known := textRunsOn(buf)
			if !known || s.shadowed(arr, c, x-512, 512) || s.shadowed(arr, c, x, 512) {
				continue
			}
			if runs {
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

// textRunsOn reads three sectors of numbered text, the boundary between
// the second and the third: known when the first two carry counters a
// step apart, runs when the third carries the next.
func textRunsOn(b []byte) (runs, known bool) {
	p, okP := sectorNumber(b[:512])
	a, okA := sectorNumber(b[512:1024])
	n, okN := sectorNumber(b[1024:1536])
	step := a - p
	if !okP || !okA || !okN || step <= 0 || step > maxTextStep {
		return false, false
	}
	return n == a+step, true
}

// maxTextStep is the largest counter step per 512-byte sector taken for
// numbered text (numbered 8-byte lines).
const maxTextStep = 64

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
