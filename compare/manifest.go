package compare

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/zeebo/blake3"

	"holmes/blockdev"
)

// A manifest is a device's size and one hash per fixed-size piece, so that
// two copies on different machines can be checked piece by piece without
// moving the data. The text form is line based and diffable:
//
//	holmes-hash-manifest 1
//	device: disk03.img
//	size: 1073741824
//	block-size: 838860800
//	algorithm: blake3
//	pieces: 2
//	0 838860800 6f1ed002ab5595859014ebf0951522d9...
//	838860800 234881024 a2a6c1a8e3c1b5d5a2e8f0e3b7d4c1f0...
//
// Each piece line is OFFSET LENGTH HASH (hex); pieces are contiguous and all
// but the last are block-size long. A piece the device could not read in
// full has no hash: its line is OFFSET LENGTH unreadable RANGES, the ranges
// it lacks as START+LEN (device offsets) separated by commas, so that a gap
// is never hashed as zeros and never passes for a copy. BLAKE3 is used because it is a
// cryptographic hash (a copy cannot pass by accident or by tampering) that
// runs at several GB/s on one core with SIMD, faster than the disks it checks.
const (
	manifestMagic = "holmes-hash-manifest 1"
	// Algorithm names the hash in manifests.
	Algorithm = "blake3"
	// DefaultPieceSize is the piece size when none is given.
	DefaultPieceSize = 64 << 20
	// MinPieceSize and MaxPieces bound the number of pieces, so that a
	// manifest (about 90 bytes a piece, in memory and on disk) stays small.
	MinPieceSize = 4096
	MaxPieces    = 1 << 20
)

// Manifest is a piecewise hash of a device.
type Manifest struct {
	Device    string  `json:"device"`
	Size      int64   `json:"size"`
	BlockSize int64   `json:"block_size"`
	Algorithm string  `json:"algorithm"`
	Pieces    []Piece `json:"pieces"`
}

// Piece is the hash of [Offset, Offset+Length) of the device.
type Piece struct {
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Hash   string `json:"hash"` // lower-case hex; "" when Unreadable
	// Unreadable are the ranges of the piece the device could not read.
	Unreadable []Region `json:"unreadable,omitempty"`
}

// unreadableHash is the hash field of a piece line with unreadable bytes.
const unreadableHash = "unreadable"

