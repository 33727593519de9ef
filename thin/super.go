// Package thin reads dm-thin pool metadata read-only, from the bytes of a
// pool's metadata device (an LVM thin pool's _tmeta LV): the superblock, the
// two-level btree that maps each thin device's virtual blocks to data
// blocks, and the device details tree. It maps a thin device over the
// pool's data device as a blockdev.Device. The format is the kernel's
// (drivers/md/dm-thin-metadata.c, drivers/md/persistent-data) as
// thin-provisioning-tools also read it. Damage (bad checksums, pointers
// outside the metadata device, cycles) is reported with the key ranges it
// hides; what the rest of the metadata maps stays readable.
package thin

import (
	"encoding/binary"
	"fmt"

	"holmes/pdata"
)

// BlockSize is the metadata block size (persistent-data's).
const BlockSize = pdata.BlockSize

// Problem is damage met in the metadata (persistent-data's): in the
// top-level and details trees the keys it hides are device ids, in a
// device's mapping tree virtual blocks.
type Problem = pdata.Problem

// Magic is the superblock's magic number.
const Magic = 27022010

// superblockXor is the superblock's checksum seed (pdata.Checksum).
const superblockXor = 160774

// Data block sizes the kernel accepts, in 512-byte sectors (64 KiB to 1 GiB).
const (
	minDataBlockSectors = 128
	maxDataBlockSectors = 2097152
)

// SpaceMapRoot is the head of a space map: how many blocks it covers and
// how many are in use.
type SpaceMapRoot struct {
	NrBlocks     uint64 `json:"nr_blocks"`
	NrAllocated  uint64 `json:"nr_allocated"`
	BitmapRoot   uint64 `json:"bitmap_root"`
	RefCountRoot uint64 `json:"ref_count_root"`
}

// Superblock is metadata block 0.
type Superblock struct {
	Checksum      uint32       `json:"checksum"`
	ChecksumOK    bool         `json:"checksum_ok"`
	Flags         uint32       `json:"flags"`
	BlockNr       uint64       `json:"blocknr"`
	UUID          [16]byte     `json:"-"`
	Version       uint32       `json:"version"`
	Time          uint32       `json:"time"`
	TransactionID uint64       `json:"transaction_id"`
	MetadataSnap  uint64       `json:"metadata_snap"` // the held root: a userspace snapshot of the metadata, 0 when none
	DataSpaceMap  SpaceMapRoot `json:"data_space_map"`
	MetaSpaceMap  SpaceMapRoot `json:"metadata_space_map"`
	MappingRoot   uint64       `json:"data_mapping_root"`
	DetailsRoot   uint64       `json:"device_details_root"`
	// DataBlockSize is in 512-byte sectors, as thin_dump prints it.
	DataBlockSize     uint32 `json:"data_block_size"`
	MetadataBlockSize uint32 `json:"metadata_block_size"` // sectors
	MetadataNrBlocks  uint64 `json:"metadata_nr_blocks"`
	CompatFlags       uint32 `json:"compat_flags"`
	CompatROFlags     uint32 `json:"compat_ro_flags"`
	IncompatFlags     uint32 `json:"incompat_flags"`
}

// The superblock's fields, by byte offset (struct thin_disk_superblock;
// the two space map roots are 128-byte areas of which 32 bytes are used).
const (
	offSbFlags        = 4
	offSbBlockNr      = 8
	offSbUUID         = 16
	offSbMagic        = 32
	offSbVersion      = 40
	offSbTime         = 44
	offSbTransID      = 48
	offSbHeldRoot     = 56
	offSbDataSM       = 64
	offSbMetaSM       = 192
	offSbMappingRoot  = 320
	offSbDetailsRoot  = 328
	offSbDataBlock    = 336
	offSbMetaBlock    = 340
	offSbMetaNrBlocks = 344
	offSbCompat       = 352
	offSbCompatRO     = 356
	offSbIncompat     = 360
)

// ProbeSuperblock says whether b (at least 40 bytes) starts with a thin
// pool superblock's magic number.
func ProbeSuperblock(b []byte) bool {
	return len(b) >= offSbMagic+8 && binary.LittleEndian.Uint64(b[offSbMagic:]) == Magic
}

// ParseSuperblock decodes metadata block 0. A wrong magic number is an
// error (this is not thin pool metadata); a bad checksum is not: ChecksumOK
// says so and the caller decides.
func ParseSuperblock(b []byte) (*Superblock, error) {
	if len(b) < BlockSize {
		return nil, fmt.Errorf("thin: superblock: %d bytes, want %d", len(b), BlockSize)
	}
	le := binary.LittleEndian
	if m := le.Uint64(b[offSbMagic:]); m != Magic {
		return nil, fmt.Errorf("thin: superblock: magic %d, want %d (not dm-thin pool metadata)", m, Magic)
	}
	sm := func(off int) SpaceMapRoot {
		return SpaceMapRoot{le.Uint64(b[off:]), le.Uint64(b[off+8:]), le.Uint64(b[off+16:]), le.Uint64(b[off+24:])}
	}
	sb := &Superblock{
		Checksum:          le.Uint32(b),
		Flags:             le.Uint32(b[offSbFlags:]),
		BlockNr:           le.Uint64(b[offSbBlockNr:]),
		Version:           le.Uint32(b[offSbVersion:]),
		Time:              le.Uint32(b[offSbTime:]),
		TransactionID:     le.Uint64(b[offSbTransID:]),
		MetadataSnap:      le.Uint64(b[offSbHeldRoot:]),
		DataSpaceMap:      sm(offSbDataSM),
		MetaSpaceMap:      sm(offSbMetaSM),
		MappingRoot:       le.Uint64(b[offSbMappingRoot:]),
		DetailsRoot:       le.Uint64(b[offSbDetailsRoot:]),
		DataBlockSize:     le.Uint32(b[offSbDataBlock:]),
		MetadataBlockSize: le.Uint32(b[offSbMetaBlock:]),
		MetadataNrBlocks:  le.Uint64(b[offSbMetaNrBlocks:]),
		CompatFlags:       le.Uint32(b[offSbCompat:]),
		CompatROFlags:     le.Uint32(b[offSbCompatRO:]),
		IncompatFlags:     le.Uint32(b[offSbIncompat:]),
	}
	copy(sb.UUID[:], b[offSbUUID:])
	sb.ChecksumOK = pdata.Checksum(b[:BlockSize], superblockXor) == sb.Checksum
	return sb, nil
}

// DataBlockBytes is the pool's data block (chunk) size in bytes.
func (sb *Superblock) DataBlockBytes() int64 { return int64(sb.DataBlockSize) * 512 }
