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
	b, err := s.readWhole(off, thin.BlockSize)
	if b == nil {
		return err
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

// readWhole reads n bytes at off: nil and no error when the device ends
// first (not a whole structure) or the evidence lacks them (nothing to
// report), an error only when nothing could be read.
func (s *scanner) readWhole(off int64, n int) ([]byte, error) {
	b := make([]byte, n)
	if got, err := s.d.ReadAt(b, off); got < n {
		if _, gap := blockdev.AsUnreadable(err); gap {
			return nil, nil
		}
		if got == 0 && err != nil {
			return nil, err
		}
		return nil, nil
	}
	return b, nil
}
