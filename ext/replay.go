package ext

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"

	"holmes/blockdev"
)

// Replaying the journal in memory: the committed transactions the kernel
// had not yet written home are applied to a read-only view of the device
// (replayView), never to the device, following jbd2's recovery: scan the
// log from s_start for complete transactions, collect revoke records, then
// take every logged block not revoked by its own or a later transaction,
// the newest copy winning. Block copies whose checksum fails are skipped,
// a transaction whose commit fails its checksum ends the log, as the
// kernel does.

// More jbd2 block types and features than journal.go needs.
const (
	jbdCommit  = 2
	jbdSuperV1 = 3
	jbdSuperV2 = 4
	jbdRevoke  = 5

	jbdCompatChecksum   = 0x1
	jbdFeatureRevoke    = 0x1
	jbdFeatureAsync     = 0x4
	jbdFeatureFastCommt = 0x20
	jbdKnownIncompat    = jbdFeatureRevoke | jbdFeature64Bit | jbdFeatureAsync | jbdFeatureCsumV2 | jbdFeatureCsumV3 | jbdFeatureFastCommt

	jbdTailSize = 4 // struct jbd2_journal_block_tail
)

// Replay is what replaying the journal changed.
type Replay struct {
	Journal      string          `json:"journal"` // "inode 8" or "external device"
	FirstSeq     uint32          `json:"first_transaction"`
	LastSeq      uint32          `json:"last_transaction"`
	Transactions int             `json:"transactions"`
	Blocks       []ReplayedBlock `json:"blocks"`  // filesystem blocks the view takes from the journal
	Revoked      []uint64        `json:"revoked"` // logged blocks not replayed: a revoke record covers them
	Skipped      []string        `json:"skipped,omitempty"`
	Inodes       []ReplayedInode `json:"inodes,omitempty"` // filled by ReplayChanges
	EndReason    string          `json:"end"`              // why the log ends where it does
	refs         map[uint64]jref // block -> where its newest copy is
	log          *journalLog     // where the copies are read from
	onDisk       *FS             // the filesystem without the replay
}

// ReplayedBlock is one filesystem block the replay changes.
type ReplayedBlock struct {
	Block    uint64 `json:"block"`
	Sequence uint32 `json:"transaction"`
	What     string `json:"what,omitempty"` // "inode table of group 0", "superblock", ...
}

// ReplayedInode is an inode whose on-disk copy the replay changes.
type ReplayedInode struct {
	Inode   uint32   `json:"inode"`
	Paths   []string `json:"paths"` // where it is named after the replay ("" none)
	Before  string   `json:"before"`
	After   string   `json:"after"`
	OldPath string   `json:"old_path,omitempty"` // its name before, when gone after
}

type jref struct {
	jblock uint64
	seq    uint32
	escape bool
}

// journalLog reads journal blocks: through the journal inode's map, or
// straight from an external journal device.
type journalLog struct {
	r      io.ReaderAt // journal block n is at n*bs
	bs     int64
	first  uint64 // s_first
	last   uint64 // one past the last log block (fast-commit area excluded)
	start  uint64 // s_start: 0 when clean
	seq    uint32 // s_sequence: the first transaction to replay
	incomp uint32
	compat uint32
	seed   uint32 // crc32c of the journal UUID
}

func (l *journalLog) csum() bool { return l.incomp&(jbdFeatureCsumV2|jbdFeatureCsumV3) != 0 }

func (l *journalLog) read(jb uint64) ([]byte, error) {
	buf := make([]byte, l.bs)
	n, err := l.r.ReadAt(buf, int64(jb)*l.bs)
	if n < len(buf) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("journal block %d: %w", jb, err)
	}
	return buf, nil
}

// wrap steps past the end of the log area back to its start.
func (l *journalLog) wrap(jb uint64) uint64 {
	if jb >= l.last {
		jb = l.first + (jb-l.first)%(l.last-l.first)
	}
	return jb
}

