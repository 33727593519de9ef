package scan

import (
	"encoding/binary"
	"io"
	"testing"
	"time"
)

// superblocksDevice reads as zeros except for the ext superblocks placed
// on it: a crafted device of any size that costs only its superblocks.
type superblocksDevice struct {
	size int64
	at   map[int64][]byte
}

func (d superblocksDevice) ReadAt(p []byte, off int64) (int, error) {
	if off >= d.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), d.size-off))
	clear(p[:n])
	for o, b := range d.at {
		if o < off+int64(n) && o+int64(len(b)) > off {
			lo := max(o, off)
			copy(p[lo-off:n], b[lo-o:])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
func (d superblocksDevice) Size() int64  { return d.size }
func (d superblocksDevice) Name() string { return "crafted" }
func (d superblocksDevice) Close() error { return nil }

// craftedExtSuperblock is a valid primary superblock of a filesystem of
// blocks 1 KiB blocks in groups of 8, without sparse_super: a backup in
// every group.
func craftedExtSuperblock(blocks uint32) []byte {
	b := make([]byte, 1024)
	le := binary.LittleEndian
	groups := (blocks - 1 + 7) / 8
	le.PutUint32(b[0x00:], groups*8) // s_inodes_count
	le.PutUint32(b[0x04:], blocks)
	le.PutUint32(b[0x14:], 1) // s_first_data_block
	le.PutUint32(b[0x20:], 8) // s_blocks_per_group
	le.PutUint32(b[0x28:], 8) // s_inodes_per_group
	le.PutUint16(b[0x38:], 0xEF53)
	le.PutUint32(b[0x4C:], 1)  // s_rev_level
	le.PutUint32(b[0x54:], 11) // s_first_ino
	le.PutUint16(b[0x58:], 128)
	copy(b[0x68:], "crafted-uuid-123")
	return b
}

// Issue 14.6: 64 superblock copies without sparse_super, 8 blocks per
// group, on a 1 GiB device: every copy's backups were followed, 8.4M
// probes and 100 s.
func TestHostileScanOfSuperblockCopies(t *testing.T) {
	d := superblocksDevice{size: 1 << 30, at: map[int64][]byte{}}
	sb := craftedExtSuperblock(1 << 20)
	for i := range int64(64) {
		d.at[i<<20+1024] = sb // the primary of a filesystem at every MiB
	}
	start := time.Now()
	r, err := Scan(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e := time.Since(start); e > 20*time.Second {
		t.Errorf("scan took %v", e)
	}
	if r.Probed > 64*maxExtBackupsFollowed+100 {
		t.Errorf("%d probes", r.Probed)
	}
	found := 0
	for _, s := range r.Signatures {
		if s.Ext != nil && s.Ext.Group == 0 {
			found++
		}
	}
	if found != 64 {
		t.Errorf("%d primaries found, want 64", found)
	}
}
