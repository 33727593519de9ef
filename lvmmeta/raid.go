package lvmmeta

import (
	"fmt"
	"io"
	"strings"

	"holmes/blockdev"
	"holmes/mdraid"
)

// RaidLayout is how holmes reads a raid or mirror LV: the md geometry its
// segment type names, checked against the dm-raid superblocks of its
// _rmeta_N sub-LVs, and per role the image read or the reason it is not.
type RaidLayout struct {
	LV   string `json:"lv"`
	Type string `json:"type"` // the segment type: raid1, raid5_ls, mirror, ...
	// Geometry is level, layout, chunk and image count; DataSize is the
	// bytes of each image the array uses.
	Geometry mdraid.Geometry `json:"geometry"`
	// Events is the freshest superblock's event count (0 without
	// superblocks); the other images are judged against it.
	Events uint64 `json:"events"`
	// ResyncOffset is how far the array's initial synchronisation got
	// (bytes per image), -1 when complete or unknown.
	ResyncOffset int64       `json:"resync_offset"`
	Images       []RaidImage `json:"images"`
	Notes        []string    `json:"notes"`
}

// RaidImage is one role of a raid LV.
type RaidImage struct {
	Role int    `json:"role"`
	Data string `json:"data"`           // the _rimage_N (or mirror _mimage_N) sub-LV
	Meta string `json:"meta,omitempty"` // the _rmeta_N sub-LV; "" for mirror and raid0
	// Superblock is the dm-raid superblock read from Meta, nil when it
	// could not be read (SuperblockError says why).
	Superblock      *mdraid.DMRaidSuperblock `json:"superblock,omitempty"`
	SuperblockError string                   `json:"superblock_error,omitempty"`
	DataOffset      int64                    `json:"data_offset"` // bytes into Data where the array's area starts
	// Missing says why the image is not read ("" when it is): its PVs are
	// not given, the superblocks record it failed, it is stale or still
	// being rebuilt. The array then reads from the redundancy.
	Missing string `json:"missing,omitempty"`
}

// raidTypes are lvm2's raid segment types (and the legacy mirror) with
// the md level and layout each one is, as dm-raid sets up md for it.
// raid4 is left out: dm-raid has put its parity first or last depending on
// the kernel, so only the superblock can say.
var raidTypes = map[string]mdraid.Geometry{
	"raid0": {Level: "raid0"}, "raid0_meta": {Level: "raid0"},
	"raid1": {Level: "raid1"}, "mirror": {Level: "raid1"},
	"raid5": {Level: "raid5", Layout: "left-symmetric"}, "raid5_ls": {Level: "raid5", Layout: "left-symmetric"},
	"raid5_la": {Level: "raid5", Layout: "left-asymmetric"}, "raid5_rs": {Level: "raid5", Layout: "right-symmetric"},
	"raid5_ra": {Level: "raid5", Layout: "right-asymmetric"}, "raid5_n": {Level: "raid5", Layout: "parity-last"},
	"raid6": {Level: "raid6", Layout: "ddf-zero-restart"}, "raid6_zr": {Level: "raid6", Layout: "ddf-zero-restart"},
	"raid6_nr": {Level: "raid6", Layout: "ddf-N-restart"}, "raid6_nc": {Level: "raid6", Layout: "ddf-N-continue"},
	"raid6_n_6": {Level: "raid6", Layout: "parity-last"}, "raid6_ls_6": {Level: "raid6", Layout: "left-symmetric-6"},
	"raid6_la_6": {Level: "raid6", Layout: "left-asymmetric-6"}, "raid6_rs_6": {Level: "raid6", Layout: "right-symmetric-6"},
	"raid6_ra_6": {Level: "raid6", Layout: "right-asymmetric-6"},
	"raid10":     {Level: "raid10"}, "raid10_near": {Level: "raid10"}, "raid10_far": {Level: "raid10"},
}

// IsRaid says whether a segment is one RaidLayout maps.
func (s *Segment) IsRaid() bool {
	_, ok := raidTypes[s.Kind()]
	return ok || s.Kind() == "raid4"
}

