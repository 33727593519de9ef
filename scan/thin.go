package scan

import (
	"holmes/blockdev"
	"holmes/thin"
)

// Thin summarises a dm-thin pool metadata superblock: where a thin pool's
// metadata LV (_tmeta) begins, even when no VG text says so any more.
type Thin struct {
	TransactionID uint64 `json:"transaction_id"`
	Time          uint32 `json:"time"`
	DataBlockSize int64  `json:"data_block_size"` // bytes
	DataBlocks    uint64 `json:"data_blocks"`
	// MetadataSize is the metadata device's size the superblock records:
	// with the offset, the DEV range holmes lvm thin reads.
	MetadataSize int64 `json:"metadata_size"`
	ChecksumOK   bool  `json:"checksum_ok"`
}

// addThin records the thin pool superblock found at off; it is the first
// block of its metadata device.
func (s *scanner) addThin(off int64) error {
	if s.seen[key("thin", off)] {
		return nil
	}
	b := make([]byte, thin.BlockSize)
	if n, err := s.d.ReadAt(b, off); n < len(b) {
		if _, gap := blockdev.AsUnreadable(err); gap {
			return nil // not in the evidence: nothing to report
		}
		if n == 0 && err != nil {
			return err
		}
		return nil // cut short by the end of the device: not a whole superblock
	}
	sb, err := thin.ParseSuperblock(b)
	if err != nil {
		return nil
	}
	start := off
	sig := &Signature{Kind: "thin", Offset: off, Start: &start, Thin: &Thin{
		TransactionID: sb.TransactionID, Time: sb.Time, DataBlockSize: sb.DataBlockBytes(),
		DataBlocks: sb.DataSpaceMap.NrBlocks, ChecksumOK: sb.ChecksumOK,
	}}
	if sb.MetadataNrBlocks < 1<<40 {
		sig.Thin.MetadataSize = int64(sb.MetadataNrBlocks) * thin.BlockSize
	}
	if !sb.ChecksumOK {
		sig.Error = "bad superblock checksum"
	}
	s.add(sig)
	return nil
}
