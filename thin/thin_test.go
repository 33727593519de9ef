package thin

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
	"holmes/pdata"
	"holmes/pdata/pdatatest"
)

// lab is the thin lab (testdata/lab/lvm-thin.sh): the pool's metadata as
// bytes, and its data LV on the PV image, both where the kernel's dm
// tables put them.
type lab struct {
	meta []byte
	data blockdev.Device
}

func openLab(t testing.TB) *lab {
	t.Helper()
	img, err := blockdev.OpenFile(fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/thin/pve.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	table := func(name string) (start, length int64) {
		text, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/thin/record/dmsetup-table.txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(text), "\n") {
			f := strings.Fields(line)
			if len(f) == 6 && f[0] == name+":" && f[3] == "linear" {
				length, _ = strconv.ParseInt(f[2], 10, 64)
				start, _ = strconv.ParseInt(f[5], 10, 64)
				return start * 512, length * 512
			}
		}
		t.Fatalf("no linear table for %s", name)
		return 0, 0
	}
	off, n := table("pve-data_tmeta")
	meta := make([]byte, n)
	if _, err := img.ReadAt(meta, off); err != nil {
		t.Fatal(err)
	}
	off, n = table("pve-data_tdata")
	data, err := blockdev.Slice(img, off, n, "pve/data_tdata")
	if err != nil {
		t.Fatal(err)
	}
	return &lab{meta: meta, data: data}
}