// textGeometry is the geometry the VG text gives a raid segment, before
// any superblock is read; ok is false for raid4, whose parity position
// only the superblock gives.
func textGeometry(seg *Segment, images int) (mdraid.Geometry, bool) {
	g, ok := raidTypes[seg.Kind()]
	if !ok {
		return mdraid.Geometry{Level: "raid4", RaidDisks: images, ChunkBytes: seg.StripeSize}, false
	}
	g.RaidDisks, g.ChunkBytes = images, seg.StripeSize
	if g.Level == "raid10" {
		copies := seg.DataCopies
		if copies == 0 {
			copies = 2 // lvm2's default for raid10
		}
		kind := "n"
		if seg.Kind() == "raid10_far" {
			kind = "f"
		}
		g.Layout = fmt.Sprintf("%s%d", kind, copies)
	}
	return g, true
}

// raidImages pairs a segment's legs into roles: raids lists metadata and
// data sub-LVs in turn, unless (raid0, mirror) only data images.
func raidImages(seg *Segment) ([]RaidImage, error) {
	n := int(seg.DeviceCount)
	legs := seg.Legs
	var out []RaidImage
	switch {
	case seg.Kind() == "mirror" || (n > 0 && len(legs) == n):
		for i, l := range legs {
			out = append(out, RaidImage{Role: i, Data: l})
		}
	case len(legs)%2 == 0 && (n == 0 || len(legs) == 2*n):
		for i := 0; i < len(legs); i += 2 {
			out = append(out, RaidImage{Role: i / 2, Meta: legs[i], Data: legs[i+1]})
		}
	default:
		return nil, fmt.Errorf("%d sub-LVs listed for %d images", len(legs), n)
	}
	if len(out) == 0 || len(out) > 253 {
		return nil, fmt.Errorf("%d images (want 1..253)", len(out))
	}
	return out, nil
}

// Raid describes how the raid or mirror LV name would be read over pvs:
// the geometry from its segment type, each image's dm-raid superblock, and
// which images are left out and why. With pvs nil only the VG text is
// used and every image is reported as not read. Superblocks that do not
// parse, disagree with the text, or record an interrupted reshape are
// errors or left-out images; never guessed around.
func (vg *VG) Raid(name string, pvs map[string]blockdev.Device) (*RaidLayout, error) {
	l := vg.LV(name)
	if l == nil {
		return nil, fmt.Errorf("lvm: volume group %s has no logical volume %q", vg.Name, name)
	}
	full := vg.Name + "/" + name
	if len(l.Segments) != 1 || !l.Segments[0].IsRaid() {
		return nil, fmt.Errorf("lvm: %s is not a raid or mirror LV of one segment", full)
	}
	seg := l.Segments[0]
	images, err := raidImages(seg)
	if err != nil {
		return nil, fmt.Errorf("lvm: %s: %w", full, err)
	}
	g, known := textGeometry(seg, len(images))
	r := &RaidLayout{LV: full, Type: seg.Type, Geometry: g, ResyncOffset: -1, Images: images, Notes: []string{}}
	if seg.Kind() == "mirror" {
		log := "its log " + seg.Refs["mirror_log"] + ", which says which regions were in sync, is not read"
		if seg.Refs["mirror_log"] == "" {
			log = "its log was kept in memory (core), so which regions were in sync is not recorded"
		}
		r.Notes = append(r.Notes, "a legacy mirror: the legs hold plain copies; "+log+"; the first present leg is read")
	}
	if pvs == nil {
		for i := range r.Images {
			r.Images[i].Missing = "no PVs given"
		}
		if !known {
			r.Notes = append(r.Notes, "raid4: where the parity lies (first or last image) is read from the superblocks")
		}
		return r, nil
	}
	sizes := make([]int64, len(images))
	for i := range r.Images {
		im := &r.Images[i]
		d, err := OpenLV(vg, im.Data, pvs)
		if err != nil {
			im.Missing = "data image: " + err.Error()
			continue
		}
		sizes[i] = d.Size()
		d.Close()
		if im.Meta == "" {
			continue
		}
		b, err := readMeta(vg, im.Meta, pvs)
		if err != nil {
			im.SuperblockError = err.Error()
			continue
		}
		if im.Superblock, err = mdraid.ParseDMRaidSuperblock(b, sizes[i]); err != nil {
			// The kernel takes an image without a valid superblock for a
			// new one and rebuilds it: its data is not the array's.
			im.SuperblockError = im.Meta + ": " + err.Error()
			im.Missing = "no valid superblock, so the kernel would rebuild it (" + im.SuperblockError + ")"
		}
	}
	fresh := r.freshest()
	if fresh == nil {
		if images[0].Meta != "" {
			return nil, fmt.Errorf("lvm: %s: no image has a readable dm-raid superblock (%s), so where the data starts in each image and which images failed are unknown", full, r.superblockErrors())
		}
		if !known {
			return nil, fmt.Errorf("lvm: %s: raid4 without superblocks: where its parity lies is unknown", full)
		}
	} else {
		sg, err := fresh.Geometry()
		if err != nil {
			return nil, fmt.Errorf("lvm: %s: %w", full, err)
		}
		if err := agree(g, sg, known); err != nil {
			return nil, fmt.Errorf("lvm: %s: %w (an interrupted conversion? the superblocks are what the kernel would use, but holmes will not choose)", full, err)
		}
		r.Geometry, r.Events = sg, fresh.Events
		if fresh.ResyncOffset >= 0 {
			r.ResyncOffset = fresh.ResyncOffset
			r.Notes = append(r.Notes, fmt.Sprintf("the initial synchronisation reached byte %d of each image: copies and parity past it may not agree, so a degraded read there may be wrong", fresh.ResyncOffset))
		}
	}
	r.judge(fresh, sizes)
	r.Geometry, err = r.Geometry.Normalize()
	if err != nil {
		return nil, fmt.Errorf("lvm: %s: %w", full, err)
	}
	return r, nil
}

