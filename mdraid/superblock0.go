package mdraid

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Version 0.90 superblock: 4 KiB of 32-bit words in the byte order of the
// host that wrote it, in the last 64 KiB-aligned 64 KiB of the device.
// Byte offsets are those of mdp_super_t in the kernel's md_p.h.
const (
	sb0Reserved     = 64 << 10
	sb0Bytes        = 4096
	sb0MinorVersion = 8
	sb0PatchVersion = 12
	sb0SetUUID0     = 20
	sb0CTime        = 24
	sb0Level        = 28
	sb0Size         = 32 // KiB used on each member
	sb0RaidDisks    = 40
	sb0MDMinor      = 44
	sb0SetUUID1     = 52
	sb0UTime        = 128
	sb0State        = 132
	sb0Checksum     = 152
	sb0Events       = 156 // 64-bit in the superblock's byte order (hi/lo words swap with it)
	sb0ReshapePos   = 176
	sb0NewLevel     = 184
	sb0DeltaDisks   = 188
	sb0NewLayout    = 192
	sb0NewChunk     = 196
	sb0Layout       = 256
	sb0ChunkSize    = 260 // bytes
	sb0Disks        = 512
	sb0DiskBytes    = 128
	sb0MaxDisks     = 27
	sb0ThisDisk     = 3968
	sb0StateClean   = 1 << 0
	sb0StateBitmap  = 1 << 8
	disk0Faulty     = 1 << 0
	disk0Active     = 1 << 1
	disk0Sync       = 1 << 2
	sb0BitmapOffset = 4096 // the bitmap follows the superblock
)

// super0Offset is where a 0.90 superblock lives on a device of size bytes,
// or -1 if the device is too small to hold one.
// Super090DataSize is the bytes of a member of size bytes that a 0.90
// array uses for data: everything before its superblock's reserve.
func Super090DataSize(size int64) int64 { return max(0, super0Offset(size)) }

func super0Offset(size int64) int64 {
	if size < sb0Reserved {
		return -1
	}
	return size&^(sb0Reserved-1) - sb0Reserved
}

// disk0 is one 0.90 disk descriptor.
type disk0 struct {
	number, raidDisk, state uint32
}