// openLog decodes a jbd2 superblock read at block sbBlock of r.
func openLog(r io.ReaderAt, bs int64, sbBlock uint64, size int64) (*journalLog, error) {
	l := &journalLog{r: r, bs: bs}
	b, err := l.read(sbBlock)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	if be.Uint32(b) != jbdMagic || (be.Uint32(b[4:]) != jbdSuperV1 && be.Uint32(b[4:]) != jbdSuperV2) {
		return nil, fmt.Errorf("no journal superblock at journal block %d", sbBlock)
	}
	if jbs := be.Uint32(b[0xC:]); int64(jbs) != bs {
		return nil, fmt.Errorf("journal block size %d differs from the filesystem's %d", jbs, bs)
	}
	maxlen := uint64(be.Uint32(b[0x10:]))
	l.first, l.seq, l.start = uint64(be.Uint32(b[0x14:])), be.Uint32(b[0x18:]), uint64(be.Uint32(b[0x1C:]))
	if be.Uint32(b[4:]) == jbdSuperV2 {
		l.compat, l.incomp = be.Uint32(b[0x24:]), be.Uint32(b[0x28:])
	}
	if unknown := l.incomp &^ jbdKnownIncompat; unknown != 0 {
		return nil, fmt.Errorf("journal has unknown incompatible features %#x", unknown)
	}
	l.seed = crc32c(^uint32(0), b[0x30:0x40])
	if l.csum() && crc32c(^uint32(0), append(append(append([]byte{}, b[:0xFC]...), 0, 0, 0, 0), b[0x100:1024]...)) != be.Uint32(b[0xFC:]) {
		return nil, fmt.Errorf("journal superblock checksum fails")
	}
	l.last = maxlen
	if l.incomp&jbdFeatureFastCommt != 0 {
		fc := uint64(be.Uint32(b[0x54:]))
		if fc == 0 {
			fc = 256 // JBD2_DEFAULT_FAST_COMMIT_BLOCKS
		}
		l.last -= min(fc, l.last)
	}
	l.last = min(l.last, uint64(size/bs)) // a truncated journal: the scan ends where it does
	if l.first == 0 || l.first <= sbBlock || l.first >= l.last || (l.start != 0 && (l.start < l.first || l.start >= l.last)) {
		return nil, fmt.Errorf("journal area %d..%d (start %d) impossible", l.first, l.last, l.start)
	}
	return l, nil
}

// tagBytes is journal_tag_bytes: the size of one block tag.
func (l *journalLog) tagBytes() int {
	if l.incomp&jbdFeatureCsumV3 != 0 {
		return 16
	}
	n := 12
	if l.incomp&jbdFeatureCsumV2 != 0 {
		n += 2
	}
	if l.incomp&jbdFeature64Bit == 0 {
		n -= 4
	}
	return n
}

// blockTailOK checks the crc32c tail of a descriptor or revoke block.
func (l *journalLog) blockTailOK(b []byte) bool {
	if !l.csum() {
		return true
	}
	end := len(b) - jbdTailSize
	c := crc32c(l.seed, b[:end])
	c = crc32c(c, []byte{0, 0, 0, 0})
	return c == binary.BigEndian.Uint32(b[end:])
}

type logTag struct {
	block  uint64
	flags  uint32
	csum   uint32
	jblock uint64
}

// tags decodes the block tags of a descriptor block whose first data
// block follows jb.
func (l *journalLog) tags(b []byte, jb uint64) []logTag {
	be := binary.BigEndian
	size := len(b)
	if l.csum() {
		size -= jbdTailSize
	}
	tb := l.tagBytes()
	var out []logTag
	for off := 12; off+tb <= size; {
		t := b[off:]
		tag := logTag{block: uint64(be.Uint32(t))}
		if l.incomp&jbdFeatureCsumV3 != 0 {
			tag.flags, tag.csum = be.Uint32(t[4:]), be.Uint32(t[12:])
		} else {
			tag.flags, tag.csum = uint32(be.Uint16(t[6:])), uint32(be.Uint16(t[4:]))
		}
		if l.incomp&jbdFeature64Bit != 0 {
			tag.block |= uint64(be.Uint32(t[8:])) << 32
		}
		jb = l.wrap(jb + 1)
		tag.jblock = jb
		out = append(out, tag)
		off += tb
		if tag.flags&jbdFlagSameUUID == 0 {
			off += 16
		}
		if tag.flags&jbdFlagLastTag != 0 {
			break
		}
	}
	return out
}

