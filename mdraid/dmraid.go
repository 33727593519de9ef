package mdraid

// The dm-raid superblock: what the kernel's dm-raid target (md under
// device-mapper, as lvm2's raid LVs use it) keeps at the start of each
// image's metadata device (lvm's _rmeta_N). It is md's state for one member
// in a format of its own (struct dm_raid_superblock in the kernel's
// drivers/md/dm-raid.c), little-endian, 512 bytes at most in use.

import (
	"encoding/binary"
	"fmt"
	"math"
)

const (
	dmRaidMagic = 0x64526D44 // "DmRd"
	// DMRaidSuperblockSize is how many bytes of a metadata device the
	// superblock can use; the rest of the first 4 KiB is zero.
	DMRaidSuperblockSize = 512
	dmRaidUsed           = 148 // the struct's packed size with the 1.9.0 extension
	dmRaidMaxDevices     = 253 // the kernel's MAX_RAID_DEVICES
	dmRaidV190           = 1   // compat feature: the extension past stripe_sectors is there
	dmRaidReshapeActive  = 1   // flags: an interrupted reshape
	maxSector            = ^uint64(0)
)

// DMRaidSuperblock is one dm-raid superblock, decoded and bounded by the
// sizes of the devices it describes. Sizes are bytes.
type DMRaidSuperblock struct {
	NumDevices    int    `json:"num_devices"`
	ArrayPosition int    `json:"array_position"` // this image's role
	Events        uint64 `json:"events"`
	// Failed are the roles this superblock records as failed.
	Failed []int `json:"failed"`
	// RecoveryOffset is how far this image has been rebuilt; -1 when it is
	// in sync (the kernel's MaxSector).
	RecoveryOffset int64 `json:"recovery_offset"`
	// ResyncOffset is how far the array's initial synchronisation got; -1
	// when complete.
	ResyncOffset int64  `json:"resync_offset"`
	LevelCode    int32  `json:"level_code"`
	LayoutCode   uint32 `json:"layout_code"`
	ChunkBytes   int64  `json:"chunk_bytes"`
	// Extended says the 1.9.0 fields below are present (the kernel writes
	// them since 2017); without them the data offset is 0 and the used
	// size is the image's.
	Extended        bool   `json:"extended"`
	Reshaping       bool   `json:"reshaping"`
	ReshapePosition int64  `json:"reshape_position,omitempty"`
	NewLevelCode    int32  `json:"new_level_code,omitempty"`
	NewLayoutCode   uint32 `json:"new_layout_code,omitempty"`
	DeltaDisks      int32  `json:"delta_disks,omitempty"`
	ArraySize       int64  `json:"array_size"`
	DataOffset      int64  `json:"data_offset"`
	NewDataOffset   int64  `json:"new_data_offset"`
	UsedSize        int64  `json:"used_size"` // bytes of the data image the array uses (0: not recorded)
}

