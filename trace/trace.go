// Package trace says what a byte range of a device is, up the stack: a
// member's bytes in their md array, the array's bytes in an LVM logical
// volume, a partition inside it, and what the filesystem on top keeps
// there (docs/trace.md). Each layer's format package answers for its own
// layer (mdraid.MemberRuns, lvmmeta.PVUseAt, ext.Explain); this package
// only walks the stack a case file or triage describes.
package trace

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/ext"
	"holmes/lvmmeta"
	"holmes/mdraid"
)

// Array is an md array of the stack.
type Array struct {
	Name     string
	Geometry mdraid.Geometry
	// Members are DEV names in role order, "" for a member nothing is
	// known of. A member the reconstruction leaves out (a stale half) is
	// named here all the same, so its bytes can be placed.
	Members []string
	// Metadata is the superblock version ("0.90", "1.2"), "" if unknown.
	Metadata string
}

// VG is a volume group of the stack.
type VG struct {
	VG  *lvmmeta.VG
	PVs map[string]string // PV name -> DEV name (array name or partition)
}

// Stack is the reconstructed storage stack.
type Stack struct {
	Arrays []Array
	VGs    []VG
	// Open opens any DEV the stack names (a member, an array, "vg/lv",
	// "vg/lv:p1") read-only.
	Open func(name string) (blockdev.Device, error)
	// Superblocks chooses the ext superblock (ext.Options.Superblock) of
	// the filesystem on a DEV, where auto is not the recovery's choice.
	Superblocks map[string]int64
}

// Step is one layer's answer for a piece of the range: bytes
// [Offset, Offset+Length) of Dev are What.
type Step struct {
	Layer      string `json:"layer"` // "partition", "md", "lvm", "ext", or "" where nothing is known
	Dev        string `json:"dev"`
	Offset     int64  `json:"offset"`
	Length     int64  `json:"length"`
	What       string `json:"what"`
	Path       string `json:"path,omitempty"`
	FileOffset int64  `json:"file_offset,omitempty"`
	Inode      uint32 `json:"inode,omitempty"`
}

// Range is one byte range to trace.
type Range struct {
	Dev            string
	Offset, Length int64
}

// maxPieces bounds the pieces one range is cut into on its way up (a
// chunk each on striped arrays), so a range of a whole disk stays a
// bounded answer; the list then ends with a step saying so.
const maxPieces = 4096

// FromCase builds the stack a case file describes.
func FromCase(c *casefile.Case) (*Stack, error) {
	s := &Stack{Open: func(name string) (blockdev.Device, error) { return blockdev.Open(c.DevSpec(name), c) }}
	for _, a := range c.Arrays {
		arr := Array{Name: a.Name, Metadata: a.Metadata, Members: make([]string, len(a.Members)),
			Geometry: mdraid.Geometry{Level: a.Level, Layout: a.Layout, ChunkBytes: a.ChunkBytes, RaidDisks: len(a.Members),
				DataOffset: a.DataOffset, DataSize: a.DataSize}}
		if len(a.LeftOut) > len(a.Members) {
			return nil, fmt.Errorf("case file: array %s: %d left_out entries for %d members", a.Name, len(a.LeftOut), len(a.Members))
		}
		for i, m := range a.Members {
			if m != nil && *m != "" {
				arr.Members[i] = canonical(c.DevSpec(*m))
			}
		}
		for i, m := range a.LeftOut {
			if m != nil && *m != "" {
				if arr.Members[i] != "" {
					return nil, fmt.Errorf("case file: array %s: role %d is both read (%s) and left out (%s)", a.Name, i, *a.Members[i], *m)
				}
				arr.Members[i] = canonical(c.DevSpec(*m))
			}
		}
		s.Arrays = append(s.Arrays, arr)
	}
	for _, g := range c.VolumeGroups {
		vg, err := lvmmeta.ReadVGFile(c.Path(g.Metadata))
		if err != nil {
			return nil, fmt.Errorf("case file: volume group metadata: %w", err)
		}
		pvs := map[string]string{}
		for pv, dev := range g.PVs {
			pvs[pv] = canonical(c.DevSpec(dev))
		}
		s.VGs = append(s.VGs, VG{VG: vg, PVs: pvs})
	}
	return s, nil
}