// dataOK checks a logged block against its tag's checksum (v2: the low
// 16 bits) over the bytes as logged.
func (l *journalLog) dataOK(tag logTag, seq uint32, data []byte) bool {
	if !l.csum() {
		return true
	}
	var s [4]byte
	binary.BigEndian.PutUint32(s[:], seq)
	c := crc32c(crc32c(l.seed, s[:]), data)
	if l.incomp&jbdFeatureCsumV3 != 0 {
		return c == tag.csum
	}
	return c&0xFFFF == tag.csum
}

// commitOK checks a commit block: crc32c of the block with its checksum
// zeroed (v2/v3), or the crc32 of the transaction's blocks (v1).
func (l *journalLog) commitOK(b []byte, v1sum uint32) bool {
	be := binary.BigEndian
	switch {
	case l.csum():
		c := crc32c(l.seed, b[:16])
		c = crc32c(c, []byte{0, 0, 0, 0})
		c = crc32c(c, b[20:])
		return c == be.Uint32(b[16:])
	case l.compat&jbdCompatChecksum != 0 && b[12] == 1 && b[13] == 4: // JBD2_CRC32_CHKSUM
		return v1sum == be.Uint32(b[16:])
	}
	return true
}

var crc32BE = func() *[256]uint32 {
	var t [256]uint32
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return &t
}()

// crc32Big is the kernel's crc32_be, which journal checksum v1 uses.
func crc32Big(c uint32, p []byte) uint32 {
	for _, b := range p {
		c = c<<8 ^ crc32BE[byte(c>>24)^b]
	}
	return c
}

type logTransaction struct {
	seq     uint32
	tags    []logTag
	revokes []uint64
}

// scan reads the log from s_start and returns its complete transactions
// and why the log ends there. It reads at most the whole log once.
func (l *journalLog) scan() ([]logTransaction, string) {
	be := binary.BigEndian
	var txs []logTransaction
	cur := logTransaction{seq: l.seq}
	v1sum := ^uint32(0)
	jb := l.start
	for steps := uint64(0); steps < l.last-l.first; steps++ {
		b, err := l.read(jb)
		if err != nil {
			return txs, err.Error()
		}
		if be.Uint32(b) != jbdMagic || be.Uint32(b[8:]) != cur.seq {
			return txs, fmt.Sprintf("journal block %d holds no block of transaction %d", jb, cur.seq)
		}
		switch be.Uint32(b[4:]) {
		case jbdDescriptor:
			if !l.blockTailOK(b) {
				return txs, fmt.Sprintf("descriptor block %d of transaction %d fails its checksum", jb, cur.seq)
			}
			v1sum = crc32Big(v1sum, b)
			tags := l.tags(b, jb)
			for _, t := range tags {
				if l.compat&jbdCompatChecksum != 0 {
					d, err := l.read(t.jblock)
					if err != nil {
						return txs, err.Error()
					}
					v1sum = crc32Big(v1sum, d)
				}
			}
			cur.tags = append(cur.tags, tags...)
			jb = l.wrap(jb + uint64(len(tags)) + 1)
			steps += uint64(len(tags))
		case jbdRevoke:
			if !l.blockTailOK(b) {
				return txs, fmt.Sprintf("revoke block %d of transaction %d fails its checksum", jb, cur.seq)
			}
			cur.revokes = append(cur.revokes, l.revokes(b)...)
			jb = l.wrap(jb + 1)
		case jbdCommit:
			if !l.commitOK(b, v1sum) {
				return txs, fmt.Sprintf("commit block %d of transaction %d fails its checksum", jb, cur.seq)
			}
			txs = append(txs, cur)
			cur = logTransaction{seq: cur.seq + 1}
			v1sum = ^uint32(0)
			jb = l.wrap(jb + 1)
		default:
			return txs, fmt.Sprintf("journal block %d has unknown type %d", jb, be.Uint32(b[4:]))
		}
	}
	return txs, "the log wraps onto itself"
}

