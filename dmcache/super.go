// Package dmcache reads dm-cache metadata read-only, from the bytes of a
// cache's metadata device (an LVM cache pool's _cmeta LV): the superblock,
// the mapping array (which origin block each cache block holds, and in
// metadata format 1 whether it is dirty) and, in format 2, the dirty
// bitset. It says which origin blocks hold data only the cache has, and
// reads a cached volume through the cache as dm-cache does: mapped blocks
// from the cache device, the rest from the origin. The format is the
// kernel's (drivers/md/dm-cache-metadata.c over drivers/md/persistent-data,
// read with package pdata), as thin-provisioning-tools' cache_dump reads it.
package dmcache

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"holmes/pdata"
)

// Magic is the superblock's magic number (the kernel's 06142003, octal).
const Magic = 06142003

// superblockXor is the superblock's checksum seed (pdata.Checksum).
const superblockXor = 9031977

// Superblock flags (enum superblock_flag_bits).
const (
	// FlagCleanShutdown says the kernel wrote the dirty bits when it
	// stopped the cache; without it the kernel takes every mapped block as
	// dirty when it starts the cache again.
	FlagCleanShutdown = 1 << 0
	// FlagNeedsCheck says the kernel met an error and wants the metadata
	// checked (cache_check) before it is used again.
	FlagNeedsCheck = 1 << 1
)

// Cache block sizes the kernel accepts, in 512-byte sectors (32 KiB to 1 GiB,
// a multiple of 32 KiB).
const (
	minBlockSectors = 64
	maxBlockSectors = 2097152
)

// The superblock's fields, by byte offset (struct cache_disk_superblock,
// packed).
const (
	offFlags         = 4
	offBlockNr       = 8
	offUUID          = 16
	offMagic         = 32
	offVersion       = 40
	offPolicyName    = 44 // 16 bytes
	offPolicyHint    = 60
	offMetaSpaceMap  = 64 // 128 bytes: nr_blocks, nr_allocated, bitmap_root, ref_count_root
	offMappingRoot   = 192
	offHintRoot      = 200
	offDiscardRoot   = 208
	offDiscardBlock  = 216
	offDiscardBlocks = 224
	offDataBlock     = 232
	offMetaBlock     = 236
	offCacheBlocks   = 240
	offCompat        = 244
	offCompatRO      = 248
	offIncompat      = 252
	offReadHits      = 256
	offReadMisses    = 260
	offWriteHits     = 264
	offWriteMisses   = 268
	offPolicyVersion = 272 // 3 x 4 bytes
	offDirtyRoot     = 284 // format 2 only
)

// Superblock is metadata block 0.
type Superblock struct {
	Checksum   uint32   `json:"checksum"`
	ChecksumOK bool     `json:"checksum_ok"`
	Flags      uint32   `json:"flags"`
	BlockNr    uint64   `json:"blocknr"`
	UUID       [16]byte `json:"-"`
	// Version is the metadata format: 1, or 2 with the dirty bits in
	// their own bitset.
	Version        uint32    `json:"version"`
	Policy         string    `json:"policy"`
	PolicyVersion  [3]uint32 `json:"policy_version"`
	PolicyHintSize uint32    `json:"hint_width"`
	MetaNrBlocks   uint64    `json:"metadata_nr_blocks"` // the metadata space map's
	MappingRoot    uint64    `json:"mapping_root"`
	HintRoot       uint64    `json:"hint_root"`
	DiscardRoot    uint64    `json:"discard_root"`
	// DataBlockSize is the cache block size in 512-byte sectors, as
	// cache_dump prints it (block_size).
	DataBlockSize     uint32 `json:"block_size"`
	MetadataBlockSize uint32 `json:"metadata_block_size"` // sectors
	CacheBlocks       uint32 `json:"nr_cache_blocks"`
	CompatFlags       uint32 `json:"compat_flags"`
	CompatROFlags     uint32 `json:"compat_ro_flags"`
	IncompatFlags     uint32 `json:"incompat_flags"`
	ReadHits          uint32 `json:"read_hits"`
	ReadMisses        uint32 `json:"read_misses"`
	WriteHits         uint32 `json:"write_hits"`
	WriteMisses       uint32 `json:"write_misses"`
	DirtyRoot         uint64 `json:"dirty_root,omitempty"`
}

// ProbeSuperblock says whether b (at least 40 bytes) starts with a
// dm-cache superblock's magic number.
func ProbeSuperblock(b []byte) bool {
	return len(b) >= offMagic+8 && binary.LittleEndian.Uint64(b[offMagic:]) == Magic
}

// ParseSuperblock decodes metadata block 0. A wrong magic number is an
// error (this is not dm-cache metadata); a bad checksum is not: ChecksumOK
// says so and the caller decides.
func ParseSuperblock(b []byte) (*Superblock, error) {
	if len(b) < pdata.BlockSize {
		return nil, fmt.Errorf("dmcache: superblock: %d bytes, want %d", len(b), pdata.BlockSize)
	}
	le := binary.LittleEndian
	if m := le.Uint64(b[offMagic:]); m != Magic {
		return nil, fmt.Errorf("dmcache: superblock: magic %d, want %d (not dm-cache metadata)", m, Magic)
	}
	sb := &Superblock{
		Checksum:          le.Uint32(b),
		Flags:             le.Uint32(b[offFlags:]),
		BlockNr:           le.Uint64(b[offBlockNr:]),
		Version:           le.Uint32(b[offVersion:]),
		Policy:            string(bytes.TrimRight(b[offPolicyName:offPolicyName+16], "\x00")),
		PolicyHintSize:    le.Uint32(b[offPolicyHint:]),
		MetaNrBlocks:      le.Uint64(b[offMetaSpaceMap:]),
		MappingRoot:       le.Uint64(b[offMappingRoot:]),
		HintRoot:          le.Uint64(b[offHintRoot:]),
		DiscardRoot:       le.Uint64(b[offDiscardRoot:]),
		DataBlockSize:     le.Uint32(b[offDataBlock:]),
		MetadataBlockSize: le.Uint32(b[offMetaBlock:]),
		CacheBlocks:       le.Uint32(b[offCacheBlocks:]),
		CompatFlags:       le.Uint32(b[offCompat:]),
		CompatROFlags:     le.Uint32(b[offCompatRO:]),
		IncompatFlags:     le.Uint32(b[offIncompat:]),
		ReadHits:          le.Uint32(b[offReadHits:]),
		ReadMisses:        le.Uint32(b[offReadMisses:]),
		WriteHits:         le.Uint32(b[offWriteHits:]),
		WriteMisses:       le.Uint32(b[offWriteMisses:]),
	}
	copy(sb.UUID[:], b[offUUID:])
	for i := range sb.PolicyVersion {
		sb.PolicyVersion[i] = le.Uint32(b[offPolicyVersion+4*i:])
	}
	if sb.Version >= 2 {
		sb.DirtyRoot = le.Uint64(b[offDirtyRoot:])
	}
	sb.ChecksumOK = pdata.Checksum(b[:pdata.BlockSize], superblockXor) == sb.Checksum
	return sb, nil
}

// CleanShutdown says the kernel stopped the cache cleanly: the dirty bits
// on disk are the ones it kept.
func (sb *Superblock) CleanShutdown() bool { return sb.Flags&FlagCleanShutdown != 0 }

// BlockBytes is the cache block size in bytes.
func (sb *Superblock) BlockBytes() int64 { return int64(sb.DataBlockSize) * 512 }
