package scan

import (
	"encoding/binary"
	"fmt"
)

// DRBD metadata (internal meta-data, DRBD 8.x and 9): a big-endian block
// 4 KiB before the end of the backing device. The magic sits at the same
// place in both versions (see drbdmeta.c and blkid's drbd probe).
const (
	drbdOffset         = 4096
	drbdMagicAt        = 60
	drbdMagic08        = 0x8374026b
	drbdMagic84Unclean = 0x8374026c
	drbdMagic09        = 0x8374026d
	drbdLaSizeAt       = 0 // last agreed size of the replicated device, sectors
	drbdCurrentUUIDAt  = 8
	drbdDeviceUUID08   = 40
	drbdDeviceUUID09   = 48
	drbdFlagsAt        = 56
	drbdMDSizeAt       = 64
	drbdBitmapBPBAt    = 80
)

// DRBD summarises a DRBD metadata block.
type DRBD struct {
	Version     string `json:"version"` // "v08" or "v09", as blkid names them
	Clean       bool   `json:"clean"`   // false for 8.4's unclean magic
	DeviceUUID  string `json:"device_uuid"`
	CurrentUUID string `json:"current_uuid"`
	// DeviceEnd is where the backing device (partition, LV) ended: the
	// metadata block is its last 4 KiB.
	DeviceEnd int64  `json:"device_end"`
	DataSize  int64  `json:"data_size"` // last agreed size of the replicated data
	MDSize    int64  `json:"md_size"`   // bytes of metadata (internal: before this block's end)
	Flags     uint32 `json:"flags"`
}

func isDRBDMagic(m uint32) bool {
	return m == drbdMagic08 || m == drbdMagic84Unclean || m == drbdMagic09
}

// addDRBD records the metadata block in b (read at off). The backing device
// it belongs to ends 4 KiB after the block.
func (s *scanner) addDRBD(b []byte, off int64) {
	if s.seen[key("drbd", off)] {
		return
	}
	be := binary.BigEndian
	magic := be.Uint32(b[drbdMagicAt:])
	d := &DRBD{Version: "v08", Clean: magic != drbdMagic84Unclean, Flags: be.Uint32(b[drbdFlagsAt:]),
		MDSize: int64(be.Uint32(b[drbdMDSizeAt:])) * sector}
	uuidAt := drbdDeviceUUID08
	if magic == drbdMagic09 {
		d.Version, uuidAt = "v09", drbdDeviceUUID09
	}
	d.DeviceUUID = fmt.Sprintf("%x", be.Uint64(b[uuidAt:]))
	d.CurrentUUID = fmt.Sprintf("%x", be.Uint64(b[drbdCurrentUUIDAt:]))
	d.DeviceEnd = off + drbdOffset
	if la := be.Uint64(b[drbdLaSizeAt:]); la < 1<<54 {
		d.DataSize = int64(la) * sector
	}
	sig := &Signature{Kind: "drbd", Offset: off, DRBD: d}
	if bpb := be.Uint32(b[drbdBitmapBPBAt:]); bpb != 4096 {
		sig.Error = fmt.Sprintf("bitmap granularity %d, DRBD always uses 4096", bpb)
	}
	s.add(sig)
}