func (l *lab) pool(t testing.TB) *Pool {
	t.Helper()
	p, err := Open(&fixture.Mem{B: l.meta, N: "pve/data_tmeta"}, int64(len(l.meta)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dumped is thin_dump's XML.
type dumped struct {
	UUID          string `xml:"uuid,attr"`
	Time          uint32 `xml:"time,attr"`
	Transaction   uint64 `xml:"transaction,attr"`
	Flags         uint32 `xml:"flags,attr"`
	Version       uint32 `xml:"version,attr"`
	DataBlockSize uint32 `xml:"data_block_size,attr"`
	NrDataBlocks  uint64 `xml:"nr_data_blocks,attr"`
	Devices       []struct {
		ID           uint64 `xml:"dev_id,attr"`
		MappedBlocks uint64 `xml:"mapped_blocks,attr"`
		Transaction  uint64 `xml:"transaction,attr"`
		CreationTime uint32 `xml:"creation_time,attr"`
		SnapTime     uint32 `xml:"snap_time,attr"`
		Ranges       []struct {
			Origin uint64 `xml:"origin_begin,attr"`
			Data   uint64 `xml:"data_begin,attr"`
			Length uint64 `xml:"length,attr"`
			Time   uint32 `xml:"time,attr"`
		} `xml:"range_mapping"`
		Singles []struct {
			Origin uint64 `xml:"origin_block,attr"`
			Data   uint64 `xml:"data_block,attr"`
			Time   uint32 `xml:"time,attr"`
		} `xml:"single_mapping"`
	} `xml:"device"`
}

// blockMap expands runs to virtual block -> "data/time".
func blockMap(runs []Run) map[uint64]string {
	m := map[uint64]string{}
	for _, r := range runs {
		for i := range r.Length {
			m[r.Origin+i] = fmt.Sprintf("%d/%d", r.Data+i, r.Time)
		}
	}
	return m
}

// The same superblock, devices and block mappings as thin_dump printed
// from the same metadata.
func TestPoolAgreesWithThinDump(t *testing.T) {
	p := openLab(t).pool(t)
	if !p.Super.ChecksumOK || len(p.Problems) > 0 {
		t.Fatalf("checksum ok %v, problems %v", p.Super.ChecksumOK, p.Problems)
	}
	text, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/thin/record/thin_dump.xml"))
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstDump(t, p, text)
}

// checkAgainstDump compares a pool with thin_dump's XML of it (whose
// nr_data_blocks is the superblock's data space map size: 0 in a metadata
// snapshot).
func checkAgainstDump(t *testing.T, p *Pool, text []byte) {
	t.Helper()
	var want dumped
	if err := xml.Unmarshal(text, &want); err != nil {
		t.Fatal(err)
	}
	sb := p.Super
	if sb.Time != want.Time || sb.TransactionID != want.Transaction || sb.Flags != want.Flags || sb.Version != want.Version ||
		sb.DataBlockSize != want.DataBlockSize || sb.DataSpaceMap.NrBlocks != want.NrDataBlocks {
		t.Errorf("superblock %+v, thin_dump %+v", sb, want)
	}
	if len(p.Devices) != len(want.Devices) || len(want.Devices) < 5 {
		t.Fatalf("%d devices, thin_dump %d", len(p.Devices), len(want.Devices))
	}
	for i, wd := range want.Devices {
		d := p.Devices[i]
		det := d.Details
		if d.ID != wd.ID || det == nil || det.MappedBlocks != wd.MappedBlocks || det.TransactionID != wd.Transaction ||
			det.CreationTime != wd.CreationTime || det.SnapTime != wd.SnapTime || !d.HasRoot {
			t.Errorf("device %d: %+v %+v, thin_dump %+v", d.ID, d, det, wd)
			continue
		}
		var runs []Run
		for _, r := range wd.Ranges {
			runs = append(runs, Run{r.Origin, r.Data, r.Length, r.Time})
		}
		for _, s := range wd.Singles {
			runs = append(runs, Run{s.Origin, s.Data, 1, s.Time})
		}
		m := p.Map(d.ID)
		got, exp := blockMap(m.Runs), blockMap(runs)
		if len(m.Lost) > 0 || len(got) != len(exp) {
			t.Errorf("device %d: %d blocks mapped, lost %v; thin_dump %d", d.ID, len(got), m.Lost, len(exp))
		}
		for v, x := range exp {
			if got[v] != x {
				t.Errorf("device %d block %d: %q, thin_dump %q", d.ID, v, got[v], x)
				break
			}
		}
	}
}

// Mapped, exclusive and shared blocks as thin_ls counts them.
func TestUsageAgreesWithThinLs(t *testing.T) {
	p := openLab(t).pool(t)
	f, err := os.Open(fixture.Repo(t, "testdata/lvm/thin/record/thin_ls.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	survey := map[uint64]DeviceReport{}
	for _, d := range p.Survey() {
		survey[d.ID] = d
	}
	rows := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		c := strings.Fields(sc.Text())
		if len(c) != 7 || c[0] == "DEV" {
			continue
		}
		var n [7]uint64
		for i, s := range c {
			n[i], _ = strconv.ParseUint(s, 10, 64)
		}
		rows++
		d, ok := survey[n[0]]
		if !ok {
			t.Errorf("thin_ls lists device %d, holmes does not", n[0])
			continue
		}
		u := d.Usage
		if u.Mapped != n[1] || u.Exclusive != n[2] || u.Shared != n[3] || d.Details.TransactionID != n[4] ||
			uint64(d.Details.CreationTime) != n[5] || uint64(d.Details.SnapTime) != n[6] {
			t.Errorf("device %d: %+v %+v, thin_ls %v", n[0], u, d.Details, c)
		}
	}
	if rows != len(survey) {
		t.Errorf("thin_ls lists %d devices, holmes %d", rows, len(survey))
	}
}

// The kernel's checksums: a block's crc32c from byte 4 with the kind's seed.
func TestChecksumSeeds(t *testing.T) {
	l := openLab(t)
	if got, want := pdata.Checksum(l.meta[:BlockSize], superblockXor), binary.LittleEndian.Uint32(l.meta); got != want {
		t.Errorf("superblock checksum %08x, on disk %08x", got, want)
	}
	if !ProbeSuperblock(l.meta) || ProbeSuperblock(l.meta[BlockSize:]) {
		t.Error("probe")
	}
}

// A damaged leaf costs only what it mapped: the device whose mapping tree
// it was reads as lost (an error, never zeros), the others read as before.
func TestDamagedLeaf(t *testing.T) {
	l := openLab(t)
	good := l.pool(t)
	const victim = 2 // www
	root := good.Device(victim).Root
	meta := bytes.Clone(l.meta)
	meta[root*BlockSize+100] ^= 0xff // in memory only
	p, err := Open(&fixture.Mem{B: meta, N: "damaged"}, int64(len(meta)))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range good.Devices {
		m := p.Map(d.ID)
		if d.ID == victim {
			if len(m.Runs) != 0 || len(m.Lost) != 1 || m.Lost[0] != (Lost{0, math.MaxUint64}) ||
				len(m.Problems) != 1 || !strings.Contains(m.Problems[0].String(), "bad checksum") || m.Problems[0].Block != root {
				t.Errorf("victim: %+v", m)
			}
			continue
		}
		if want := good.Map(d.ID); fmt.Sprint(m) != fmt.Sprint(want) {
			t.Errorf("device %d: %+v, undamaged %+v", d.ID, m, want)
		}
	}
	v, err := p.OpenVolume(victim, l.data, 12<<20, "pve/www")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	if _, err := v.ReadAt(buf, 0); !errors.Is(err, ErrLost) {
		t.Errorf("read of a lost block: %v", err)
	}
}

// Node pointers outside the metadata device and cycles are reported with
// the keys they hide; the rest of the tree still maps. The top-level
// mapping tree is replaced by an internal node (in a free block) over the
// real leaf, itself, and a block past the device.
func TestCycleAndOutside(t *testing.T) {
	l := openLab(t)
	good := l.pool(t)
	meta := bytes.Clone(l.meta)
	free := uint64(len(meta)/BlockSize - 1)
	nb := uint64(len(meta) / BlockSize)
	pdatatest.PutNode(meta, free, pdata.NodeInternal, 8, []uint64{0, 1000, 2000}, [][]byte{pdatatest.U64(good.Super.MappingRoot), pdatatest.U64(free), pdatatest.U64(nb + 5)})
	binary.LittleEndian.PutUint64(meta[offSbMappingRoot:], free)
	binary.LittleEndian.PutUint32(meta, pdata.Checksum(meta[:BlockSize], superblockXor))
	p, err := Open(&fixture.Mem{B: meta, N: "crafted"}, int64(len(meta)))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Problems) != 2 || !strings.Contains(p.Problems[0].Msg, "second time") || p.Problems[0].Lo != 1000 || p.Problems[0].Hi != 1999 ||
		!strings.Contains(p.Problems[1].Msg, "outside the metadata device") || p.Problems[1].Hi != math.MaxUint64 {
		t.Errorf("problems %v", p.Problems)
	}
	for _, d := range good.Devices {
		if got := p.Device(d.ID); got == nil || !got.HasRoot || got.Root != d.Root {
			t.Errorf("device %d: %+v", d.ID, got)
		}
	}
}

// The thin volume reads mapped blocks from the data device and holes as
// zeros; a read across both is split right.
func TestVolumeReads(t *testing.T) {
	l := openLab(t)
	p := l.pool(t)
	const sparse = 4 // the over-provisioned LV: blocks 5 and 1000 written
	v, err := p.OpenVolume(sparse, l.data, 64<<20, "pve/sparse")
	if err != nil {
		t.Fatal(err)
	}
	m := v.Mapping()
	if len(m.Runs) != 2 || m.Runs[0].Origin != 5 || m.Runs[1].Origin != 1000 {
		t.Fatalf("runs %+v", m.Runs)
	}
	buf := make([]byte, 3*65536)
	if _, err := v.ReadAt(buf, 4*65536); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 65536)
	if _, err := l.data.ReadAt(want, int64(m.Runs[0].Data)*65536); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[65536:2*65536], want) || bytes.Count(buf[:65536], []byte{0}) != 65536 || bytes.Count(buf[2*65536:], []byte{0}) != 65536 {
		t.Error("hole, block 5, hole: wrong bytes")
	}
	if !bytes.HasPrefix(want, []byte("/run/thinlab/chunk line")) {
		t.Errorf("block 5 holds %q", want[:40])
	}
	if dev, off, ok := v.MapOffset(5*65536 + 7); !ok || dev != l.data || off != int64(m.Runs[0].Data)*65536+7 {
		t.Errorf("MapOffset: %v %d %v", dev, off, ok)
	}
	if _, _, ok := v.MapOffset(0); ok {
		t.Error("a hole maps somewhere")
	}
	if n, err := v.ReadAt(buf, 64<<20-100); n != 100 || err != io.EOF {
		t.Errorf("read at the end: %d %v", n, err)
	}
}

// With the device details tree damaged, the devices are still found
// through the mapping tree and read; only their details are unknown.
func TestDamagedDetails(t *testing.T) {
	l := openLab(t)
	good := l.pool(t)
	meta := bytes.Clone(l.meta)
	meta[good.Super.DetailsRoot*BlockSize+8] ^= 1 // the node's own block number
	p, err := Open(&fixture.Mem{B: meta, N: "damaged"}, int64(len(meta)))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Problems) != 1 || p.Problems[0].Tree != "device details" || !strings.Contains(p.Problems[0].Msg, "bad checksum") {
		t.Errorf("problems %v", p.Problems)
	}
	if len(p.Devices) != len(good.Devices) {
		t.Fatalf("%d devices, want %d", len(p.Devices), len(good.Devices))
	}
	for _, d := range p.Devices {
		if d.Details != nil || !d.HasRoot || fmt.Sprint(p.Map(d.ID)) != fmt.Sprint(good.Map(d.ID)) {
			t.Errorf("device %d: %+v", d.ID, d)
		}
	}
}