// ParseDMRaidSuperblock decodes the superblock at the start of b (a
// metadata device's first bytes). imageSize is the size of the data image
// beside it: offsets and sizes must fit in it. Anything the kernel would
// refuse, or that does not fit, is an error naming the field.
func ParseDMRaidSuperblock(b []byte, imageSize int64) (*DMRaidSuperblock, error) {
	if imageSize < 0 {
		return nil, fmt.Errorf("dm-raid superblock: image of %d bytes", imageSize)
	}
	if len(b) < dmRaidUsed {
		return nil, fmt.Errorf("dm-raid superblock: %d bytes, need %d", len(b), dmRaidUsed)
	}
	le := binary.LittleEndian
	if m := le.Uint32(b); m != dmRaidMagic {
		return nil, fmt.Errorf("dm-raid superblock: magic %#08x, want %#08x (\"DmRd\")", m, dmRaidMagic)
	}
	compat := le.Uint32(b[4:])
	if compat&^dmRaidV190 != 0 {
		return nil, fmt.Errorf("dm-raid superblock: unknown compatible features %#x", compat)
	}
	sb := &DMRaidSuperblock{
		NumDevices:    int(le.Uint32(b[8:])),
		ArrayPosition: int(int32(le.Uint32(b[12:]))),
		Events:        le.Uint64(b[16:]),
		LevelCode:     int32(le.Uint32(b[48:])),
		LayoutCode:    le.Uint32(b[52:]),
		Extended:      compat&dmRaidV190 != 0,
	}
	if sb.NumDevices < 1 || sb.NumDevices > dmRaidMaxDevices {
		return nil, fmt.Errorf("dm-raid superblock: num_devices %d (want 1..%d)", sb.NumDevices, dmRaidMaxDevices)
	}
	if sb.ArrayPosition < 0 || sb.ArrayPosition >= sb.NumDevices {
		return nil, fmt.Errorf("dm-raid superblock: array_position %d of %d devices", sb.ArrayPosition, sb.NumDevices)
	}
	arrayLimit := int64(math.MaxInt64)
	if imageSize <= math.MaxInt64/int64(sb.NumDevices) {
		arrayLimit = int64(sb.NumDevices) * imageSize
	}
	var err error
	sectors := func(what string, v uint64, limit int64, unset bool) int64 {
		if unset && v == maxSector {
			return -1
		}
		if err == nil && v > uint64(limit)/512 {
			err = fmt.Errorf("dm-raid superblock: %s %d sectors is beyond %d bytes", what, v, limit)
		}
		return int64(v) * 512
	}
	stripe := le.Uint32(b[56:])
	sb.ChunkBytes = sectors("stripe_sectors", uint64(stripe), 1<<30, false)
	sb.RecoveryOffset = sectors("disk_recovery_offset", le.Uint64(b[32:]), imageSize, true)
	sb.ResyncOffset = sectors("array_resync_offset", le.Uint64(b[40:]), imageSize, true)
	failed := []uint64{le.Uint64(b[24:])}
	if sb.Extended {
		sb.Reshaping = le.Uint32(b[60:])&dmRaidReshapeActive != 0
		if sb.Reshaping {
			sb.ReshapePosition = sectors("reshape_position", le.Uint64(b[64:]), arrayLimit, false)
		}
		sb.NewLevelCode = int32(le.Uint32(b[72:]))
		sb.NewLayoutCode = le.Uint32(b[76:])
		sb.DeltaDisks = int32(le.Uint32(b[84:]))
		sb.ArraySize = sectors("array_sectors", le.Uint64(b[88:]), arrayLimit, false)
		sb.DataOffset = sectors("data_offset", le.Uint64(b[96:]), imageSize, false)
		sb.NewDataOffset = sectors("new_data_offset", le.Uint64(b[104:]), imageSize, false)
		sb.UsedSize = sectors("sectors", le.Uint64(b[112:]), imageSize-sb.DataOffset, false)
		for i := 0; i < 3; i++ {
			failed = append(failed, le.Uint64(b[120+8*i:]))
		}
		if f := le.Uint32(b[144:]); f != 0 {
			return nil, fmt.Errorf("dm-raid superblock: unknown incompatible features %#x", f)
		}
	}
	if err != nil {
		return nil, err
	}
	for w, bits := range failed {
		for i := 0; i < 64; i++ {
			if bits&(1<<i) != 0 && w*64+i < sb.NumDevices {
				sb.Failed = append(sb.Failed, w*64+i)
			}
		}
	}
	return sb, nil
}

// Geometry is the md geometry the superblock records: level, layout and
// chunk by md's numbers, as this package names them; the data offset and
// size are per image (DataOffset, UsedSize) and left out. An interrupted
// reshape is an error: its stripes are in two layouts.
func (sb *DMRaidSuperblock) Geometry() (Geometry, error) {
	if sb.Reshaping {
		return Geometry{}, fmt.Errorf("dm-raid superblock: a reshape to level %d layout %d (%+d devices) stopped at array sector %d; holmes does not map arrays in two layouts",
			sb.NewLevelCode, sb.NewLayoutCode, sb.DeltaDisks, sb.ReshapePosition/512)
	}
	g := Geometry{Level: levelName(sb.LevelCode), ChunkBytes: sb.ChunkBytes, RaidDisks: sb.NumDevices}
	switch sb.LevelCode {
	case 0, 1, 4:
	case 5, 6:
		name, ok := parityLayoutNames[int(sb.LayoutCode)]
		if !ok {
			return g, fmt.Errorf("dm-raid superblock: unknown raid%d layout %d", sb.LevelCode, sb.LayoutCode)
		}
		g.Layout = name
	case 10:
		l, err := raid10FromCode(sb.LayoutCode)
		if err != nil {
			return g, fmt.Errorf("dm-raid superblock: %w", err)
		}
		g.Layout = l.String()
	default:
		return g, fmt.Errorf("dm-raid superblock: unknown level %d", sb.LevelCode)
	}
	return g.Normalize()
}
