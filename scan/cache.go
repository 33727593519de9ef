package scan

import (
	"holmes/dmcache"
	"holmes/pdata"
)

// Cache summarises a dm-cache metadata superblock: where a cache pool's
// metadata LV (_cmeta) begins, even when no VG text says so any more.
type Cache struct {
	Format      uint32 `json:"format"`
	Policy      string `json:"policy"`
	BlockSize   int64  `json:"block_size"` // bytes per cache block
	CacheBlocks uint32 `json:"cache_blocks"`
	// MetadataSize is the metadata device's size the superblock's space
	// map records: with the offset, the DEV range holmes lvm cache reads.
	MetadataSize  int64 `json:"metadata_size"`
	CleanShutdown bool  `json:"clean_shutdown"`
	ChecksumOK    bool  `json:"checksum_ok"`
}

// addCache records the dm-cache superblock found at off; it is the first
// block of its metadata device.
func (s *scanner) addCache(off int64) error {
	if s.seen[key("cache", off)] {
		return nil
	}
	b, err := s.readWhole(off, pdata.BlockSize)
	if b == nil {
		return err
	}
	sb, err := dmcache.ParseSuperblock(b)
	if err != nil {
		return nil
	}
	start := off
	sig := &Signature{Kind: "cache", Offset: off, Start: &start, Cache: &Cache{
		Format: sb.Version, Policy: sb.Policy, BlockSize: sb.BlockBytes(), CacheBlocks: sb.CacheBlocks,
		CleanShutdown: sb.CleanShutdown(), ChecksumOK: sb.ChecksumOK,
	}}
	if sb.MetaNrBlocks < 1<<40 {
		sig.Cache.MetadataSize = int64(sb.MetaNrBlocks) * pdata.BlockSize
	}
	if !sb.ChecksumOK {
		sig.Error = "bad superblock checksum"
	}
	s.add(sig)
	return nil
}