// revokes decodes a revoke block's records.
func (l *journalLog) revokes(b []byte) []uint64 {
	be := binary.BigEndian
	n := int(be.Uint32(b[12:]))
	limit := len(b)
	if l.csum() {
		limit -= jbdTailSize
	}
	n = min(n, limit)
	rec := 4
	if l.incomp&jbdFeature64Bit != 0 {
		rec = 8
	}
	var out []uint64
	for off := 16; off+rec <= n; off += rec {
		if rec == 8 {
			out = append(out, be.Uint64(b[off:]))
		} else {
			out = append(out, uint64(be.Uint32(b[off:])))
		}
	}
	return out
}

// replay works out the view: which filesystem blocks come from which
// journal block.
func (l *journalLog) replay(fs *FS) *Replay {
	rp := &Replay{refs: map[uint64]jref{}, log: l}
	if l.start == 0 {
		rp.EndReason = "the journal is empty (clean)"
		return rp
	}
	txs, end := l.scan()
	rp.EndReason = end
	revoked := map[uint64]uint32{}
	for _, tx := range txs {
		for _, b := range tx.revokes {
			if s, ok := revoked[b]; !ok || int32(tx.seq-s) > 0 {
				revoked[b] = tx.seq
			}
		}
	}
	rp.Transactions = len(txs)
	if len(txs) > 0 {
		rp.FirstSeq, rp.LastSeq = txs[0].seq, txs[len(txs)-1].seq
	}
	revokedSet := map[uint64]bool{}
	for _, tx := range txs {
		for _, t := range tx.tags {
			if s, ok := revoked[t.block]; ok && int32(s-tx.seq) >= 0 {
				revokedSet[t.block] = true
				continue
			}
			if t.block >= fs.SB.BlocksCount {
				rp.Skipped = append(rp.Skipped, fmt.Sprintf("transaction %d logs block %d, beyond the filesystem", tx.seq, t.block))
				continue
			}
			if l.csum() {
				d, err := l.read(t.jblock)
				if err != nil || !l.dataOK(t, tx.seq, d) {
					rp.Skipped = append(rp.Skipped, fmt.Sprintf("transaction %d: the copy of block %d (journal block %d) fails its checksum", tx.seq, t.block, t.jblock))
					continue
				}
			}
			rp.refs[t.block] = jref{jblock: t.jblock, seq: tx.seq, escape: t.flags&jbdFlagEscape != 0}
		}
	}
	for b := range revokedSet {
		if _, replayed := rp.refs[b]; !replayed {
			rp.Revoked = append(rp.Revoked, b)
		}
	}
	sort.Slice(rp.Revoked, func(i, j int) bool { return rp.Revoked[i] < rp.Revoked[j] })
	meta := fs.metaMap()
	for b, ref := range rp.refs {
		rp.Blocks = append(rp.Blocks, ReplayedBlock{Block: b, Sequence: ref.seq, What: meta.role(fs, b)})
	}
	sort.Slice(rp.Blocks, func(i, j int) bool { return rp.Blocks[i].Block < rp.Blocks[j].Block })
	return rp
}

// metaMap locates the metadata blocks the descriptors name, so that a
// replayed block is named without a pass over every group.
type metaMap struct {
	tables  []tableRange // sorted by start
	bitmaps map[uint64]string
}

type tableRange struct {
	start, end uint64 // blocks [start, end)
	group      uint32
}

func (fs *FS) metaMap() *metaMap {
	m := &metaMap{bitmaps: map[uint64]string{}}
	itBlocks := (uint64(fs.SB.InodesPerGroup)*uint64(fs.SB.InodeSize) + uint64(fs.bs) - 1) / uint64(fs.bs)
	for g, gd := range fs.groups {
		m.tables = append(m.tables, tableRange{gd.inodeTable, gd.inodeTable + itBlocks, uint32(g)})
		m.bitmaps[gd.blockBitmap] = fmt.Sprintf("block bitmap of group %d", g)
		m.bitmaps[gd.inodeBitmap] = fmt.Sprintf("inode bitmap of group %d", g)
	}
	sort.Slice(m.tables, func(i, j int) bool { return m.tables[i].start < m.tables[j].start })
	return m
}

