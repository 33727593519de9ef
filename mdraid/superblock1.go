package mdraid

import (
	"encoding/binary"
	"fmt"
	"strings"

	"holmes/internal/ondisk"
)

// Version 1 superblock (little-endian on every host). Field offsets are
// those of struct mdp_superblock_1 in the kernel's md_p.h.
const (
	sb1FeatureMap   = 8
	sb1SetUUID      = 16
	sb1SetName      = 32
	sb1CTime        = 64
	sb1Level        = 72
	sb1Layout       = 76
	sb1Size         = 80
	sb1ChunkSize    = 88
	sb1RaidDisks    = 92
	sb1BitmapOffset = 96
	sb1NewLevel     = 100
	sb1ReshapePos   = 104
	sb1DeltaDisks   = 112
	sb1NewLayout    = 116
	sb1NewChunk     = 120
	sb1DataOffset   = 128
	sb1DataSize     = 136
	sb1SuperOffset  = 144
	sb1DevNumber    = 160
	sb1DeviceUUID   = 168
	sb1BBLogSize    = 186
	sb1BBLogOffset  = 188
	sb1UTime        = 192
	sb1Events       = 200
	sb1ResyncOffset = 208
	sb1Checksum     = 216
	sb1MaxDev       = 220
	sb1DevRoles     = 256
	sb1MaxSize      = 4096
	sb1MaxDevLimit  = (sb1MaxSize - sb1DevRoles) / 2
	roleSpare1      = 0xffff
	roleFaulty1     = 0xfffe
	roleJournal1    = 0xfffd
	featureBitmap   = 1 << 0
	featureReshape  = 1 << 2
)

// decodeSuper1 decodes a version-1 superblock read at off. buf holds at
// least 256 bytes and at most 4 KiB. version is implied by the position, or
// "" to infer it from super_offset as mdadm does.
func decodeSuper1(buf []byte, off, devSize int64, version string) *Superblock {
	le := binary.LittleEndian
	sb := &Superblock{Offset: off, ByteOrder: "little-endian"}
	sb.FeatureMap = le.Uint32(buf[sb1FeatureMap:])
	sb.ArrayUUID = uuidString(buf[sb1SetUUID : sb1SetUUID+16])
	sb.DeviceUUID = uuidString(buf[sb1DeviceUUID : sb1DeviceUUID+16])
	sb.Name = ondisk.CString(buf[sb1SetName : sb1SetName+32])
	sb.CTime = unixTime(le.Uint64(buf[sb1CTime:]))
	sb.UTime = unixTime(le.Uint64(buf[sb1UTime:]))
	sb.LevelCode = int32(le.Uint32(buf[sb1Level:]))
	sb.Level = levelName(sb.LevelCode)
	sb.LayoutCode = le.Uint32(buf[sb1Layout:])
	sb.Layout = layoutName(sb.LevelCode, sb.LayoutCode, sb.FeatureMap)
	sb.ChunkBytes = sb.sectors("chunk size", uint64(le.Uint32(buf[sb1ChunkSize:])))
	sb.RaidDisks = sb.count("raid disks", le.Uint32(buf[sb1RaidDisks:]))
	sb.Events = le.Uint64(buf[sb1Events:])
	sb.UsedSize = sb.sectors("used size", le.Uint64(buf[sb1Size:]))
	sb.DataOffset = sb.sectors("data offset", le.Uint64(buf[sb1DataOffset:]))
	sb.DataSize = sb.sectors("data size", le.Uint64(buf[sb1DataSize:]))
	sb.SuperOffset = sb.sectors("super offset", le.Uint64(buf[sb1SuperOffset:]))
	sb.ArraySize = arraySize(sb.LevelCode, sb.LayoutCode, sb.RaidDisks, sb.UsedSize)
	sb.State = "clean"
	if le.Uint64(buf[sb1ResyncOffset:]) != ^uint64(0) {
		sb.State = "active"
	}

	sb.Version = version
	if version == "" {
		switch so := sb.SuperOffset / 512; {
		case so <= 4:
			sb.Version = "1.1"
		case so <= 8:
			sb.Version = "1.2"
		default:
			sb.Version = "1.0"
		}
	}
	memberStart := off - sb.SuperOffset
	if memberStart < 0 {
		sb.problem("super offset field %d is beyond where the superblock was found (%d)", sb.SuperOffset, off)
		memberStart = off
	} else if version != "" && memberStart != 0 {
		sb.problem("super offset field says %d but the superblock is at %d", sb.SuperOffset, off)
	}
	if end := memberStart + sb.DataOffset + sb.DataSize; sb.DataOffset+sb.DataSize > 0 && end > devSize {
		sb.problem("data area ends at %d, past the end of the device (%d)", end, devSize)
	}

	// The role table follows the fixed part; max_dev says how long it is.
	maxDev := int(le.Uint32(buf[sb1MaxDev:]))
	tableLen := maxDev
	if tableLen > sb1MaxDevLimit {
		sb.problem("max_dev %d does not fit in a 4 KiB superblock", maxDev)
		tableLen = sb1MaxDevLimit
	}
	if avail := (len(buf) - sb1DevRoles) / 2; tableLen > avail {
		sb.problem("role table (%d entries) runs past the end of the device", tableLen)
		tableLen = avail
	}
	raw := make([]uint16, tableLen)
	for i := range raw {
		raw[i] = le.Uint16(buf[sb1DevRoles+2*i:])
	}
	sb.Roles = make([]int, tableLen)
	for i, r := range raw {
		sb.Roles[i] = role1(r)
	}
	sb.DeviceNumber = int(le.Uint32(buf[sb1DevNumber:]))
	sb.Role = RoleSpare
	if sb.DeviceNumber < tableLen {
		sb.Role = sb.Roles[sb.DeviceNumber]
	}

	extra := 0
	if sb.FeatureMap&featureReshape != 0 {
		delta := int32(le.Uint32(buf[sb1DeltaDisks:]))
		newLevel := int32(le.Uint32(buf[sb1NewLevel:]))
		sb.Reshape = &Reshape{
			Position:   sb.sectors("reshape position", le.Uint64(buf[sb1ReshapePos:])),
			NewLevel:   levelName(newLevel),
			NewLayout:  layoutName(newLevel, le.Uint32(buf[sb1NewLayout:]), sb.FeatureMap),
			NewChunk:   sb.sectors("new chunk", uint64(le.Uint32(buf[sb1NewChunk:]))),
			DeltaDisks: int(delta),
		}
		if delta < 0 && delta > -sb1MaxDevLimit {
			extra = int(-delta)
		}
	}
	sb.ArrayState = arrayState1(raw, sb.RaidDisks+extra, sb.LevelCode > 0)

	if maxDev == tableLen {
		sb.Checksum = le.Uint32(buf[sb1Checksum:])
		sb.ExpectedChecksum = checksum1(buf[:sb1DevRoles+2*tableLen])
		sb.ChecksumOK = sb.Checksum == sb.ExpectedChecksum
	} else {
		sb.Checksum = le.Uint32(buf[sb1Checksum:])
	}
	if !sb.ChecksumOK {
		sb.problem("bad checksum %08x (expected %08x)", sb.Checksum, sb.ExpectedChecksum)
	}

	if sb.FeatureMap&featureBitmap != 0 {
		sb.Bitmap = &Bitmap{Offset: off + int64(int32(le.Uint32(buf[sb1BitmapOffset:])))*512}
	}
	if size, boff := le.Uint16(buf[sb1BBLogSize:]), int32(le.Uint32(buf[sb1BBLogOffset:])); size != 0 && boff != 0 {
		sb.BadBlockLog = &Region{Offset: off + int64(boff)*512, Size: int64(size) * 512}
	}
	return sb
}

