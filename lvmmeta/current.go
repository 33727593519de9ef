package lvmmeta

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotPV is returned (wrapped) by ReadCurrent when a device has neither a
// PV label nor a metadata area at lvm2's default place.
var ErrNotPV = errors.New("not an LVM PV")

// ReadCurrent reads the committed metadata of the PV on r (size bytes): the
// text the header of its first metadata area points at, the one lvm itself
// reads. A PV whose label was wiped is read at lvm2's default metadata area.
// Only that text is read, not the whole circular buffer (Scan reads the
// history). When the text does not parse, the Metadata is returned with
// Complete false and Error set, the VG is nil and err says why.
func ReadCurrent(r io.ReaderAt, size int64) (*Metadata, *VG, error) {
	area := Area{Offset: defaultMDAOffset}
	l, lerr := ReadLabel(r, size)
	if lerr == nil {
		if len(l.MetadataAreas) == 0 {
			return nil, nil, fmt.Errorf("lvm label in sector %d: the PV has no metadata area", l.Sector)
		}
		area = l.MetadataAreas[0]
	} else if size <= defaultMDAOffset {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotPV, lerr)
	}
	h, err := ReadMDAHeader(r, area)
	switch {
	case err != nil && lerr != nil:
		return nil, nil, fmt.Errorf("%w: %v", ErrNotPV, lerr)
	case err != nil:
		return nil, nil, err
	case len(h.Slots) == 0 || h.Slots[0].Size <= 0:
		return nil, nil, fmt.Errorf("lvm metadata area at %d holds no committed text", area.Offset)
	}
	text, wrapped, err := readSlot(r, size, area, h)
	if err != nil {
		return nil, nil, err
	}
	slot := h.Slots[0]
	m := &Metadata{Offset: area.Offset + slot.Offset, Size: int64(len(text)) + 1, Current: true, Wrapped: wrapped, Text: text}
	m.Checksum = fmt.Sprintf("%08x", checksum(checksum(initialCRC, text), []byte{0}))
	ok := m.Size == slot.Size && m.Checksum == fmt.Sprintf("%08x", slot.Checksum)
	m.ChecksumOK = &ok
	vg, err := ParseText(text)
	if err != nil {
		m.Error = err.Error()
		return m, nil, fmt.Errorf("current metadata at %d: %w", m.Offset, err)
	}
	m.Complete = true
	m.VG, m.VGUUID, m.Seqno = vg.Name, vg.ID, vg.Seqno
	return m, vg, nil
}

// readSlot reads the committed text of metadata area a, up to its NUL; a
// text that runs past the end of the circular buffer continues at its start.
func readSlot(r io.ReaderAt, devSize int64, a Area, h *MDAHeader) (text []byte, wrapped bool, err error) {
	slot := h.Slots[0]
	areaSize := min(h.Size, devSize-a.Offset)
	ring := areaSize - mdaHeaderSize
	if slot.Offset < mdaHeaderSize || slot.Offset >= areaSize || slot.Size > ring {
		return nil, false, fmt.Errorf("lvm mda header at %d: committed text at %d+%d lies outside the %d-byte area", a.Offset, slot.Offset, slot.Size, areaSize)
	}
	text = make([]byte, slot.Size)
	first := min(slot.Size, areaSize-slot.Offset)
	if _, err := r.ReadAt(text[:first], a.Offset+slot.Offset); err != nil && err != io.EOF {
		return nil, false, fmt.Errorf("lvm metadata text at %d: %w", a.Offset+slot.Offset, err)
	}
	if first < slot.Size {
		wrapped = true
		if _, err := r.ReadAt(text[first:], a.Offset+mdaHeaderSize); err != nil && err != io.EOF {
			return nil, false, fmt.Errorf("lvm metadata text at %d: %w", a.Offset+mdaHeaderSize, err)
		}
	}
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	return text, wrapped, nil
}

// ReadVG reads a volume group from r: the committed metadata when r is a PV
// (labelled, or with its label wiped but its metadata area in place), else
// r's bytes as a metadata text file (lvm carve --out, /etc/lvm/backup).
func ReadVG(r io.ReaderAt, size int64) (*VG, error) {
	_, vg, err := ReadCurrent(r, size)
	if !errors.Is(err, ErrNotPV) {
		return vg, err
	}
	text, err := ReadText(r, size)
	if err != nil {
		return nil, fmt.Errorf("no PV label, and %w", err)
	}
	return ParseText(text)
}

// MaxTextFile bounds a metadata text read whole; real ones are kilobytes.
const MaxTextFile = 16 << 20

// ReadText reads a whole metadata text file, refusing anything too large
// to be one.
func ReadText(r io.ReaderAt, size int64) ([]byte, error) {
	if size > MaxTextFile {
		return nil, fmt.Errorf("%d bytes is too large for a metadata file", size)
	}
	text := make([]byte, size)
	if _, err := r.ReadAt(text, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return text, nil
}

// ReadVGFile reads and parses the metadata text file at path.
func ReadVGFile(path string) (*VG, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	text, err := ReadText(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	vg, err := ParseText(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vg, nil
}