// table returns the inode table holding block b, if any.
func (m *metaMap) table(b uint64) (tableRange, bool) {
	i := sort.Search(len(m.tables), func(i int) bool { return m.tables[i].start > b }) - 1
	if i >= 0 && b < m.tables[i].end {
		return m.tables[i], true
	}
	return tableRange{}, false
}

// role names the metadata block b holds, "" for data or unknown.
func (m *metaMap) role(fs *FS, b uint64) string {
	if b == fs.SB.superBlockOf(0) || (fs.bs > 1024 && b == 0) {
		return "superblock"
	}
	if t, ok := m.table(b); ok {
		return fmt.Sprintf("inode table of group %d", t.group)
	}
	perBlock := uint64(fs.bs) / uint64(fs.SB.GroupDescSize())
	if first := fs.SB.superBlockOf(0) + 1; b >= first && b < first+(uint64(len(fs.groups))+perBlock-1)/perBlock {
		return "group descriptors"
	}
	return m.bitmaps[b]
}

// replayView is the device as it reads after the replay: the blocks the
// journal holds newer copies of come from the journal.
type replayView struct {
	base io.ReaderAt
	bs   int64
	rp   *Replay
}

// MapOffset lets errors trace a byte the journal did not replace down to
// the device below (blockdev.Trace); replayed bytes live in the journal.
func (v *replayView) MapOffset(off int64) (blockdev.Device, int64, bool) {
	base, ok := v.base.(blockdev.Device)
	if _, replayed := v.rp.refs[uint64(off/v.bs)]; !ok || replayed || off < 0 {
		return nil, 0, false
	}
	return base, off, true
}

// Name is the device's: errors name the device the filesystem is on.
func (v *replayView) Name() string {
	if n, ok := v.base.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}

func (v *replayView) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("journal replay view: negative offset %d", off)
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		blk := uint64(pos / v.bs)
		in := pos % v.bs
		chunk := min(int64(len(p)-done), v.bs-in)
		ref, ok := v.rp.refs[blk]
		if !ok {
			// Read the unreplayed run up to the next replayed block at once.
			for chunk < int64(len(p)-done) {
				if _, next := v.rp.refs[uint64((pos+chunk)/v.bs)]; next {
					break
				}
				chunk = min(int64(len(p)-done), chunk+v.bs)
			}
			n, err := v.base.ReadAt(p[done:done+int(chunk)], pos)
			done += n
			if err != nil {
				return done, err
			}
			continue
		}
		b, err := v.rp.log.read(ref.jblock)
		if err != nil {
			return done, err
		}
		if ref.escape {
			binary.BigEndian.PutUint32(b, jbdMagic)
		}
		done += copy(p[done:done+int(chunk)], b[in:])
	}
	return done, nil
}

// journalDevSuperblock checks the ext superblock of an external journal
// device against the filesystem that names it.
func journalDevSuperblock(dev io.ReaderAt, fs *FS) error {
	jsb, err := ReadJournalDevice(dev, PrimaryOffset)
	switch {
	case err != nil:
		return fmt.Errorf("journal device: %w", err)
	case jsb == nil:
		return fmt.Errorf("journal device: no external journal superblock at %d", PrimaryOffset)
	case int64(jsb.BlockSize()) != fs.bs:
		return fmt.Errorf("journal device: block size %d, the filesystem's is %d", jsb.BlockSize(), fs.bs)
	case jsb.UUID != fs.SB.JournalUUID:
		return fmt.Errorf("journal device: UUID %s, the filesystem wants %s", jsb.UUIDString(), formatUUID(fs.SB.JournalUUID))
	}
	return nil
}