// Hash reads d once and returns its manifest with pieces of blockSize bytes.
// progress, if not nil, is called after each read with the bytes hashed.
func Hash(d blockdev.Device, blockSize int64, progress func(done, total int64)) (*Manifest, error) {
	if blockSize < MinPieceSize {
		return nil, fmt.Errorf("hash: block size %d is below the minimum %d", blockSize, MinPieceSize)
	}
	if n := (d.Size() + blockSize - 1) / blockSize; n > MaxPieces {
		return nil, fmt.Errorf("hash: %s (%d bytes) in pieces of %d bytes makes %d pieces, more than %d: use a block size of at least %d",
			d.Name(), d.Size(), blockSize, n, MaxPieces, (d.Size()+MaxPieces-1)/MaxPieces)
	}
	m := &Manifest{Device: d.Name(), Size: d.Size(), BlockSize: blockSize, Algorithm: Algorithm, Pieces: []Piece{}}
	h := blake3.New()
	var piece Piece
	finish := func() {
		piece.Hash = hex.EncodeToString(h.Sum(nil))
		if piece.Unreadable != nil {
			piece.Hash = ""
		}
		m.Pieces = append(m.Pieces, piece)
		piece = Piece{}
		h.Reset()
	}
	// A piece may end inside a chunk, so one chunk can feed two pieces.
	chunk := int(min(blockSize, DefaultChunkSize))
	err := stream(d, 0, d.Size(), chunk, func(off int64, p []byte, holes []blockdev.Hole) error {
		for len(p) > 0 {
			if piece.Length == 0 {
				piece = Piece{Offset: off}
			}
			n := min(int64(len(p)), blockSize-piece.Length)
			for _, hole := range holes {
				if s, e := max(hole.Off, off), min(hole.End(), off+n); s < e {
					piece.addUnreadable(Region{s, e})
				}
			}
			h.Write(p[:n])
			piece.Length += n
			off += n
			p = p[n:]
			if piece.Length == blockSize {
				finish()
			}
		}
		if progress != nil {
			progress(off, d.Size())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if piece.Length > 0 {
		finish()
	}
	return m, nil
}

// addUnreadable appends r, merging it with the last range it continues.
func (p *Piece) addUnreadable(r Region) {
	if k := len(p.Unreadable); k > 0 && p.Unreadable[k-1].End == r.Start {
		p.Unreadable[k-1].End = r.End
		return
	}
	p.Unreadable = append(p.Unreadable, r)
}

// WriteTo writes the manifest's text form.
func (m *Manifest) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\ndevice: %s\nsize: %d\nblock-size: %d\nalgorithm: %s\npieces: %d\n",
		manifestMagic, m.Device, m.Size, m.BlockSize, m.Algorithm, len(m.Pieces))
	for _, p := range m.Pieces {
		if p.Unreadable == nil {
			fmt.Fprintf(&b, "%d %d %s\n", p.Offset, p.Length, p.Hash)
			continue
		}
		ranges := make([]string, len(p.Unreadable))
		for i, r := range p.Unreadable {
			ranges[i] = fmt.Sprintf("%d+%d", r.Start, r.End-r.Start)
		}
		fmt.Fprintf(&b, "%d %d %s %s\n", p.Offset, p.Length, unreadableHash, strings.Join(ranges, ","))
	}
	return b.WriteTo(w)
}

// IsManifest reports whether a file starting with prefix is a manifest.
func IsManifest(prefix []byte) bool {
	return bytes.HasPrefix(prefix, []byte(manifestMagic+"\n"))
}

// ManifestOn returns the manifest device d holds, or nil when d holds
// something else (a disk, an image): compare takes either.
func ManifestOn(d blockdev.Device) (*Manifest, error) {
	prefix := make([]byte, 64)
	n, _ := d.ReadAt(prefix, 0)
	if !IsManifest(prefix[:n]) {
		return nil, nil
	}
	return ReadManifest(io.NewSectionReader(d, 0, d.Size()), d.Name())
}

// ReadManifest parses the text form; name is used in error messages.
// Every field is checked: a manifest that does not describe contiguous
// pieces covering exactly its size is refused rather than half-trusted.
func ReadManifest(r io.Reader, name string) (*Manifest, error) {
	sc := bufio.NewScanner(r)
	line := 0
	next := func() (string, bool) {
		ok := sc.Scan()
		line++
		return sc.Text(), ok
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("manifest %s line %d: %s", name, line, fmt.Sprintf(format, args...))
	}
	if l, _ := next(); l != manifestMagic {
		return nil, bad("not a holmes hash manifest (expected %q)", manifestMagic)
	}
	m := &Manifest{}
	var count int64
	header := []struct {
		key string
		set func(string) error
	}{
		{"device", func(v string) error { m.Device = v; return nil }},
		{"size", func(v string) (err error) { m.Size, err = parseCount(v); return }},
		{"block-size", func(v string) (err error) { m.BlockSize, err = parseCount(v); return }},
		{"algorithm", func(v string) error { m.Algorithm = v; return nil }},
		{"pieces", func(v string) (err error) { count, err = parseCount(v); return }},
	}
	for _, f := range header {
		l, _ := next()
		v, ok := strings.CutPrefix(l, f.key+": ")
		if !ok {
			return nil, bad("expected %q", f.key+": ")
		}
		if err := f.set(v); err != nil {
			return nil, bad("%s: %v", f.key, err)
		}
	}
	if m.Algorithm != Algorithm {
		return nil, bad("algorithm %q is not %q", m.Algorithm, Algorithm)
	}
	if m.BlockSize < MinPieceSize {
		return nil, bad("block size %d is below the minimum %d", m.BlockSize, MinPieceSize)
	}
	if want := (m.Size + m.BlockSize - 1) / m.BlockSize; count != want {
		return nil, bad("%d pieces, but size %d in blocks of %d makes %d", count, m.Size, m.BlockSize, want)
	}
	if count > MaxPieces {
		return nil, bad("%d pieces, more than the %d holmes writes", count, MaxPieces)
	}
	m.Pieces = make([]Piece, 0, count)
	for off := int64(0); off < m.Size; off += m.BlockSize {
		l, ok := next()
		if !ok {
			return nil, bad("manifest ends after %d of %d pieces", len(m.Pieces), count)
		}
		p, err := parsePiece(l)
		if err != nil {
			return nil, bad("%v", err)
		}
		if want := min(m.BlockSize, m.Size-off); p.Offset != off || p.Length != want {
			return nil, bad("piece %d+%d, expected %d+%d", p.Offset, p.Length, off, want)
		}
		m.Pieces = append(m.Pieces, p)
	}
	if l, ok := next(); ok {
		return nil, bad("unexpected %.40q after the last piece", l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", name, err)
	}
	return m, nil
}

func parseCount(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return n, nil
}

func parsePiece(l string) (Piece, error) {
	f := strings.Fields(l)
	if len(f) == 4 && f[2] == unreadableHash {
		return parseUnreadablePiece(f, l)
	}
	if len(f) != 3 {
		return Piece{}, fmt.Errorf("expected OFFSET LENGTH HASH, got %.60q", l)
	}
	off, err1 := parseCount(f[0])
	length, err2 := parseCount(f[1])
	sum, err3 := hex.DecodeString(f[2])
	if err1 != nil || err2 != nil || err3 != nil || len(sum) != 32 {
		return Piece{}, fmt.Errorf("bad piece line %.60q", l)
	}
	return Piece{Offset: off, Length: length, Hash: strings.ToLower(f[2])}, nil
}

// parseUnreadablePiece reads OFFSET LENGTH unreadable START+LEN,...: the
// ranges must lie in the piece, in order, apart from each other.
func parseUnreadablePiece(f []string, l string) (Piece, error) {
	off, err1 := parseCount(f[0])
	length, err2 := parseCount(f[1])
	if err1 != nil || err2 != nil {
		return Piece{}, fmt.Errorf("bad piece line %.60q", l)
	}
	p := Piece{Offset: off, Length: length}
	at := off
	for _, r := range strings.Split(f[3], ",") {
		s, n, ok := strings.Cut(r, "+")
		start, err1 := parseCount(s)
		size, err2 := parseCount(n)
		if !ok || err1 != nil || err2 != nil || size == 0 || start < at || size > off+length-start {
			return Piece{}, fmt.Errorf("bad unreadable range %.30q in piece %d+%d (ranges in order, inside the piece, apart)", r, off, length)
		}
		p.Unreadable = append(p.Unreadable, Region{start, start + size})
		at = start + size + 1
	}
	return p, nil
}

// PieceReport is the comparison of two manifests: which pieces differ.
// Manifests cannot say which bytes differ inside a piece, so this report
// has pieces where a byte comparison has bytes.
type PieceReport struct {
	A             string      `json:"a"`
	B             string      `json:"b"`
	SizeA         int64       `json:"size_a"`
	SizeB         int64       `json:"size_b"`
	BlockSize     int64       `json:"block_size"`
	Algorithm     string      `json:"algorithm"`
	Compared      int64       `json:"compared_bytes"`
	ComparedCount int         `json:"compared_pieces"`
	FirstDiff     *int64      `json:"first_diff"` // start of the first differing piece; nil if none
	Differing     []PieceDiff `json:"differing_pieces"`
	// Unreadable are the ranges a side could not read when it was hashed;
	// the pieces holding them are compared on neither side's word (they
	// count in no other field).
	Unreadable       []Unreadable `json:"unreadable"`
	UnreadablePieces int          `json:"unreadable_pieces"`
	Notes            []string     `json:"notes"`
}

// PieceDiff is one piece whose hashes differ.
type PieceDiff struct {
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	HashA  string `json:"hash_a"`
	HashB  string `json:"hash_b"`
}

// ComparePieces compares two manifests of the same piece size over the
// pieces both cover completely; a last piece cut short by a device's end
// is only comparable when the sizes agree.
func ComparePieces(a, b *Manifest) (*PieceReport, error) {
	if a.BlockSize != b.BlockSize || a.Algorithm != b.Algorithm {
		return nil, fmt.Errorf("compare: manifests of %s (%s, block size %d) and %s (%s, block size %d) use different pieces",
			a.Device, a.Algorithm, a.BlockSize, b.Device, b.Algorithm, b.BlockSize)
	}
	r := &PieceReport{A: a.Device, B: b.Device, SizeA: a.Size, SizeB: b.Size, BlockSize: a.BlockSize,
		Algorithm: a.Algorithm, Differing: []PieceDiff{}, Unreadable: []Unreadable{}, Notes: []string{}}
	n := min(len(a.Pieces), len(b.Pieces))
	if a.Size != b.Size {
		// Only whole pieces are comparable across different sizes.
		n = int(min(a.Size, b.Size) / a.BlockSize)
		r.Notes = append(r.Notes, fmt.Sprintf("sizes differ (%s: %d, %s: %d): compared the %d whole pieces both have",
			a.Device, a.Size, b.Device, b.Size, n))
	}
	for i := range n {
		pa, pb := a.Pieces[i], b.Pieces[i]
		if pa.Unreadable != nil || pb.Unreadable != nil {
			r.UnreadablePieces++
			for _, u := range pa.Unreadable {
				r.Unreadable = append(r.Unreadable, Unreadable{a.Device, u.Start, u.End, "unreadable when hashed"})
			}
			for _, u := range pb.Unreadable {
				r.Unreadable = append(r.Unreadable, Unreadable{b.Device, u.Start, u.End, "unreadable when hashed"})
			}
			continue
		}
		r.Compared += pa.Length
		r.ComparedCount++
		if pa.Hash != pb.Hash {
			if r.FirstDiff == nil {
				off := pa.Offset
				r.FirstDiff = &off
			}
			r.Differing = append(r.Differing, PieceDiff{pa.Offset, pa.Length, pa.Hash, pb.Hash})
		}
	}
	return r, nil
}