// decodeSuper0 decodes a 0.90 superblock in byte order bo. buf may be
// shorter than 4 KiB on a truncated device; missing words read as zero.
func decodeSuper0(raw []byte, off int64, bo binary.ByteOrder) *Superblock {
	buf := make([]byte, sb0Bytes)
	copy(buf, raw)
	u32 := func(at int) uint32 { return bo.Uint32(buf[at:]) }
	sb := &Superblock{Version: "0.90", Offset: off, ByteOrder: "little-endian"}
	if bo == binary.BigEndian {
		sb.ByteOrder = "big-endian"
	}
	if len(raw) < sb0Bytes {
		sb.problem("superblock truncated to %d bytes by the end of the device", len(raw))
	}
	minor := u32(sb0MinorVersion)
	if minor >= 90 {
		sb.ArrayUUID = uuid0(u32(sb0SetUUID0), u32(sb0SetUUID1), u32(sb0SetUUID1+4), u32(sb0SetUUID1+8))
	} else {
		sb.ArrayUUID = uuid0(u32(sb0SetUUID0), 0, 0, 0)
	}
	if minor != 90 || u32(sb0PatchVersion) != 0 {
		sb.Version = fmt.Sprintf("0.%02d.%02d", minor, u32(sb0PatchVersion))
	}
	sb.PreferredMinor = int(u32(sb0MDMinor))
	sb.CTime = unixTime(uint64(u32(sb0CTime)))
	sb.UTime = unixTime(uint64(u32(sb0UTime)))
	sb.LevelCode = int32(u32(sb0Level))
	sb.Level = levelName(sb.LevelCode)
	sb.LayoutCode = u32(sb0Layout)
	sb.Layout = layoutName(sb.LevelCode, sb.LayoutCode, 0)
	sb.ChunkBytes = int64(u32(sb0ChunkSize))
	sb.RaidDisks = sb.count("raid disks", u32(sb0RaidDisks))
	sb.Events = bo.Uint64(buf[sb0Events:])
	sb.UsedSize = int64(u32(sb0Size)) * 1024
	sb.DataSize = off // the data area is everything before the superblock
	sb.ArraySize = arraySize(sb.LevelCode, sb.LayoutCode, sb.RaidDisks, sb.UsedSize)
	state := u32(sb0State)
	sb.State = "active"
	if state&sb0StateClean != 0 {
		sb.State = "clean"
	}
	if state&sb0StateBitmap != 0 {
		sb.Bitmap = &Bitmap{Offset: off + sb0BitmapOffset}
	}
	if minor > 90 && bo.Uint64(buf[sb0ReshapePos:]) != ^uint64(0) {
		newLevel := int32(u32(sb0NewLevel))
		sb.Reshape = &Reshape{
			Position:   sb.sectors("reshape position", bo.Uint64(buf[sb0ReshapePos:])),
			NewLevel:   levelName(newLevel),
			NewLayout:  layoutName(newLevel, u32(sb0NewLayout), 0),
			NewChunk:   int64(u32(sb0NewChunk)),
			DeltaDisks: int(int32(u32(sb0DeltaDisks))),
		}
	}

	readDisk := func(at int) disk0 {
		return disk0{number: u32(at), raidDisk: u32(at + 12), state: u32(at + 16)}
	}
	this := readDisk(sb0ThisDisk)
	sb.DeviceNumber = int(this.number)
	sb.Role = role0(this)
	disks := make([]disk0, sb0MaxDisks)
	sb.Roles = make([]int, sb0MaxDisks)
	for i := range disks {
		disks[i] = readDisk(sb0Disks + i*sb0DiskBytes)
		sb.Roles[i] = role0(disks[i])
	}
	sb.ArrayState = arrayState0(disks, sb.RaidDisks)

	sb.Checksum = u32(sb0Checksum)
	sb.ExpectedChecksum = checksum0(buf, bo)
	sb.ChecksumOK = sb.Checksum == sb.ExpectedChecksum
	if !sb.ChecksumOK {
		sb.problem("bad checksum %08x (expected %08x)", sb.Checksum, sb.ExpectedChecksum)
	}
	return sb
}

// role0 is the slot a 0.90 disk descriptor holds: its raid_disk when it is
// active and in sync, otherwise faulty or spare.
func role0(d disk0) int {
	switch {
	case d.state&disk0Faulty != 0:
		return RoleFaulty
	case d.state&disk0Active != 0 && d.state&disk0Sync != 0:
		return int(d.raidDisk)
	}
	return RoleSpare
}

// arrayState0 derives an mdadm-style array state from the 0.90 disk table
// (mdadm prints the table, not this line): A for a slot some descriptor
// holds in sync, . otherwise.
func arrayState0(disks []disk0, slots int) string {
	var b strings.Builder
	for slot := 0; slot < slots; slot++ {
		c := byte('.')
		for _, d := range disks {
			if role0(d) == slot {
				c = 'A'
				break
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// checksum0 sums the 1024 words of a 0.90 superblock in its byte order,
// the checksum word taken as zero, folded to 32 bits.
func checksum0(buf []byte, bo binary.ByteOrder) uint32 {
	var sum uint64
	for i := 0; i < sb0Bytes; i += 4 {
		if i != sb0Checksum {
			sum += uint64(bo.Uint32(buf[i:]))
		}
	}
	return foldChecksum(sum)
}

// uuid0 prints 0.90 uuid words as mdadm does: each word as a host integer.
func uuid0(w0, w1, w2, w3 uint32) string {
	return fmt.Sprintf("%08x:%08x:%08x:%08x", w0, w1, w2, w3)
}