// openJournalLog finds the journal: the external device given, or the
// journal inode.
func (fs *FS) openJournalLog(opts Options) (*journalLog, string, error) {
	if fs.SB.FeatureCompat&compatHasJournal == 0 {
		return nil, "", fmt.Errorf("no journal")
	}
	if fs.SB.JournalInum == 0 {
		if opts.JournalDevice == nil {
			return nil, "", fmt.Errorf("the journal is on an external device (UUID %s): name it with --journal-device", formatUUID(fs.SB.JournalUUID))
		}
		if err := journalDevSuperblock(opts.JournalDevice, fs); err != nil {
			return nil, "", err
		}
		sbBlock := uint64(PrimaryOffset/fs.bs) + 1 // the block after the one holding the ext superblock
		l, err := openLog(opts.JournalDevice, fs.bs, sbBlock, opts.JournalDeviceSize)
		return l, "external journal device", err
	}
	in, err := fs.Inode(fs.SB.JournalInum)
	if err != nil {
		return nil, "", err
	}
	r, err := fs.Reader(in)
	if err != nil {
		return nil, "", err
	}
	l, err := openLog(r, fs.bs, 0, r.Size())
	return l, fmt.Sprintf("inode %d", in.Num), err
}

// withJournal returns the filesystem as it reads after replaying its
// journal in memory. A kernel mount replays when the superblock says the
// journal needs recovery; e2fsck -fy also replays a journal that holds
// committed transactions when the superblock in use does not say so (a
// backup copy, written before the journal was last used), and so does
// holmes, saying why. When the journal cannot be replayed, fs is returned
// with the reason in Problems.
func (fs *FS) withJournal(opts Options) *FS {
	needed := fs.SB.FeatureIncompat&incompatRecover != 0
	if !needed && fs.SB.FeatureCompat&compatHasJournal == 0 {
		return fs
	}
	l, where, err := fs.openJournalLog(opts)
	if !needed && (err != nil || l.start == 0) {
		return fs // a clean journal, or none to read where nothing asks for one
	}
	if err != nil {
		fs.journalNote = "the journal needs recovery but cannot be replayed (" + err.Error() + "): the on-disk state is read, without its latest changes"
		return fs
	}
	rp := l.replay(fs)
	rp.Journal, rp.onDisk = where, fs
	view := &replayView{base: fs.r, bs: fs.bs, rp: rp}
	sb, err := ReadSuperblock(view, fs.SB.Offset)
	if err == nil && fs.SB.GroupFromPlace {
		err = fmt.Errorf("the copy now says group %d", sb.BlockGroupNr)
		if sb.AdoptOldBackup() {
			err = nil
		}
	}
	var replayed *FS
	if err == nil {
		replayed, err = openWith(view, fs.size, sb)
	}
	if err != nil {
		fs.journalNote = "the journal needs recovery, but the replayed filesystem does not open (" + err.Error() + "): the on-disk state is read"
		return fs
	}
	replayed.Choice, replayed.Replay = fs.Choice, rp
	why := ""
	if !needed {
		why = "the superblock in use does not ask for recovery, but the journal holds committed transactions; as e2fsck -fy does, "
	}
	replayed.journalNote = why + fmt.Sprintf("the journal (%s) was replayed in memory, never on the device: %d transactions (%d..%d), %d blocks replaced, %d revoked; the log ends because %s (--no-journal reads the on-disk state)",
		where, rp.Transactions, rp.FirstSeq, rp.LastSeq, len(rp.Blocks), len(rp.Revoked), rp.EndReason)
	return replayed
}

// JournalState says whether the journal was replayed, and why not.
func (fs *FS) JournalState() string {
	switch {
	case fs.journalNote != "":
		return fs.journalNote
	case fs.SB.FeatureIncompat&incompatRecover != 0:
		return "the journal needs recovery: its latest changes are not applied here (--no-journal)"
	case fs.SB.FeatureCompat&compatHasJournal == 0:
		return "no journal"
	}
	return "the journal is clean: nothing to replay"
}

