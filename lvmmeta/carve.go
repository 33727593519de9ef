package lvmmeta

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"

	"holmes/blockdev"
)

const (
	carveChunk = 4 << 20
	// headBack/headFwd: how far a text head reaches either side of its
	// "seqno = ": the VG name (up to 128 bytes) and id line before it,
	// the number after it.
	headBack = 256
	headFwd  = 32
	// maxCarveText bounds one carved text. Real texts are kilobytes; a
	// VG with thousands of LVs reaches a few MiB.
	maxCarveText = 16 << 20
	firstRead    = 64 << 10
)

// Location is where a text was found: a device and a byte offset.
type Location struct {
	Device string `json:"device"`
	Offset int64  `json:"offset"`
}

// Carved is one metadata version (VG uuid and seqno) found in raw bytes,
// wherever and however often it was found.
type Carved struct {
	VG       string     `json:"vg"`
	VGUUID   string     `json:"vg_uuid"`
	Seqno    int64      `json:"seqno"`
	FoundAt  []Location `json:"found_at"`
	PVUUIDs  []string   `json:"pv_uuids"`
	LVs      []string   `json:"lvs"`
	Complete bool       `json:"complete"` // the VG section closes and parses
	Error    string     `json:"error,omitempty"`
	// Description and CreationTime come from the text's own header, when
	// it was found with it ("Created *before* executing 'lvremove ...'").
	Description  string `json:"description,omitempty"`
	CreationTime int64  `json:"creation_time,omitempty"`
	File         string `json:"file"` // set when written (carve --out)
	// Section is the VG section's text exactly as found.
	Section []byte `json:"-"`
}

// Carver finds metadata texts in raw bytes of any number of devices and
// deduplicates them by VG uuid and seqno.
type Carver struct {
	found map[carveKey]*Carved
	// Dropped counts the texts of further versions met once maxCarved
	// versions or maxCarvedBytes were held.
	Dropped int
	held    int // bytes of the sections kept
}

// maxCarved caps the distinct metadata versions one carver holds, and
// maxCarvedBytes the bytes of their texts: lvm keeps a few hundred
// versions of a few KiB in its archive, and a crafted device full of heads
// must not hold memory without bound.
const (
	maxCarved      = 1 << 14
	maxCarvedBytes = 64 << 20
)

type carveKey struct {
	uuid  string
	seqno int64
}

// NewCarver returns an empty carver.
func NewCarver() *Carver { return &Carver{found: map[carveKey]*Carved{}} }

// Scan reads r (size bytes, reported as name) from start to end in large
// chunks, looking for text heads; memory stays at one chunk plus the texts.
// When r is a PV, the texts its metadata areas hold are taken first: that
// way a text wrapping round the end of its circular buffer is whole.
func (c *Carver) Scan(r io.ReaderAt, size int64, name string) error {
	if pv, err := Scan(r, size, name); err == nil {
		for _, m := range pv.Metadata {
			if end, ok := sectionEnd(m.Text); ok && m.Wrapped {
				c.add(name, m.Offset, textHead{vg: m.VG, id: m.VGUUID, seqno: m.Seqno}, m.Text[:end], true, headerAfter(m.Text[end:]))
			}
		}
	}
	// A head is taken once the next is found: its text cannot run past
	// the next head (a newer text written over it), so every byte is read
	// for one text at most and the work stays linear.
	var pending *textHead
	var pendingOff int64
	takePending := func(limit int64) error {
		if pending == nil {
			return nil
		}
		h := *pending
		pending = nil
		return c.take(r, limit, name, pendingOff, h)
	}
	buf := make([]byte, headBack+min(carveChunk, size)+headFwd)
	// buf[0:headBack] repeats the end of the previous chunk, so heads
	// straddling chunk boundaries are seen whole.
	for pos := int64(0); pos < size; pos += carveChunk {
		base := pos - headBack // device offset of buf[0]
		lo := 0
		if base < 0 {
			lo = headBack
		} else {
			copy(buf, buf[carveChunk:carveChunk+headBack])
		}
		want := min(int64(carveChunk+headFwd), size-pos)
		n, err := readAround(r, buf[headBack:headBack+int(want)], pos)
		if err != nil && !(err == io.EOF && int64(n) == want) {
			return fmt.Errorf("%s: reading at %d: %w", name, pos, err)
		}
		b := buf[lo : headBack+n]
		for off := 0; ; {
			i := bytes.Index(b[off:], seqnoKey)
			if i < 0 {
				break
			}
			at := off + i
			off = at + len(seqnoKey)
			// Only keys inside this chunk: the overlaps belong to neighbours.
			if abs := base + int64(lo+at); abs < pos || abs >= pos+carveChunk {
				continue
			}
			if h, ok := headAround(b, at); ok {
				off := base + int64(lo+h.start)
				if err := takePending(off); err != nil {
					return err
				}
				pending, pendingOff = &h, off
			}
		}
	}
	return takePending(size)
}