// canonical names a DEV so that two spellings of one file compare equal:
// the path part made absolute and clean, the :pN and @range suffixes kept.
func canonical(dev string) string {
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	base, suffix := blockdev.SplitSpec(dev, exists)
	if !exists(base) {
		return dev
	}
	abs, err := filepath.Abs(base)
	if err != nil {
		return dev
	}
	return abs + suffix
}

// Trace says what bytes [off, off+length) of dev are, layer by layer up
// the stack.
func (s *Stack) Trace(dev string, off, length int64) ([]Step, error) {
	out, err := s.TraceAll([]Range{{dev, off, length}})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// TraceAll traces many ranges at once: each filesystem is explained in one
// pass over its inode tables for all the pieces that reach it.
func (s *Stack) TraceAll(ranges []Range) ([][]Step, error) {
	return s.traceAll(ranges, false)
}

// traceAll traces ranges; with unreadable set, they are ranges the
// evidence lacks, and an array passes up only the bytes it cannot read
// from another copy or from parity.
func (s *Stack) traceAll(ranges []Range, unreadable bool) ([][]Step, error) {
	w := &walk{s: s, out: make([][]Step, len(ranges)), pieces: make([]int, len(ranges)), arrays: map[string]*mdraid.Array{}, labels: map[string]*lvmmeta.Label{}, unreadable: unreadable}
	defer w.close()
	var todo []piece
	for i, r := range ranges {
		if r.Offset < 0 || r.Length <= 0 || r.Length > 1<<62-r.Offset {
			return nil, fmt.Errorf("trace: %s: %d+%d is not a byte range", r.Dev, r.Offset, r.Length)
		}
		dev := canonical(r.Dev)
		d, err := w.open(dev)
		if err != nil {
			return nil, fmt.Errorf("trace: %w", err)
		}
		if r.Offset+r.Length > d.Size() {
			return nil, fmt.Errorf("trace: %s: bytes %d+%d run past its end (%d bytes)", r.Dev, r.Offset, r.Length, d.Size())
		}
		todo = append(todo, piece{i, dev, r.Offset, r.Length})
	}
	// Climb until every piece sits on a device that is no member or PV,
	// then let the contents of those devices answer, all pieces of one
	// device at once (one pass over a filesystem's inode tables however
	// many ranges reach it, by however many layers); partition tables send
	// pieces climbing again.
	pending := map[string][]piece{}
	for layers := 0; len(todo) > 0; layers++ {
		if layers > 64 {
			return nil, fmt.Errorf("trace: the stack is more than 64 layers deep (a name stacked on itself?)")
		}
		var next []piece
		for _, p := range todo {
			up, err := w.climb(p)
			if errors.Is(err, errContents) {
				pending[p.dev] = append(pending[p.dev], p)
				continue
			}
			if err != nil {
				return nil, err
			}
			next = append(next, up...)
		}
		if len(next) == 0 {
			devs := slices.Sorted(maps.Keys(pending))
			for _, d := range devs {
				up, err := w.explain(d, pending[d])
				if err != nil {
					return nil, err
				}
				next = append(next, up...)
			}
			clear(pending)
		}
		todo = next
	}
	return w.out, nil
}

// piece is a part of traced range origin that lies at dev.
type piece struct {
	origin int
	dev    string
	off, n int64
}

type walk struct {
	s      *Stack
	out    [][]Step
	pieces []int // pieces made per origin, against maxPieces
	devs   map[string]blockdev.Device
	arrays map[string]*mdraid.Array
	labels map[string]*lvmmeta.Label
	// names maps each member and PV of the stack (canonical) to the
	// layer above it.
	names map[string]func(piece) ([]piece, error)
	// unreadable: the pieces are bytes the evidence lacks (see traceAll).
	unreadable bool
}

func (w *walk) open(name string) (blockdev.Device, error) {
	if d, ok := w.devs[name]; ok {
		return d, nil
	}
	if w.s.Open == nil {
		return nil, fmt.Errorf("%s: the stack cannot open devices", name)
	}
	d, err := w.s.Open(name)
	if err != nil {
		return nil, err
	}
	if w.devs == nil {
		w.devs = map[string]blockdev.Device{}
	}
	w.devs[name] = d
	return d, nil
}

func (w *walk) close() {
	for _, d := range w.devs {
		d.Close()
	}
}

// step records a step for p's origin.
func (w *walk) step(p piece, st Step) { w.out[p.origin] = append(w.out[p.origin], st) }

// grow makes a piece one layer up, unless the origin has made too many.
func (w *walk) grow(p piece, dev string, off, n int64) []piece {
	w.pieces[p.origin]++
	switch {
	case w.pieces[p.origin] == maxPieces:
		w.step(p, Step{Dev: dev, Offset: off, Length: n, What: fmt.Sprintf("the range is cut into more than %d pieces: the rest is not traced", maxPieces)})
		return nil
	case w.pieces[p.origin] > maxPieces:
		return nil
	}
	return []piece{{p.origin, dev, off, n}}
}

// errContents says a piece's device is no member or PV of the stack: what
// is on it (a filesystem, a partition table) decides.
var errContents = errors.New("contents")

// climb moves p up one layer: from a member to its array, from a PV to
// its LVs.
func (w *walk) climb(p piece) ([]piece, error) {
	if w.names == nil {
		// Compare names the way the pieces carry them: however the
		// stack spells a member or PV, the same file is the same DEV.
		w.names = map[string]func(piece) ([]piece, error){}
		for ai := range w.s.Arrays {
			a := &w.s.Arrays[ai]
			for role, m := range a.Members {
				if _, taken := w.names[canonical(m)]; m != "" && !taken { // the first array naming a DEV has it
					w.names[canonical(m)] = func(p piece) ([]piece, error) { return w.member(p, a, role) }
				}
			}
		}
		for _, vg := range w.s.VGs {
			for pv, dev := range vg.PVs {
				if _, taken := w.names[canonical(dev)]; !taken {
					w.names[canonical(dev)] = func(p piece) ([]piece, error) { return w.physical(p, vg, pv) }
				}
			}
		}
	}
	if up, ok := w.names[p.dev]; ok {
		return up(p)
	}
	return nil, errContents
}

// array assembles a for mapping only (reading goes through Open): the
// members give their sizes; those that do not open are left out, the
// geometry maps without them.
func (w *walk) array(a *Array) (*mdraid.Array, error) {
	if arr, ok := w.arrays[a.Name]; ok {
		return arr, nil
	}
	members := make([]blockdev.Device, len(a.Members))
	for i, m := range a.Members {
		if m == "" {
			continue
		}
		if d, err := w.open(m); err == nil {
			members[i] = d
		}
	}
	arr, err := mdraid.Open(a.Geometry, members, a.Name)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	w.arrays[a.Name] = arr
	return arr, nil
}

// member places member bytes in array a.
func (w *walk) member(p piece, a *Array, role int) ([]piece, error) {
	arr, err := w.array(a)
	if err != nil {
		return nil, err
	}
	g := arr.Geometry()
	var memberSize int64 = -1
	if d, err := w.open(p.dev); err == nil {
		memberSize = d.Size()
	}
	metadata := func(off, n int64, where string) {
		if sb, sbLen, ok := mdraid.SuperblockRange(a.Metadata, memberSize); ok && off < sb+sbLen && sb < off+n {
			from, to := max(off, sb), min(off+n, sb+sbLen)
			if off < from {
				w.step(p, Step{Layer: "md", Dev: p.dev, Offset: off, Length: from - off, What: "md metadata area " + where})
			}
			w.step(p, Step{Layer: "md", Dev: p.dev, Offset: from, Length: to - from, What: fmt.Sprintf("md superblock (%s, of %s)", a.Metadata, a.Name)})
			if to < off+n {
				w.step(p, Step{Layer: "md", Dev: p.dev, Offset: to, Length: off + n - to, What: "md metadata area " + where})
			}
			return
		}
		w.step(p, Step{Layer: "md", Dev: p.dev, Offset: off, Length: n, What: "md metadata area " + where})
	}
	dataEnd := g.DataOffset + g.DataSize
	if g.DataSize == 0 { // raid0 and linear use each member whole
		dataEnd = max(memberSize, g.DataOffset)
	}
	var up []piece
	pos, end := p.off, p.off+p.n
	if pos < g.DataOffset {
		head := min(end, g.DataOffset)
		metadata(pos, head-pos, "before the data")
		pos = head
	}
	if pos >= end {
		return nil, nil
	}
	for _, r := range arr.MemberRuns(role, pos-g.DataOffset, end-pos, maxPieces) {
		at := r.AreaOffset + g.DataOffset
		switch {
		case r.ArrayOffset >= 0:
			w.step(p, Step{Layer: "md", Dev: a.Name, Offset: r.ArrayOffset, Length: r.Length,
				What: fmt.Sprintf("%s data (role %d, member byte %d)", a.Name, role, at)})
			if w.unreadable {
				up = append(up, w.lost(p, a.Name, r.ArrayOffset, r.Length)...)
				continue
			}
			up = append(up, w.grow(p, a.Name, r.ArrayOffset, r.Length)...)
		case r.Parity == "P":
			w.step(p, Step{Layer: "md", Dev: p.dev, Offset: at, Length: r.Length, What: fmt.Sprintf("parity of stripe %d (%s)", r.Stripe, a.Name)})
		case r.Parity == "Q":
			w.step(p, Step{Layer: "md", Dev: p.dev, Offset: at, Length: r.Length, What: fmt.Sprintf("Q parity of stripe %d (%s)", r.Stripe, a.Name)})
		default:
			// Inside the data area the layout leaves some bytes unused
			// (raid0 and raid10 round to the chunk); after it, md keeps
			// its metadata (0.90 and 1.0 superblocks, their bitmaps).
			inside := min(at+r.Length, dataEnd) - at
			if inside > 0 {
				w.step(p, Step{Layer: "md", Dev: p.dev, Offset: at, Length: inside, What: fmt.Sprintf("not used by %s's layout", a.Name)})
			}
			if after := max(at, dataEnd); after < at+r.Length {
				metadata(after, at+r.Length-after, "after the data")
			}
		}
	}
	return up, nil
}

// lost passes up the bytes [off, off+n) of array that it cannot read (no
// copy, no parity holds them: lost) and says which it reads from elsewhere
// (routed around), asking the array itself.
func (w *walk) lost(p piece, array string, off, n int64) []piece {
	d, err := w.open(array)
	var holes []blockdev.Extent
	if err == nil {
		holes, err = blockdev.UnreadableIn(d, off, n, 1<<20)
	}
	if err != nil {
		w.step(p, Step{Layer: "md", Dev: array, Offset: off, Length: n, What: "lost or not: the array does not read (" + err.Error() + ")"})
		return w.grow(p, array, off, n)
	}
	var up []piece
	routed := func(from, to int64) {
		if to > from {
			w.step(p, Step{Layer: "md", Dev: array, Offset: from, Length: to - from, What: RoutedAround})
		}
	}
	at := off
	for _, h := range holes {
		routed(at, h.Off)
		w.step(p, Step{Layer: "md", Dev: array, Offset: h.Off, Length: h.Len, What: LostInArray})
		up = append(up, w.grow(p, array, h.Off, h.Len)...)
		at = h.End()
	}
	routed(at, off+n)
	return up
}

// What an array step says of unreadable member bytes.
const (
	// RoutedAround: the array reads these bytes from another copy or
	// rebuilds them from parity; nothing above is harmed.
	RoutedAround = "routed around: the array reads these bytes from another copy or from parity"
	// LostInArray: no copy or parity the array reads holds these bytes.
	LostInArray = "lost: the array cannot read these bytes from any copy or parity"
)

// Hole is a range of a device the evidence lacks (a gap of its ddrescue
// mapfile), traced up the stack: which array reads it elsewhere, and what
// the bytes it loses were (LV, filesystem structure, file).
type Hole struct {
	Dev    string `json:"dev"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Why    string `json:"why"`
	Steps  []Step `json:"steps"`
}

// Holes lists the unreadable ranges of each DEV (an image with a mapfile;
// see blockdev.HolesOf) and traces each up the stack. Through an array
// only the bytes the array itself cannot read climb further: the steps of
// the rest say RoutedAround.
func (s *Stack) Holes(devs []string) ([]Hole, error) {
	var holes []Hole
	var ranges []Range
	for _, name := range devs {
		d, err := s.Open(name)
		if err != nil {
			return nil, fmt.Errorf("trace: %w", err)
		}
		for _, h := range blockdev.HolesOf(d) {
			why := ""
			if _, err := d.ReadAt(make([]byte, 1), h.Off); err != nil {
				if u, ok := blockdev.AsUnreadable(err); ok {
					why = u.Why
				}
			}
			holes = append(holes, Hole{Dev: name, Offset: h.Off, Length: h.Len, Why: why})
			ranges = append(ranges, Range{Dev: name, Offset: h.Off, Length: h.Len})
		}
		d.Close()
	}
	if len(ranges) == 0 {
		return []Hole{}, nil
	}
	steps, err := s.traceAll(ranges, true)
	if err != nil {
		return nil, err
	}
	for i := range holes {
		holes[i].Steps = steps[i]
	}
	return holes, nil
}

// physical places PV bytes in the VG's logical volumes.
func (w *walk) physical(p piece, vg VG, pv string) ([]piece, error) {
	var up []piece
	for pos, end := p.off, p.off+p.n; pos < end; {
		u, err := vg.VG.PVUseAt(pv, pos)
		if err != nil {
			return nil, fmt.Errorf("trace: %w", err)
		}
		n := min(u.Length, end-pos)
		if u.LV == "" {
			what := u.What
			if label := w.label(p.dev); label != nil && label.PVUUID == vg.VG.PV(pv).ID && u.What != "unallocated extents" {
				// The PV's own label (this PV's, not one a later
				// pvcreate wrote) says which of these bytes are the label
				// and the metadata areas.
				var area string
				if area, n = label.AreaAt(pos, n); area != "" {
					what = area
				} else if u.What == "LVM PV label and metadata area" {
					what = "before pe_start, unused by LVM"
				}
			}
			w.step(p, Step{Layer: "lvm", Dev: p.dev, Offset: pos, Length: n, What: what + " (VG " + vg.VG.Name + ")"})
		} else {
			name := vg.VG.Name + "/" + u.LV
			w.step(p, Step{Layer: "lvm", Dev: name, Offset: u.LVOffset, Length: n, What: "logical volume " + name})
			up = append(up, w.grow(p, name, u.LVOffset, n)...)
		}
		pos += n
		if w.pieces[p.origin] >= maxPieces {
			break
		}
	}
	return up, nil
}

// label reads the PV label on dev once: nil when it is unreadable (then
// the bytes before pe_start are named as a whole).
func (w *walk) label(dev string) *lvmmeta.Label {
	if l, ok := w.labels[dev]; ok {
		return l
	}
	var l *lvmmeta.Label
	if d, err := w.open(dev); err == nil {
		l, _ = lvmmeta.ReadLabel(d, d.Size())
	}
	w.labels[dev] = l
	return l
}

// explain says what the contents of dev keep at the pieces: a filesystem
// answers for them all at once; a partition table moves them into its
// partitions.
func (w *walk) explain(dev string, ps []piece) ([]piece, error) {
	d, err := w.open(dev)
	if err != nil {
		// One layer that does not open (an LV whose PVs are short, a
		// partition past the end) ends its pieces, not the whole trace.
		for _, p := range ps {
			w.step(p, Step{Dev: dev, Offset: p.off, Length: p.n, What: "cannot be opened: " + err.Error()})
		}
		return nil, nil
	}
	var choice int64
	for k, v := range w.s.Superblocks {
		if canonical(k) == dev {
			choice = v
		}
	}
	_, primaryErr := ext.ReadSuperblock(d, ext.PrimaryOffset)
	ours := choice != 0 || primaryErr == nil // a filesystem is here, not only a stray backup copy
	if table, err := blockdev.ReadPartitionTable(d); !ours && err == nil {
		return w.partitions(dev, table, ps), nil
	}
	fs, err := ext.Open(d, d.Size(), ext.Options{Superblock: choice})
	if err != nil && !ours {
		layer, what := "", "nothing known here (no member, PV, filesystem or partition table of the stack)"
		if l := w.label(dev); l != nil {
			layer, what = "lvm", "LVM PV "+l.PVUUID+", of no volume group of the stack"
		}
		for _, p := range ps {
			w.step(p, Step{Layer: layer, Dev: dev, Offset: p.off, Length: p.n, What: what})
		}
		return nil, nil
	}
	if err != nil {
		for _, p := range ps {
			w.step(p, Step{Layer: "ext", Dev: dev, Offset: p.off, Length: p.n, What: "filesystem that does not open: " + err.Error()})
		}
		return nil, nil
	}
	regions := make([]ext.Region, len(ps))
	for i, p := range ps {
		regions[i] = ext.Region{Offset: p.off, Length: p.n}
	}
	uses, err := fs.Explain(regions)
	if err != nil {
		return nil, fmt.Errorf("trace: %s: %w", dev, err)
	}
	for i, p := range ps {
		for _, u := range uses[i] {
			what := u.What
			if u.FirstInode != 0 {
				what = fmt.Sprintf("%s (inodes %d-%d)", what, u.FirstInode, u.LastInode)
			}
			w.step(p, Step{Layer: "ext", Dev: dev, Offset: u.Offset, Length: u.Length, What: what, Path: u.Path, FileOffset: u.FileOffset, Inode: u.Inode})
		}
	}
	return nil, nil
}

// partitions moves pieces into the partitions of table on dev.
func (w *walk) partitions(dev string, table *blockdev.PartitionTable, ps []piece) []piece {
	tableEnd := int64(512) // the MBR, or the protective MBR, GPT header and entries
	if table.Kind == "gpt" {
		tableEnd = 34 * table.SectorSize
	}
	var up []piece
	for _, p := range ps {
		pos, end := p.off, p.off+p.n
		for pos < end {
			next, part := end, blockdev.Partition{}
			if pos < tableEnd {
				next = min(next, tableEnd)
			}
			for _, q := range table.Partitions {
				if q.Extended {
					continue
				}
				if pos >= q.Start && pos < q.Start+q.Size {
					next, part = min(end, q.Start+q.Size), q
					break
				}
				if q.Start > pos {
					next = min(next, q.Start)
				}
			}
			if part.Number == 0 {
				what := "outside every partition"
				if pos < tableEnd {
					what = strings.ToUpper(table.Kind) + " partition table"
				}
				w.step(p, Step{Layer: "partition", Dev: dev, Offset: pos, Length: next - pos, What: what})
			} else {
				name := fmt.Sprintf("%s:p%d", dev, part.Number)
				w.step(p, Step{Layer: "partition", Dev: name, Offset: pos - part.Start, Length: next - pos, What: fmt.Sprintf("partition %d", part.Number)})
				up = append(up, w.grow(p, name, pos-part.Start, next-pos)...)
			}
			pos = next
		}
	}
	return up
}