// readMeta reads the first bytes of metadata sub-LV meta, where dm-raid
// keeps its superblock.
func readMeta(vg *VG, meta string, pvs map[string]blockdev.Device) ([]byte, error) {
	d, err := OpenLV(vg, meta, pvs)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	b := make([]byte, mdraid.DMRaidSuperblockSize)
	if n, err := d.ReadAt(b, 0); err != nil && !(err == io.EOF && n == len(b)) {
		return nil, fmt.Errorf("%s: reading the superblock: %w", meta, err)
	}
	return b, nil
}

// freshest is the superblock with the most events, as the kernel picks
// the one that validates the others.
func (r *RaidLayout) freshest() *mdraid.DMRaidSuperblock {
	var best *mdraid.DMRaidSuperblock
	for _, im := range r.Images {
		if sb := im.Superblock; sb != nil && (best == nil || sb.Events > best.Events) {
			best = sb
		}
	}
	return best
}

func (r *RaidLayout) superblockErrors() string {
	var errs []string
	for _, im := range r.Images {
		if im.SuperblockError != "" {
			errs = append(errs, im.SuperblockError)
		} else if im.Missing != "" {
			errs = append(errs, im.Meta+": not read, its data image is missing")
		}
	}
	return strings.Join(errs, "; ")
}

// agree compares the text's geometry with the superblock's.
func agree(text, sb mdraid.Geometry, known bool) error {
	if !known {
		parity := sb.Level == "raid4" || sb.Level == "raid5" && (sb.Layout == "parity-first" || sb.Layout == "parity-last")
		if parity && sb.RaidDisks == text.RaidDisks && (text.ChunkBytes == 0 || text.ChunkBytes == sb.ChunkBytes) {
			return nil
		}
		return fmt.Errorf("the VG text says raid4 chunk %d over %d images, the superblocks %s", text.ChunkBytes, text.RaidDisks, describe(sb))
	}
	t, err := text.Normalize()
	if err != nil {
		return fmt.Errorf("the VG text: %w", err)
	}
	if t.Level != sb.Level || t.Layout != sb.Layout || t.ChunkBytes != sb.ChunkBytes || t.RaidDisks != sb.RaidDisks {
		return fmt.Errorf("the VG text says %s, the superblocks %s", describe(t), describe(sb))
	}
	return nil
}