// A metadata snapshot, made in a copy of the lab's metadata the way the
// kernel's reserve_metadata_snap makes one (the superblock copied to a free
// block with its space map roots cleared), after which device 2's live
// mapping loses its first block (a new leaf and top-level leaf, as the
// kernel shadows them). The snapshot still maps the block; the live pool
// does not. With thin_dump installed, thin_dump -m must agree.
func TestMetadataSnapshot(t *testing.T) {
	l := openLab(t)
	good := l.pool(t)
	meta := bytes.Clone(l.meta)
	nb := uint64(len(meta) / BlockSize)
	snap, top, leaf := nb-1, nb-2, nb-3
	sb := meta[snap*BlockSize : (snap+1)*BlockSize]
	copy(sb, meta[:BlockSize])
	clear(sb[offSbDataSM:offSbMappingRoot])
	binary.LittleEndian.PutUint64(sb[offSbBlockNr:], snap)
	binary.LittleEndian.PutUint32(sb, pdata.Checksum(sb, superblockXor))

	var keys []uint64
	var vals [][]byte
	for _, r := range good.Map(2).Runs {
		for i := range r.Length {
			if r.Origin+i == 0 {
				continue
			}
			keys = append(keys, r.Origin+i)
			vals = append(vals, pdatatest.U64((r.Data+i)<<24|uint64(r.Time)))
		}
	}
	pdatatest.PutNode(meta, leaf, pdata.NodeLeaf, 8, keys, vals)
	keys, vals = nil, nil
	for _, d := range good.Devices {
		root := d.Root
		if d.ID == 2 {
			root = leaf
		}
		keys, vals = append(keys, d.ID), append(vals, pdatatest.U64(root))
	}
	pdatatest.PutNode(meta, top, pdata.NodeLeaf, 8, keys, vals)
	le := binary.LittleEndian
	le.PutUint64(meta[offSbMappingRoot:], top)
	le.PutUint64(meta[offSbHeldRoot:], snap)
	le.PutUint32(meta, pdata.Checksum(meta[:BlockSize], superblockXor))

	live, err := Open(&fixture.Mem{B: meta, N: "with-snap"}, int64(len(meta)))
	if err != nil || len(live.Problems) > 0 {
		t.Fatalf("%v %v", err, live.Problems)
	}
	if m := live.Map(2); m.Mapped() != good.Map(2).Mapped()-1 {
		t.Errorf("live device 2 maps %d blocks", m.Mapped())
	}
	ps, err := live.MetadataSnapshot()
	if err != nil || len(ps.Problems) > 0 {
		t.Fatalf("%v %v", err, ps.Problems)
	}
	for _, d := range good.Devices {
		if fmt.Sprint(ps.Map(d.ID)) != fmt.Sprint(good.Map(d.ID)) {
			t.Errorf("snapshot device %d differs from the metadata it was taken of", d.ID)
		}
	}
	if _, err := good.MetadataSnapshot(); err == nil {
		t.Error("a metadata snapshot where there is none")
	}
	if _, err := exec.LookPath("thin_dump"); err != nil {
		t.Skip("thin_dump not installed")
	}
	file := filepath.Join(t.TempDir(), "tmeta")
	os.WriteFile(file, meta, 0o444)
	out, err := exec.Command("thin_dump", "-m", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstDump(t, ps, out)
}
