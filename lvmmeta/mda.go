package lvmmeta

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

const (
	mdaHeaderSize = 512
	mdaMagic      = " LVM2 x[5A%r0N*>"
	// maxMDASize bounds how much of a metadata area is read into memory;
	// lvm2's default area is 1 MiB, large ones are a few MiB.
	maxMDASize = 256 << 20
	// rawLocnSize: offset, size (uint64), checksum, flags (uint32).
	rawLocnSize = 24
)

// ProbeMDAHeader says whether sector starts with a metadata area header's
// magic (the checksum before it is not checked: a solver looking for where
// the area lies counts a header that was partly overwritten too).
func ProbeMDAHeader(sector []byte) bool {
	return len(sector) >= 20 && string(sector[4:20]) == mdaMagic
}

// MDAHeader is the header of a metadata area.
type MDAHeader struct {
	Offset     int64         `json:"offset"` // where the header is on the device
	ChecksumOK bool          `json:"checksum_ok"`
	Version    uint32        `json:"version"`
	Start      int64         `json:"start"` // as stored; equals Offset on a sound PV
	Size       int64         `json:"size"`
	Slots      []RawLocation `json:"raw_locations"`
}

// RawLocation is a raw_locn slot: where the committed (slot 0) or
// precommitted (slot 1) text lies, relative to the area's start.
type RawLocation struct {
	Offset   int64  `json:"offset"`
	Size     int64  `json:"size"`
	Checksum uint32 `json:"checksum"`
	Flags    uint32 `json:"flags"`
}

// Metadata is one metadata text found in a metadata area's circular
// buffer: the current one or an older version not yet overwritten.
type Metadata struct {
	VG     string `json:"vg"`
	VGUUID string `json:"vg_uuid"`
	Seqno  int64  `json:"seqno"`
	Offset int64  `json:"offset"` // bytes from the start of the device
	Size   int64  `json:"size"`   // text plus its terminating NUL, as lvm counts
	// Checksum is LVM's CRC of the text; ChecksumOK compares it with the
	// header's slot, so it is known only for the current text (null otherwise).
	Checksum   string `json:"checksum"`
	ChecksumOK *bool  `json:"checksum_ok"`
	Current    bool   `json:"current"`
	Wrapped    bool   `json:"wrapped"`  // the text continues at the buffer's start
	Complete   bool   `json:"complete"` // the text parses as a whole VG
	Error      string `json:"error,omitempty"`
	Text       []byte `json:"-"`
}

// ReadMDAHeader reads and checks the header of metadata area a.
func ReadMDAHeader(r io.ReaderAt, a Area) (*MDAHeader, error) {
	buf := make([]byte, mdaHeaderSize)
	if _, err := r.ReadAt(buf, a.Offset); err != nil {
		return nil, fmt.Errorf("lvm mda header at %d: %w", a.Offset, err)
	}
	le := binary.LittleEndian
	h := &MDAHeader{
		Offset:     a.Offset,
		ChecksumOK: le.Uint32(buf) == checksum(initialCRC, buf[4:]),
		Version:    le.Uint32(buf[20:]),
		Start:      int64(le.Uint64(buf[24:])),
		Size:       int64(le.Uint64(buf[32:])),
	}
	if string(buf[4:20]) != mdaMagic {
		return nil, fmt.Errorf("lvm mda header at %d: bad magic %q", a.Offset, buf[4:20])
	}
	if !h.ChecksumOK {
		return nil, fmt.Errorf("lvm mda header at %d: bad checksum", a.Offset)
	}
	if h.Version != 1 {
		return nil, fmt.Errorf("lvm mda header at %d: unknown version %d", a.Offset, h.Version)
	}
	if h.Size <= mdaHeaderSize || h.Size > maxMDASize {
		return nil, fmt.Errorf("lvm mda header at %d: area size %d is not between %d and %d", a.Offset, h.Size, mdaHeaderSize, maxMDASize)
	}
	for p := buf[40:]; len(p) >= rawLocnSize; p = p[rawLocnSize:] {
		s := RawLocation{Offset: int64(le.Uint64(p)), Size: int64(le.Uint64(p[8:])), Checksum: le.Uint32(p[16:]), Flags: le.Uint32(p[20:])}
		if s.Offset == 0 {
			break
		}
		if s.Offset < mdaHeaderSize || s.Offset >= h.Size || s.Size > h.Size-mdaHeaderSize {
			return nil, fmt.Errorf("lvm mda header at %d: slot %d says text at %d+%d, outside the %d-byte area", a.Offset, len(h.Slots), s.Offset, s.Size, h.Size)
		}
		h.Slots = append(h.Slots, s)
	}
	return h, nil
}

