package compare

import (
	"fmt"

	"holmes/blockdev"
	"holmes/mdraid"
)

// MD is the Locator for md members: the data area described by the md
// superblock on d. A superblock with a bad checksum is not trusted. When a
// device carries several good ones, mdraid.Freshest says which describes
// the data.
func MD(d blockdev.Device) (DataArea, bool, error) {
	sbs, err := mdraid.Examine(d, d.Size())
	if _, gap := blockdev.AsUnreadable(err); err != nil && !gap {
		return DataArea{}, false, fmt.Errorf("compare: md superblocks of %s: %w", d.Name(), err)
	}
	// A superblock place the evidence lacks (a ddrescue gap) holds none
	// that can be trusted: the superblocks read before it still count, and
	// the comparison lists the gap as unreadable.
	best := mdraid.Freshest(sbs)
	if best == nil || !best.ChecksumOK {
		return DataArea{}, false, nil
	}
	return DataArea{Offset: best.DataOffset, Size: best.DataSize, Metadata: best.Version, SuperOffset: best.Offset}, true, nil
}
