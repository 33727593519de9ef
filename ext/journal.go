package ext

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// JBD2, the ext3/4 journal, is big-endian. Only what finding old copies of
// metadata blocks needs is decoded; holmes never replays the journal.
const (
	jbdMagic      = 0xC03B3998
	jbdDescriptor = 1

	jbdFeature64Bit  = 0x2
	jbdFeatureCsumV2 = 0x8
	jbdFeatureCsumV3 = 0x10

	jbdFlagEscape   = 0x1
	jbdFlagSameUUID = 0x2
	jbdFlagLastTag  = 0x8
)

// JournalCopy is a copy of a filesystem block logged in the journal.
type JournalCopy struct {
	Sequence uint32 // the transaction that logged it
	Data     []byte
}

// Journal indexes the block copies still present in the journal, from
// every descriptor block found (old transactions included: a clean
// unmount empties the journal logically, not physically).
type Journal struct {
	fs     *FS
	r      *FileReader
	first  uint64
	blocks uint64
	copies map[uint64][]journalRef // filesystem block → where logged
}

type journalRef struct {
	jblock uint64
	seq    uint32
	escape bool
}

// Journal opens the internal journal (s_journal_inum) and indexes it.
func (fs *FS) Journal() (*Journal, error) {
	if fs.SB.FeatureCompat&compatHasJournal == 0 || fs.SB.JournalInum == 0 {
		return nil, fmt.Errorf("ext: no internal journal")
	}
	in, err := fs.Inode(fs.SB.JournalInum)
	if err != nil {
		return nil, err
	}
	r, err := fs.Reader(in)
	if err != nil {
		return nil, fmt.Errorf("ext: journal: %w", err)
	}
	be := binary.BigEndian
	sb := make([]byte, fs.bs)
	if _, err := r.ReadAt(sb, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("ext: journal superblock: %w", err)
	}
	if be.Uint32(sb) != jbdMagic || (be.Uint32(sb[4:]) != 3 && be.Uint32(sb[4:]) != 4) {
		return nil, fmt.Errorf("ext: journal inode %d: no journal superblock", in.Num)
	}
	if bs := be.Uint32(sb[0xC:]); int64(bs) != fs.bs {
		return nil, fmt.Errorf("ext: journal block size %d differs from the filesystem's %d", bs, fs.bs)
	}
	j := &Journal{fs: fs, r: r, first: uint64(be.Uint32(sb[0x14:])), copies: map[uint64][]journalRef{}}
	j.blocks = min(uint64(be.Uint32(sb[0x10:])), uint64(r.Size()/fs.bs))
	if j.first == 0 || j.first >= j.blocks {
		return nil, fmt.Errorf("ext: journal: first block %d outside %d blocks", j.first, j.blocks)
	}
	j.index(be.Uint32(sb[0x28:]))
	return j, nil
}

// index reads every journal block and records the tags of each descriptor.
func (j *Journal) index(incompat uint32) {
	be := binary.BigEndian
	tagSize := 8
	switch {
	case incompat&jbdFeatureCsumV3 != 0:
		tagSize = 16
	case incompat&jbdFeature64Bit != 0:
		tagSize = 12
	}
	if incompat&jbdFeatureCsumV2 != 0 && incompat&jbdFeatureCsumV3 == 0 {
		tagSize += 2
	}
	buf := make([]byte, j.fs.bs)
	for jb := j.first; jb < j.blocks; jb++ {
		if _, err := j.r.ReadAt(buf, int64(jb)*j.fs.bs); err != nil && err != io.EOF {
			return
		}
		if be.Uint32(buf) != jbdMagic || be.Uint32(buf[4:]) != jbdDescriptor {
			continue
		}
		seq := be.Uint32(buf[8:])
		data := jb
		for off := 12; off+tagSize <= len(buf); {
			t := buf[off:]
			block := uint64(be.Uint32(t))
			var flags uint32
			if incompat&jbdFeatureCsumV3 != 0 {
				flags = be.Uint32(t[4:])
			} else {
				flags = uint32(be.Uint16(t[6:]))
			}
			if incompat&jbdFeature64Bit != 0 {
				block |= uint64(be.Uint32(t[8:])) << 32
			}
			data = j.next(data)
			j.copies[block] = append(j.copies[block], journalRef{jblock: data, seq: seq, escape: flags&jbdFlagEscape != 0})
			off += tagSize
			if flags&jbdFlagSameUUID == 0 {
				off += 16
			}
			if flags&jbdFlagLastTag != 0 {
				break
			}
		}
	}
}

// next is the journal block after jb, wrapping to the first.
func (j *Journal) next(jb uint64) uint64 {
	if jb+1 >= j.blocks {
		return j.first
	}
	return jb + 1
}

// Copies returns the journal's copies of filesystem block n, newest
// transaction first. They are history, not the current state.
func (j *Journal) Copies(n uint64) ([]JournalCopy, error) {
	refs := append([]journalRef(nil), j.copies[n]...)
	sort.SliceStable(refs, func(a, b int) bool { return int32(refs[a].seq-refs[b].seq) > 0 })
	var out []JournalCopy
	for _, ref := range refs {
		buf := make([]byte, j.fs.bs)
		if _, err := j.r.ReadAt(buf, int64(ref.jblock)*j.fs.bs); err != nil && err != io.EOF {
			return out, fmt.Errorf("ext: journal block %d: %w", ref.jblock, err)
		}
		if ref.escape {
			binary.BigEndian.PutUint32(buf, jbdMagic)
		}
		out = append(out, JournalCopy{Sequence: ref.seq, Data: buf})
	}
	return out, nil
}