func describe(g mdraid.Geometry) string {
	s := g.Level
	if g.Layout != "" {
		s += " " + g.Layout
	}
	if g.ChunkBytes != 0 {
		s += fmt.Sprintf(" chunk %d", g.ChunkBytes)
	}
	return s + fmt.Sprintf(" over %d images", g.RaidDisks)
}

// judge sets each image's data offset and size and leaves out those the
// freshest superblock (fresh, nil without superblocks) does not vouch for.
func (r *RaidLayout) judge(fresh *mdraid.DMRaidSuperblock, sizes []int64) {
	var used int64 = -1
	for i := range r.Images {
		im := &r.Images[i]
		if im.Missing != "" {
			continue
		}
		sb := im.Superblock // nil: the metadata image is missing or unreadable
		switch {
		case fresh != nil && contains(fresh.Failed, im.Role):
			im.Missing = fmt.Sprintf("the freshest superblock (events %d) records role %d as failed", fresh.Events, im.Role)
		case sb == nil && im.Meta != "":
			// The metadata image is gone but the data is there and no
			// superblock records it failed: read it where the freshest
			// superblock puts the data.
			im.DataOffset = fresh.DataOffset
			r.Notes = append(r.Notes, fmt.Sprintf("role %d has no readable superblock (%s); its data is read at the freshest superblock's data offset %d", im.Role, im.SuperblockError, fresh.DataOffset))
		case sb == nil:
		case sb.ArrayPosition != im.Role && r.Geometry.Level != "raid1":
			im.Missing = fmt.Sprintf("its superblock says array position %d", sb.ArrayPosition)
		case sb.Events < fresh.Events:
			im.Missing = fmt.Sprintf("stale: its superblock has events %d, the freshest %d", sb.Events, fresh.Events)
		case sb.RecoveryOffset >= 0:
			im.Missing = fmt.Sprintf("being rebuilt: in sync only up to byte %d", sb.RecoveryOffset)
		default:
			im.DataOffset = sb.DataOffset
		}
		if im.Missing != "" {
			continue
		}
		avail := sizes[i] - im.DataOffset
		if sb != nil && sb.UsedSize > 0 {
			avail = sb.UsedSize
		}
		if used < 0 || avail < used {
			used = avail
		}
	}
	if used > 0 {
		r.Geometry.DataSize = used
	}
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// openRaidLV reads a raid or mirror LV as the md array of its images,
// through mdraid, from the redundancy where images are left out.
func openRaidLV(vg *VG, l *LV, pvs map[string]blockdev.Device) (blockdev.Device, error) {
	r, err := vg.Raid(l.Name, pvs)
	if err != nil {
		return nil, err
	}
	var opened []blockdev.Device
	members := make([]blockdev.Device, len(r.Images))
	fail := func(err error) (blockdev.Device, error) {
		for _, d := range opened {
			d.Close()
		}
		return nil, err
	}
	for i, im := range r.Images {
		if im.Missing != "" {
			continue
		}
		d, err := OpenLV(vg, im.Data, pvs)
		if err != nil {
			return fail(err)
		}
		opened = append(opened, d)
		if members[i], err = blockdev.Slice(d, im.DataOffset, r.Geometry.DataSize, d.Name()); err != nil {
			return fail(fmt.Errorf("lvm: %s: role %d: %w", r.LV, im.Role, err))
		}
	}
	g := r.Geometry
	g.DataOffset = 0
	arr, err := mdraid.Open(g, members, r.LV)
	if err != nil {
		return fail(fmt.Errorf("lvm: %w", err))
	}
	seg := l.Segments[0]
	if arr.Size() < seg.Length {
		return fail(fmt.Errorf("lvm: %s: the %s array of its images holds %d bytes, the LV is %d", r.LV, g.Level, arr.Size(), seg.Length))
	}
	lv, err := blockdev.Slice(arr, 0, seg.Length, r.LV)
	if err != nil {
		return fail(err)
	}
	return blockdev.Stack(lv, append([]blockdev.Device{arr}, opened...)...), nil
}