// take reads the text whose head starts at off, ending before limit at
// the latest, and records it.
func (c *Carver) take(r io.ReaderAt, limit int64, name string, off int64, h textHead) error {
	if len(c.found) >= maxCarved && c.found[carveKey{h.id, h.seqno}] == nil {
		c.Dropped++
		return nil
	}
	section, closed, rest, err := readSection(r, limit, off)
	if err != nil {
		return fmt.Errorf("%s: text at %d: %w", name, off, err)
	}
	hdr := headerAfter(rest)
	if hdr == (fileHeader{}) {
		hdr = headerBefore(r, off)
	}
	c.add(name, off, h, section, closed, hdr)
	return nil
}

// add records a VG section found at off, keeping the first complete text
// of each VG uuid and seqno and every place it was found.
func (c *Carver) add(name string, off int64, h textHead, section []byte, closed bool, hdr fileHeader) {
	k := carveKey{h.id, h.seqno}
	cv := c.found[k]
	if cv == nil {
		cv = &Carved{VG: h.vg, VGUUID: h.id, Seqno: h.seqno, PVUUIDs: []string{}, LVs: []string{}}
		c.found[k] = cv
	}
	// A wrapped text is met twice: whole from its metadata area, cut
	// short in the raw bytes.
	if loc := (Location{Device: name, Offset: off}); !slices.Contains(cv.FoundAt, loc) {
		cv.FoundAt = append(cv.FoundAt, loc)
	}
	if cv.Complete {
		return
	}
	if !closed {
		if cv.Error == "" {
			cv.Error = fmt.Sprintf("the VG section does not close within %d bytes (cut short by a NUL, a newer text, the end of the device or the %d-byte bound)", len(section), maxCarveText)
		}
		return
	}
	if c.held+len(section) > maxCarvedBytes {
		c.Dropped++
		return
	}
	vg, err := ParseText(restoreText(section, Location{name, off}, hdr))
	if err != nil {
		if cv.Error == "" {
			cv.Error = err.Error() // the section is kept only when it is whole
		}
		return
	}
	cv.Section, cv.Error, cv.Complete = section, "", true
	c.held += len(section)
	cv.Description, cv.CreationTime = hdr.Description, hdr.CreationTime
	for _, pv := range vg.PVs {
		cv.PVUUIDs = append(cv.PVUUIDs, pv.ID)
	}
	for _, lv := range vg.LVs {
		cv.LVs = append(cv.LVs, lv.Name)
	}
}

// readAround reads p at off of r; where r is a device, past the bytes
// it lacks (blockdev.ReadAround: a ddrescue gap, a region a collect
// archive did not keep), which hold no text.
func readAround(r io.ReaderAt, p []byte, off int64) (int, error) {
	d, ok := r.(blockdev.Device)
	if !ok {
		return r.ReadAt(p, off)
	}
	if _, err := blockdev.ReadAround(d, p, off); err != nil {
		return 0, err
	}
	return len(p), nil
}

// readSection reads from off to the brace closing the VG section, reading
// more as needed up to maxCarveText, and returns the section and up to
// headerWindow bytes after it. A text cut short (by a NUL, the end of the
// device or the bound) is returned as far as it goes.
func readSection(r io.ReaderAt, size, off int64) (section []byte, closed bool, rest []byte, err error) {
	for want := int64(firstRead); ; want *= 2 {
		want = min(want, maxCarveText, size-off)
		buf := make([]byte, want)
		n, err := r.ReadAt(buf, off)
		_, gap := blockdev.AsUnreadable(err)
		if gap { // the text runs into bytes the evidence lacks: cut short there
			buf = buf[:n]
		} else if err != nil && !(err == io.EOF && int64(n) == want) {
			return nil, false, nil, err
		}
		if end, done := sectionEnd(buf); done || gap || want == maxCarveText || want == size-off {
			return buf[:end], done, buf[end:min(len(buf), end+headerWindow)], nil
		}
	}
}

