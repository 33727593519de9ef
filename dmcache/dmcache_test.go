package dmcache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
	"holmes/pdata"
)

// lab is one cached LV of the cache lab (testdata/lab/lvm-cache.sh): its
// metadata as bytes, its cache and origin devices where the kernel's dm
// tables put them, and what the kernel said.
type lab struct {
	lv            string // wb2 (metadata format 2) or wb1 (format 1)
	meta          []byte
	origin, cache blockdev.Device
}

// dmTable finds the linear dm table of NAME in the lab's record:
// the PV image (98:0 is pv-a, 98:16 pv-b) and the byte range.
func dmTable(t testing.TB, name string) (img string, start, length int64) {
	t.Helper()
	text, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/cache/record/dmsetup-table.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(text), "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && f[0] == name+":" && f[3] == "linear" {
			length, _ = strconv.ParseInt(f[2], 10, 64)
			start, _ = strconv.ParseInt(f[5], 10, 64)
			return map[string]string{"98:0": "pv-a", "98:16": "pv-b"}[f[4]], start * 512, length * 512
		}
	}
	t.Fatalf("no linear table for %s", name)
	return "", 0, 0
}

func openLab(t testing.TB, lv string) *lab {
	t.Helper()
	imgs := map[string]blockdev.Device{}
	for _, n := range []string{"pv-a", "pv-b"} {
		img, err := blockdev.OpenFile(fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/cache/"+n+".img.xz")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { img.Close() })
		imgs[n] = img
	}
	slice := func(name string) blockdev.Device {
		img, off, n := dmTable(t, name)
		d, err := blockdev.Slice(imgs[img], off, n, "cache/"+name)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	pool := "pool" + lv[2:] + "_cpool"
	l := &lab{lv: lv, origin: slice("cache-" + lv + "_corig"), cache: slice("cache-" + pool + "_cdata")}
	cmeta := slice("cache-" + pool + "_cmeta")
	l.meta = make([]byte, cmeta.Size())
	if _, err := cmeta.ReadAt(l.meta, 0); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *lab) open(t testing.TB) *Metadata {
	t.Helper()
	m, err := Open(&fixture.Mem{B: l.meta, N: "cache/" + l.lv + "_cmeta"}, int64(len(l.meta)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// dumped is cache_dump's XML.
type dumped struct {
	BlockSize   uint32 `xml:"block_size,attr"`
	CacheBlocks uint32 `xml:"nr_cache_blocks,attr"`
	Policy      string `xml:"policy,attr"`
	HintWidth   uint32 `xml:"hint_width,attr"`
	Mappings    []struct {
		CacheBlock  uint64 `xml:"cache_block,attr"`
		OriginBlock uint64 `xml:"origin_block,attr"`
		Dirty       bool   `xml:"dirty,attr"`
	} `xml:"mappings>mapping"`
}

func parseDump(t testing.TB, b []byte) *dumped {
	t.Helper()
	var d dumped
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// kernelDirty is #dirty of cache-LV in the dmsetup status the guest
// recorded just before it stopped the caches.
func kernelDirty(t testing.TB, lv string) int {
	t.Helper()
	text, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/cache/record/dmsetup-status.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(text), "\n") {
		// name: start length cache mdblock used/total cblock used/total
		// rhits rmisses whits wmisses demotions promotions dirty ...
		if f := strings.Fields(line); len(f) > 14 && f[0] == "cache-"+lv+":" && f[3] == "cache" {
			n, err := strconv.Atoi(f[14])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no dmsetup status for cache-%s", lv)
	return 0
}

func recordedSum(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/cache/record/lv-sha256.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if sum, n, ok := strings.Cut(line, "  "); ok && n == name {
			return sum
		}
	}
	t.Fatalf("no sum for %s", name)
	return ""
}

func sum(t testing.TB, d blockdev.Device) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(d, 0, d.Size()), make([]byte, 77777)); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// The superblock, every mapping and the dirty blocks are what the kernel
// and cache_dump say: the dirty count is dmsetup status's #dirty for both
// formats; the mappings are cache_dump's, and so are the dirty flags of
// format 1 (cache_dump 0.9.0 prints every format 2 mapping clean: it does
// not read the dirty bitset, which holmes does, and the kernel's count
// agrees with holmes).
func TestLabAgainstKernelAndCacheDump(t *testing.T) {
	for _, lv := range []string{"wb2", "wb1"} {
		l := openLab(t, lv)
		m := l.open(t)
		sb := m.Super
		want := map[string]uint32{"wb2": 2, "wb1": 1}[lv]
		if !sb.ChecksumOK || sb.Version != want || !sb.CleanShutdown() || sb.Policy != "smq" || sb.DataBlockSize != 128 || sb.CacheBlocks != 96 || len(m.Problems) > 0 {
			t.Fatalf("%s: %+v %v", lv, sb, m.Problems)
		}
		if err := m.Trusted(); err != nil {
			t.Error(err)
		}
		xmlText, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/cache/record/cache_dump-"+lv+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		d := parseDump(t, xmlText)
		if d.BlockSize != sb.DataBlockSize || d.CacheBlocks != sb.CacheBlocks || d.Policy != sb.Policy || d.HintWidth != sb.PolicyHintSize || len(d.Mappings) != len(m.Mappings) {
			t.Fatalf("%s: cache_dump %+v, holmes %+v with %d mappings", lv, d, sb, len(m.Mappings))
		}
		for i, dm := range d.Mappings {
			mp := m.Mappings[i]
			if mp.CacheBlock != dm.CacheBlock || mp.OriginBlock != dm.OriginBlock || (lv == "wb1" && mp.Dirty != dm.Dirty) {
				t.Errorf("%s: mapping %d: holmes %+v, cache_dump %+v", lv, i, mp, dm)
			}
		}
		dirty := m.Dirty()
		if len(dirty) == 0 || len(dirty) != kernelDirty(t, lv) || m.DirtyOnDisk != len(dirty) {
			t.Errorf("%s: %d dirty blocks (%d on disk), the kernel's dmsetup status %d", lv, len(dirty), m.DirtyOnDisk, kernelDirty(t, lv))
		}
		n := 0
		for _, r := range m.DirtyRanges() {
			n += int(r.Last - r.First + 1)
		}
		if n != len(dirty) {
			t.Errorf("%s: dirty ranges %v cover %d blocks, not %d", lv, m.DirtyRanges(), n, len(dirty))
		}
	}
}

// A live cache_dump over a copy of the metadata says what the recorded one
// said (the copy in a file: cache_dump opens its input with O_DIRECT).
func TestCacheDumpLive(t *testing.T) {
	fixture.SkipComparisonInShort(t, "cache_dump")
	if _, err := exec.LookPath("cache_dump"); err != nil {
		t.Skip("cache_dump (thin-provisioning-tools) is not installed")
	}
	for _, lv := range []string{"wb2", "wb1"} {
		l := openLab(t, lv)
		path := filepath.Join(t.TempDir(), "cmeta")
		if err := os.WriteFile(path, l.meta, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("cache_dump", path).Output()
		if err != nil {
			t.Fatalf("cache_dump: %v", err)
		}
		recorded, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/cache/record/cache_dump-"+lv+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(recorded) {
			t.Errorf("%s: live cache_dump differs from the recorded one", lv)
		}
	}
}

// Read through the cache, each volume is the bytes the kernel read from the
// cached LV; its origin alone is not (the dirty blocks are only in the
// cache), and is the kernel's _corig.
func TestReadThroughMatchesKernel(t *testing.T) {
	for _, lv := range []string{"wb2", "wb1"} {
		l := openLab(t, lv)
		v, err := l.open(t).OpenVolume(l.origin, l.cache, "cache/"+lv)
		if err != nil {
			t.Fatal(err)
		}
		if got := sum(t, v); got != recordedSum(t, "cache/"+lv) {
			t.Errorf("%s: read through the cache: sha256 %s, the kernel's %s", lv, got, recordedSum(t, "cache/"+lv))
		}
		if got := sum(t, l.origin); got != recordedSum(t, "cache/"+lv+"_corig") || got == recordedSum(t, "cache/"+lv) {
			t.Errorf("%s: the origin alone: sha256 %s", lv, got)
		}
		// A dirty block lies on the cache device; an unmapped one on the origin.
		dirty := l.open(t).Dirty()[0]
		if dev, off, ok := v.MapOffset(int64(dirty.OriginBlock)*65536 + 5); !ok || dev != l.cache || off != int64(dirty.CacheBlock)*65536+5 {
			t.Errorf("%s: origin block %d maps to %v @ %d", lv, dirty.OriginBlock, dev, off)
		}
	}
}

// resum recomputes block n's checksum with the seed xor.
func resum(meta []byte, n uint64, xor uint32) {
	b := meta[n*pdata.BlockSize : (n+1)*pdata.BlockSize]
	binary.LittleEndian.PutUint32(b, pdata.Checksum(b, xor))
}

// mappingArrayBlock is the block number of the mapping array's first
// array block (its btree root is a leaf in the lab's small metadata).
func arrayBlock(t testing.TB, meta []byte, root uint64) uint64 {
	t.Helper()
	node := meta[root*pdata.BlockSize:]
	if binary.LittleEndian.Uint32(node[4:]) != pdata.NodeLeaf {
		t.Fatalf("block %d is not a leaf", root)
	}
	max := binary.LittleEndian.Uint32(node[20:])
	return binary.LittleEndian.Uint64(node[pdata.NodeHeaderSize+8*int(max):])
}

// Damage crafted from the real metadata gives the reasons, with where.
func TestDamagedMetadata(t *testing.T) {
	l := openLab(t, "wb2")
	good := l.open(t)
	copyMeta := func() []byte { return append([]byte(nil), l.meta...) }
	open := func(meta []byte) (*Metadata, error) {
		return Open(&fixture.Mem{B: meta, N: "crafted"}, int64(len(meta)))
	}

	// Not a clean shutdown: every mapped block counts as dirty, as the
	// kernel would count them; the volume still reads (the mappings are
	// the last committed ones).
	meta := copyMeta()
	binary.LittleEndian.PutUint32(meta[offFlags:], 0)
	resum(meta, 0, superblockXor)
	m, err := open(meta)
	if err != nil || len(m.Dirty()) != len(m.Mappings) || m.DirtyOnDisk != len(good.Dirty()) || m.Trusted() != nil {
		t.Errorf("unclean: %v, %d dirty of %d, %d on disk", err, len(m.Dirty()), len(m.Mappings), m.DirtyOnDisk)
	}

	// needs_check: refused for reading through, with the reason.
	meta = copyMeta()
	binary.LittleEndian.PutUint32(meta[offFlags:], FlagCleanShutdown|FlagNeedsCheck)
	resum(meta, 0, superblockXor)
	m, err = open(meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.OpenVolume(l.origin, l.cache, "x"); err == nil || !strings.Contains(err.Error(), "needs_check") {
		t.Errorf("needs_check: %v", err)
	}

	// A bad checksum in the superblock.
	meta = copyMeta()
	meta[offReadHits] ^= 1
	if m, err := open(meta); err != nil || len(m.Problems) != 1 || !strings.Contains(m.Problems[0].Msg, "bad checksum") || m.Trusted() == nil {
		t.Errorf("superblock checksum: %v %v", err, m.Problems)
	}

	// The mapping array's first block damaged: its entries are named,
	// and the volume is refused.
	meta = copyMeta()
	ab := arrayBlock(t, meta, good.Super.MappingRoot)
	meta[ab*pdata.BlockSize+100] ^= 0xff
	m, err = open(meta)
	if err != nil || len(m.Problems) != 1 || m.Problems[0].Tree != "mapping" || m.Problems[0].Block != ab || m.Problems[0].Lo != 0 || m.Problems[0].Hi != 95 || len(m.Mappings) != 0 {
		t.Errorf("mapping array block: %v %v", err, m.Problems)
	}
	if _, err := m.OpenVolume(l.origin, l.cache, "x"); err == nil || !strings.Contains(err.Error(), "bad checksum") {
		t.Errorf("mapping array block: volume %v", err)
	}

	// The dirty bitset's word block damaged: the bits it hides are named.
	meta = copyMeta()
	bb := arrayBlock(t, meta, good.Super.DirtyRoot)
	meta[bb*pdata.BlockSize+24] ^= 1
	m, err = open(meta)
	if err != nil || len(m.Problems) != 1 || m.Problems[0].Tree != "dirty bitset" || m.Problems[0].Hi != 95 || len(m.Mappings) != len(good.Mappings) {
		t.Errorf("dirty bitset: %v %v", err, m.Problems)
	}
	// The same with its checksum made good: one more dirty block, no problem.
	resum(meta, bb, pdata.ArrayBlockXor)
	if m, err := open(meta); err != nil || len(m.Problems) != 0 || m.DirtyOnDisk != good.DirtyOnDisk+1 && m.DirtyOnDisk != good.DirtyOnDisk-1 {
		t.Errorf("dirty bitset resummed: %v %v %d", err, m.Problems, m.DirtyOnDisk)
	}

	// Two cache blocks holding one origin block.
	meta = copyMeta()
	e0 := meta[ab*pdata.BlockSize+24:]
	copy(meta[ab*pdata.BlockSize+32:ab*pdata.BlockSize+40], e0[:8])
	resum(meta, ab, pdata.ArrayBlockXor)
	if m, err := open(meta); err != nil || len(m.Problems) != 1 || !strings.Contains(m.Problems[0].Msg, "is mapped by cache blocks 0 and 1") {
		t.Errorf("duplicate: %v %v", err, m.Problems)
	}

	// A mapping past the origin: the volume is refused.
	meta = copyMeta()
	binary.LittleEndian.PutUint64(meta[ab*pdata.BlockSize+24:], 1000<<16|mappingValid)
	resum(meta, ab, pdata.ArrayBlockXor)
	m, err = open(meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.OpenVolume(l.origin, l.cache, "x"); err == nil || !strings.Contains(err.Error(), "origin block 1000, past the origin") {
		t.Errorf("past the origin: %v", err)
	}

	// Superblock numbers no device holds, and foreign bytes: errors.
	for name, c := range map[string]struct {
		off  int
		val  uint32
		want string
	}{
		"cache blocks":  {offCacheBlocks, 1 << 31, "more than a 1280-block metadata device can map"},
		"block size":    {offDataBlock, 100, "cache block size 100 sectors"},
		"version":       {offVersion, 3, "metadata format 3"},
		"incompat":      {offIncompat, 4, "incompatible feature flags 0x4"},
		"magic":         {offMagic, 1, "not dm-cache metadata"},
		"metadata size": {offMetaBlock, 16, "metadata block size 16 sectors"},
	} {
		meta := copyMeta()
		binary.LittleEndian.PutUint32(meta[c.off:], c.val)
		resum(meta, 0, superblockXor)
		if _, err := open(meta); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := open(l.meta[:100]); err == nil || !strings.Contains(err.Error(), "less than one 4096-byte block") {
		t.Errorf("short: %v", err)
	}
}