// ReadHistory reads metadata area a of a device of devSize bytes: its
// header and every text in its circular buffer, in buffer order. The area
// size is the header's, as lvm uses it (after a new pvcreate it may differ
// from the label's), bounded by the device.
func ReadHistory(r io.ReaderAt, devSize int64, a Area) (*MDAHeader, []Metadata, error) {
	h, err := ReadMDAHeader(r, a)
	if err != nil {
		return nil, nil, err
	}
	size := min(h.Size, devSize-a.Offset)
	if size <= mdaHeaderSize {
		return nil, nil, fmt.Errorf("lvm metadata area at %d: the %d-byte device ends inside it", a.Offset, devSize)
	}
	ring := make([]byte, size-mdaHeaderSize)
	if n, err := r.ReadAt(ring, a.Offset+mdaHeaderSize); err != nil && !(err == io.EOF && n == len(ring)) {
		return nil, nil, fmt.Errorf("lvm metadata area at %d: %w", a.Offset, err)
	}
	// Look for heads in the ring followed by its first bytes, so a head
	// split by the wrap is found too.
	search := append(ring[:len(ring):len(ring)], ring[:min(len(ring), 4096)]...)
	var found []Metadata
	current := -1
	heads := findHeads(search)
	// A text ends at the next head at the latest (a newer text written
	// over it), so each byte of the ring belongs to one text: reading is
	// linear however many heads the ring holds.
	ends := make([]int, len(heads))
	for i := range heads {
		ends[i] = len(ring)
		if i+1 < len(heads) {
			ends[i] = min(heads[i+1].start, len(ring))
		}
	}
	wrapEnd := len(ring)
	if len(heads) > 0 {
		wrapEnd = heads[0].start
	}
	for i, hd := range heads {
		if hd.start+len(hd.vg) >= len(ring) {
			break // seen already, at the ring's start
		}
		m := readRingText(ring, hd.start, ends[i], wrapEnd, a.Offset)
		m.VG, m.VGUUID, m.Seqno = hd.vg, hd.id, hd.seqno
		if len(h.Slots) > 0 && int64(hd.start)+mdaHeaderSize == h.Slots[0].Offset {
			current = len(found)
		}
		found = append(found, m)
	}
	if len(h.Slots) > 0 {
		if current < 0 {
			// The header names a text whose head is unrecognisable: report it.
			start := h.Slots[0].Offset - mdaHeaderSize
			if start >= int64(len(ring)) {
				return nil, nil, fmt.Errorf("lvm mda header at %d: committed text at %d lies past the end of the device", a.Offset, a.Offset+h.Slots[0].Offset)
			}
			m := readRingText(ring, int(start), len(ring), len(ring), a.Offset)
			current = len(found)
			found = append(found, m)
		}
		cur := &found[current]
		cur.Current = true
		ok := cur.Size == h.Slots[0].Size && cur.Checksum == fmt.Sprintf("%08x", h.Slots[0].Checksum)
		cur.ChecksumOK = &ok
	}
	return h, found, nil
}

// readRingText takes the text starting at ring[start] up to its NUL or
// end; a text that reaches the ring's end without a NUL wraps once to the
// ring's start, up to wrapEnd at most. It parses the text.
func readRingText(ring []byte, start, end, wrapEnd int, areaOffset int64) Metadata {
	m := Metadata{Offset: areaOffset + mdaHeaderSize + int64(start)}
	text := ring[start:end]
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	} else if end == len(ring) {
		m.Wrapped = true
		rest := ring[:min(start, wrapEnd)]
		if i := bytes.IndexByte(rest, 0); i >= 0 {
			rest = rest[:i]
		}
		text = append(text[:len(text):len(text)], rest...)
	}
	m.Text = text
	m.Size = int64(len(text)) + 1
	m.Checksum = fmt.Sprintf("%08x", checksum(checksum(initialCRC, text), []byte{0}))
	vg, err := ParseText(text)
	if err != nil {
		m.Error = err.Error()
		return m
	}
	m.Complete = true
	m.VG, m.VGUUID, m.Seqno = vg.Name, vg.ID, vg.Seqno
	return m
}

// PVScan is what a device holds as an LVM PV.
type PVScan struct {
	Device string `json:"device"`
	Label  *Label `json:"label"` // null when the label is gone but a metadata area was found
	// LabelError says why Label is null.
	LabelError string      `json:"label_error,omitempty"`
	Headers    []MDAHeader `json:"mda_headers"`
	Metadata   []Metadata  `json:"metadata"`
}

// defaultMDAOffset is where pvcreate puts the first metadata area; probed
// when the label has been wiped, as installers and wipefs do.
const defaultMDAOffset = 4096

// Scan reads the label of a PV and the history in each of its metadata
// areas. Without a label, a metadata area at lvm2's default place is still
// read; with neither, Scan fails.
func Scan(r io.ReaderAt, size int64, name string) (*PVScan, error) {
	s := &PVScan{Device: name, Headers: []MDAHeader{}, Metadata: []Metadata{}}
	l, err := ReadLabel(r, size)
	areas := []Area{{Offset: defaultMDAOffset}}
	if err == nil {
		s.Label, areas = l, l.MetadataAreas
	} else if _, merr := ReadMDAHeader(r, areas[0]); merr != nil || size <= defaultMDAOffset {
		return nil, fmt.Errorf("%s: %w", name, err)
	} else {
		s.LabelError = err.Error()
	}
	for _, a := range areas {
		h, texts, err := ReadHistory(r, size, a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		s.Headers = append(s.Headers, *h)
		s.Metadata = append(s.Metadata, texts...)
	}
	return s, nil
}