// headerWindow bounds how far from its VG section a text's header is looked for.
const headerWindow = 4096

// fileHeader is what a text's header says about it. lvm writes the header
// before the VG section in backup files and after it in metadata areas.
type fileHeader struct {
	Description  string
	CreationTime int64
}

var contentsLine = []byte(`contents = "Text Format Volume Group"`)

// headerAfter reads the fields that follow a VG section in a metadata
// area, up to the text's NUL; they must start right after the section
// (after the "# Generated by LVM2" comment).
func headerAfter(b []byte) fileHeader {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	head := bytes.TrimLeft(b, " \t\r\n")
	for bytes.HasPrefix(head, []byte("#")) {
		_, head, _ = bytes.Cut(head, []byte("\n"))
		head = bytes.TrimLeft(head, " \t\r\n")
	}
	if !bytes.HasPrefix(head, contentsLine) {
		return fileHeader{}
	}
	return parseHeader(b)
}

// headerBefore reads a backup file's header, which must run from its
// contents line to the VG section at off with nothing else between.
func headerBefore(r io.ReaderAt, off int64) fileHeader {
	lo := max(0, off-headerWindow)
	b := make([]byte, off-lo)
	if n, _ := r.ReadAt(b, lo); n != len(b) {
		return fileHeader{}
	}
	if i := bytes.LastIndexByte(b, 0); i >= 0 {
		b = b[i+1:]
	}
	i := bytes.LastIndex(b, contentsLine)
	if i < 0 {
		return fileHeader{}
	}
	return parseHeader(b[i:])
}

// parseHeader takes description and creation_time from header fields,
// provided the bytes are header fields only.
func parseHeader(b []byte) fileHeader {
	root, err := Parse(b)
	if err != nil || len(root.Sections) > 0 {
		return fileHeader{}
	}
	var h fileHeader
	if f := root.Field("description"); f != nil && f.Value.Kind == KindString {
		h.Description = f.Value.Str
	}
	if f := root.Field("creation_time"); f != nil && f.Value.Kind == KindInt {
		h.CreationTime = f.Value.Int
	}
	return h
}

// sectionEnd finds the end of the section opening in b: the index after
// its closing brace, with done; or, cut short, where the text stops.
func sectionEnd(b []byte) (int, bool) {
	depth := 0
	var quote byte // the open string's quote, or 0
	inComment := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == 0:
			return i, false
		case inComment:
			inComment = c != '\n'
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			inComment = true
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return len(b), false
}

// Results returns what was found, ranked: complete texts first, then by
// seqno, highest first (the newest metadata of each VG leads), then by VG.
func (c *Carver) Results() []*Carved {
	out := make([]*Carved, 0, len(c.found))
	for _, cv := range c.found {
		out = append(out, cv)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Complete != b.Complete {
			return a.Complete
		}
		if a.Seqno != b.Seqno {
			return a.Seqno > b.Seqno
		}
		if a.VG != b.VG {
			return a.VG < b.VG
		}
		return a.VGUUID < b.VGUUID
	})
	return out
}

// RestoreFile is the carved text as a file vgcfgrestore -f accepts: the
// header of a backup file (the text's own description and time when they
// were found) and the VG section exactly as found.
func (cv *Carved) RestoreFile() []byte {
	return restoreText(cv.Section, cv.FoundAt[0], fileHeader{cv.Description, cv.CreationTime})
}

func restoreText(section []byte, from Location, h fileHeader) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Carved by holmes from %q at offset %d\n\n", from.Device, from.Offset)
	b.WriteString("contents = \"Text Format Volume Group\"\nversion = 1\n\n")
	if h.Description == "" {
		h.Description = fmt.Sprintf("Carved by holmes from %s at offset %d", from.Device, from.Offset)
	}
	fmt.Fprintf(&b, "description = \"%s\"\n\n", escape(h.Description))
	if h.CreationTime != 0 {
		fmt.Fprintf(&b, "creation_time = %d\n\n", h.CreationTime)
	}
	b.Write(section)
	b.WriteString("\n")
	return b.Bytes()
}

// escape quotes a string for the text format.
func escape(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
