// Package lvmmeta reads LVM2 metadata as it lies on disk and in files: the
// PV label, the metadata area with its circular history of texts, the text
// format itself, and maps logical volumes over their PVs as devices. It also
// carves metadata texts out of raw bytes (damaged PVs, filesystem images
// holding /etc/lvm/backup) and derives restore plans. It never writes.
package lvmmeta

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

const (
	sectorSize = 512
	// labelScanSectors: the label may sit in any of the first four sectors.
	labelScanSectors = 4
	labelHeaderSize  = 32
	uuidLen          = 32
	// initialCRC seeds LVM's CRC-32 (the IEEE polynomial without the final
	// inversion) for labels, mda headers and metadata texts alike.
	initialCRC = 0xf597a6cf
)

var (
	labelID   = []byte("LABELONE")
	labelType = []byte("LVM2 001")
)

// checksum computes LVM's CRC of p continuing from crc (start with initialCRC).
// LVM's CRC is the IEEE CRC-32 without the pre- and post-inversion that
// hash/crc32 applies, hence the two complements.
func checksum(crc uint32, p []byte) uint32 {
	return ^crc32.Update(^crc, crc32.IEEETable, p)
}

// Area is a byte range on a PV: a data area or a metadata area.
type Area struct {
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
}

// Label is the PV label (label_header and pv_header).
type Label struct {
	Sector        int64  `json:"sector"`  // sector (0-3) holding the label
	PVUUID        string `json:"pv_uuid"` // LVM's dashed form, as in metadata text
	DeviceSize    int64  `json:"device_size"`
	DataAreas     []Area `json:"data_areas"`
	MetadataAreas []Area `json:"metadata_areas"`
}

// ReadLabel finds and decodes the PV label in the first four sectors of r
// (size bytes long). A sector that says LABELONE but fails its checks is an
// error, as is finding no label at all.
func ReadLabel(r io.ReaderAt, size int64) (*Label, error) {
	buf := make([]byte, labelScanSectors*sectorSize)
	n, err := r.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("lvm label: reading sectors 0-3: %w", err)
	}
	buf = buf[:n]
	for s := 0; (s+1)*sectorSize <= len(buf); s++ {
		sec := buf[s*sectorSize : (s+1)*sectorSize]
		if !bytes.Equal(sec[:8], labelID) {
			continue // not ProbeLabel: a LABELONE of another type is an error here, not an absence
		}
		l, err := decodeLabel(sec, int64(s), size)
		if err != nil {
			return nil, fmt.Errorf("lvm label at sector %d (offset %d): %w", s, s*sectorSize, err)
		}
		return l, nil
	}
	return nil, fmt.Errorf("lvm label: no LABELONE in sectors 0-3")
}

// ProbeLabel says whether sector holds an LVM2 PV label: the label id
// LABELONE and the type "LVM2 001" (as lvm2's text labeller checks), and
// which of its PV's sectors the label claims to be in (0-3 when it is
// sane). A hit is a candidate for ReadLabel.
func ProbeLabel(sector []byte) (claimed uint64, ok bool) {
	if len(sector) < labelHeaderSize || !bytes.Equal(sector[:8], labelID) || !bytes.Equal(sector[24:32], labelType) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(sector[8:]), true
}

func decodeLabel(sec []byte, sector, devSize int64) (*Label, error) {
	le := binary.LittleEndian
	if got := int64(le.Uint64(sec[8:])); got != sector {
		return nil, fmt.Errorf("label says it is in sector %d", got)
	}
	if want, got := le.Uint32(sec[16:]), checksum(initialCRC, sec[20:]); want != got {
		return nil, fmt.Errorf("bad checksum (stored %#08x, computed %#08x)", want, got)
	}
	if !bytes.Equal(sec[24:32], labelType) {
		return nil, fmt.Errorf("unknown label type %q", sec[24:32])
	}
	off := int(le.Uint32(sec[20:]))
	// pv_header: UUID, device size, then at least the two list terminators.
	if off < labelHeaderSize || off+uuidLen+8+2*16 > len(sec) {
		return nil, fmt.Errorf("pv_header offset %d does not fit in the sector", off)
	}
	pvh := sec[off:]
	uuid, err := dashedUUID(pvh[:uuidLen])
	if err != nil {
		return nil, fmt.Errorf("pv_header: %w", err)
	}
	l := &Label{Sector: sector, PVUUID: uuid, DeviceSize: int64(le.Uint64(pvh[uuidLen:]))}
	rest := pvh[uuidLen+8:]
	if l.DataAreas, rest, err = readAreaList(rest, devSize); err != nil {
		return nil, fmt.Errorf("pv_header data areas: %w", err)
	}
	if l.MetadataAreas, _, err = readAreaList(rest, devSize); err != nil {
		return nil, fmt.Errorf("pv_header metadata areas: %w", err)
	}
	return l, nil
}

// readAreaList reads disk_locn entries up to the all-zero terminator. Areas
// must start inside the device; a size of 0 (a data area running to the end
// of the device) is allowed, a size beyond the device is not.
func readAreaList(b []byte, devSize int64) ([]Area, []byte, error) {
	areas := []Area{}
	for {
		if len(b) < 16 {
			return nil, nil, fmt.Errorf("list runs past the end of the label sector")
		}
		a := Area{Offset: int64(binary.LittleEndian.Uint64(b)), Size: int64(binary.LittleEndian.Uint64(b[8:]))}
		b = b[16:]
		if a.Offset == 0 {
			return areas, b, nil
		}
		if a.Offset < 0 || a.Size < 0 || a.Offset > devSize || a.Size > devSize-a.Offset {
			return nil, nil, fmt.Errorf("area %d+%d lies outside the device (size %d)", a.Offset, a.Size, devSize)
		}
		areas = append(areas, a)
	}
}

// dashedUUID formats a 32-character LVM id as LVM prints it: 6-4-4-4-4-4-6.
func dashedUUID(raw []byte) (string, error) {
	for i, c := range raw {
		if !isIDChar(c) {
			return "", fmt.Errorf("id byte %d is %#02x, not a letter, digit, '!' or '#'", i, c)
		}
	}
	var b []byte
	for i, n := range []int{6, 4, 4, 4, 4, 4, 6} {
		if i > 0 {
			b = append(b, '-')
		}
		b = append(b, raw[:n]...)
		raw = raw[n:]
	}
	return string(b), nil
}

// isIDChar: LVM ids use letters, digits and (rarely, historically) '!' and '#'.
func isIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '!' || c == '#'
}