// OnDisk is the filesystem as the device holds it, before the replay
// (the same FS when nothing was replayed).
func (fs *FS) OnDisk() *FS {
	if fs.Replay == nil {
		return fs
	}
	return fs.Replay.onDisk
}

// maxReplayPaths bounds the directory walk that names changed inodes.
const maxReplayPaths = 1 << 20

// ReplayChanges fills Replay.Inodes: every inode whose on-disk copy the
// replay changes, what it was and is, and its paths after (or before,
// when the replay removed it).
func (fs *FS) ReplayChanges() (*Replay, error) {
	rp := fs.Replay
	if rp == nil {
		return nil, fmt.Errorf("ext: nothing was replayed")
	}
	old := rp.onDisk
	isz := int64(fs.SB.InodeSize)
	var changed []uint32
	meta := fs.metaMap()
	for _, b := range rp.Blocks {
		t, ok := meta.table(b.Block)
		if !ok {
			continue
		}
		g := t.group
		first := g*fs.SB.InodesPerGroup + 1 + uint32(int64(b.Block-t.start)*fs.bs/isz)
		for i := uint32(0); i < uint32(fs.bs/isz); i++ {
			n := first + i
			if n > fs.SB.InodesCount || n >= (g+1)*fs.SB.InodesPerGroup+1 {
				break
			}
			a, errA := old.Inode(n)
			c, errC := fs.Inode(n)
			// Inodes used and freed within the replayed transactions
			// (unused before and after) are left out.
			if errA == nil && errC == nil && string(a.raw) != string(c.raw) && (a.InUse() || c.InUse()) {
				changed = append(changed, n)
			}
		}
	}
	after, before := fs.inodePaths(), old.inodePaths()
	index := map[uint64]int{}
	for i, b := range rp.Blocks {
		index[b.Block] = i
	}
	rp.Inodes = rp.Inodes[:0]
	for _, n := range changed {
		a, _ := old.Inode(n)
		c, _ := fs.Inode(n)
		if len(after[n]) > 0 {
			fs.nameReplayedBlocks(c, after[n][0], index)
		}
		ri := ReplayedInode{Inode: n, Paths: after[n], Before: inodeSummary(a), After: inodeSummary(c)}
		if len(ri.Paths) == 0 && len(before[n]) > 0 {
			ri.OldPath = before[n][0]
		}
		if ri.Paths == nil {
			ri.Paths = []string{}
		}
		rp.Inodes = append(rp.Inodes, ri)
	}
	return rp, nil
}

// nameReplayedBlocks names the replayed blocks that hold the directory
// entries or the block map of inode in, at path p.
func (fs *FS) nameReplayedBlocks(in *Inode, p string, index map[uint64]int) {
	if !in.InUse() {
		return
	}
	m, err := fs.Map(in)
	if err != nil {
		return
	}
	for _, b := range m.Meta {
		if i, ok := index[b]; ok && fs.Replay.Blocks[i].What == "" {
			fs.Replay.Blocks[i].What = "block map of " + p
		}
	}
	if !in.IsDir() {
		return
	}
	for _, r := range m.Runs {
		for b := r.Physical; b < r.Physical+r.Len; b++ {
			if i, ok := index[b]; ok && fs.Replay.Blocks[i].What == "" {
				fs.Replay.Blocks[i].What = "directory " + p
			}
		}
	}
}

// inodePaths names inodes by walking the tree from the root.
func (fs *FS) inodePaths() map[uint32][]string {
	out := map[uint32][]string{RootIno: {"/"}}
	matches, _, _ := fs.Find([]string{"/"}, "*")
	for i, m := range matches {
		if i >= maxReplayPaths {
			break
		}
		out[m.Inode] = append(out[m.Inode], m.Path)
	}
	return out
}

// inodeSummary is one line about an inode for the replay report.
func inodeSummary(in *Inode) string {
	if !in.InUse() {
		return "unused"
	}
	parts := []string{in.TypeName(), fmt.Sprintf("%d bytes", in.Size), fmt.Sprintf("%d links", in.Links), "mtime " + in.Mtime.Format("2006-01-02 15:04:05")}
	return strings.Join(parts, ", ")
}
