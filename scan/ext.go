package scan

import (
	"holmes/blockdev"
	"holmes/ext"
)

// Ext summarises an ext superblock.
type Ext struct {
	UUID       string `json:"uuid"`
	Label      string `json:"label"`
	Group      int    `json:"group"` // block group of this copy; 0 is the primary
	BlockSize  int    `json:"block_size"`
	Blocks     uint64 `json:"blocks"`
	FSSize     int64  `json:"fs_size"`
	JournalDev bool   `json:"journal_dev,omitempty"` // an external journal (blkid: jbd), not a filesystem
	PastEnd    bool   `json:"past_end,omitempty"`    // the filesystem is larger than what follows it on the device
	ChecksumOK *bool  `json:"checksum_ok,omitempty"` // with metadata_csum
	// Copy marks a superblock lying inside the filesystem it describes
	// where no backup belongs: jbd2 logs the superblock's block in the
	// journal, and images of it end up in files. Such a copy says nothing
	// about where a filesystem starts.
	Copy bool `json:"copy,omitempty"`
}

// checkExt decodes an ext superblock candidate at off. Its magic is only
// 16 bits, so a candidate that fails the geometry checks is noise, not a
// finding.
func (s *scanner) checkExt(off int64) error {
	if s.seen[key("ext", off)] || off+ext.SuperblockSize > s.size {
		return nil
	}
	sb, err := ext.ReadSuperblock(s.d, off)
	if err != nil {
		return s.checkJournalDev(off)
	}
	sb.PlaceOldBackup(s.d, s.size) // old mke2fs wrote group 0 into every backup
	start := sb.FSOffset()
	if start < 0 {
		return nil // a backup copy that would put its filesystem before the device
	}
	e := &Ext{UUID: sb.UUIDString(), Label: sb.VolumeName, Group: int(sb.BlockGroupNr), BlockSize: sb.BlockSize(),
		Blocks: sb.BlocksCount, FSSize: sb.Size(), PastEnd: start+sb.Size() > s.size}
	if sb.ChecksumPresent {
		ok := sb.ChecksumOK
		e.ChecksumOK = &ok
	}
	s.add(&Signature{Kind: "ext", Offset: off, Start: &start, Ext: e})
	return nil
}

// checkJournalDev recognises the superblock of an external journal device,
// which has no inodes and so is not a filesystem package ext will open.
func (s *scanner) checkJournalDev(off int64) error {
	sb, err := ext.ReadJournalDevice(s.d, off)
	if _, gap := blockdev.AsUnreadable(err); gap {
		return nil // not in the evidence: nothing found, nothing ruled out
	}
	if err != nil || sb == nil || off < ext.PrimaryOffset {
		return err
	}
	start := off - ext.PrimaryOffset
	e := &Ext{UUID: sb.UUIDString(), Label: sb.VolumeName, BlockSize: sb.BlockSize(), Blocks: sb.BlocksCount,
		FSSize: sb.Size(), JournalDev: true}
	e.PastEnd = start+e.FSSize > s.size
	s.add(&Signature{Kind: "ext", Offset: off, Start: &start, Ext: e})
	return nil
}

// markExtCopies finds superblocks that lie inside a filesystem with the same
// UUID found at a lower offset, away from its primary and backup positions.
func (s *scanner) markExtCopies() {
	for _, sig := range s.report.Signatures {
		if sig.Ext == nil || sig.Ext.Copy || sig.Start == nil {
			continue
		}
		for _, fs := range s.report.Signatures {
			if fs == sig || fs.Ext == nil || fs.Ext.Copy || fs.Start == nil || fs.Ext.UUID != sig.Ext.UUID {
				continue
			}
			inside := *fs.Start < *sig.Start && sig.Offset < *fs.Start+fs.Ext.FSSize
			if inside && !s.isBackupOf(fs, sig.Offset) {
				sig.Ext.Copy, sig.Ext.PastEnd, sig.Start = true, false, nil
				break
			}
		}
	}
}

// isBackupOf says whether off is a superblock position of the filesystem fs.
func (s *scanner) isBackupOf(fs *Signature, off int64) bool {
	sb, err := ext.ReadSuperblock(s.d, *fs.Start+ext.PrimaryOffset)
	if err != nil {
		return false
	}
	for _, b := range sb.BackupOffsets() {
		if *fs.Start+b == off {
			return true
		}
	}
	return false
}