// checksum1 is the version-1 checksum: the superblock and its role table
// summed as little-endian 32-bit words with the checksum field taken as
// zero, a trailing 16-bit role added alone, folded to 32 bits.
func checksum1(b []byte) uint32 {
	var sum uint64
	i := 0
	for ; i+4 <= len(b); i += 4 {
		if i == sb1Checksum {
			continue
		}
		sum += uint64(binary.LittleEndian.Uint32(b[i:]))
	}
	if len(b)-i == 2 {
		sum += uint64(binary.LittleEndian.Uint16(b[i:]))
	}
	return foldChecksum(sum)
}

func role1(r uint16) int {
	switch r {
	case roleSpare1:
		return RoleSpare
	case roleFaulty1:
		return RoleFaulty
	case roleJournal1:
		return RoleJournal
	}
	return int(r)
}

// arrayState1 renders the role table as mdadm's "Array State": per slot,
// A when one device holds it, R when two do (a replacement in progress on a
// redundant level), . when none, ? otherwise.
func arrayState1(roles []uint16, slots int, redundant bool) string {
	if slots > sb1MaxDevLimit {
		slots = sb1MaxDevLimit
	}
	var b strings.Builder
	for d := 0; d < slots; d++ {
		n := 0
		for _, r := range roles {
			if int(r) == d {
				n++
			}
		}
		switch {
		case n == 2 && redundant:
			b.WriteByte('R')
		case n == 1:
			b.WriteByte('A')
		case n == 0:
			b.WriteByte('.')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// uuidString formats 16 bytes as mdadm prints 1.x uuids.
func uuidString(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte(':')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}

// sectors converts a sector count from the superblock to bytes, recording a
// problem instead of overflowing.
func (sb *Superblock) sectors(what string, n uint64) int64 {
	if n > 1<<54 {
		sb.problem("%s of %d sectors is impossible", what, n)
		return 0
	}
	return int64(n) * 512
}

// count bounds a device count from the superblock.
func (sb *Superblock) count(what string, n uint32) int {
	if n > sb1MaxDevLimit {
		sb.problem("%s %d is impossible", what, n)
		return 0
	}
	return int(n)
}

func (sb *Superblock) problem(format string, args ...any) {
	sb.Problems = append(sb.Problems, fmt.Sprintf(format, args...))
}
