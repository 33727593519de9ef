package blockdev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// sfdiskPartition is one "IMG<N> : start=..., size=..., type=..." line of
// `sfdisk -d`.
type sfdiskPartition struct {
	number          int
	start, size     int64 // sectors
	typ, uuid, name string
}

// parseSfdiskDump reads `sfdisk -d` output: the label kind, whether sfdisk
// fell back to the backup GPT, and the partitions.
func parseSfdiskDump(t *testing.T, image, text string) (label string, backup bool, parts []sfdiskPartition) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "label: "):
			label = strings.TrimPrefix(line, "label: ")
		case strings.Contains(line, "backup appears OK"):
			backup = true
		case strings.HasPrefix(line, image):
			head, fields, _ := strings.Cut(line, " : ")
			n, err := strconv.Atoi(strings.TrimPrefix(head, image))
			if err != nil {
				t.Fatalf("sfdisk line %q: %v", line, err)
			}
			p := sfdiskPartition{number: n}
			for _, f := range strings.Split(fields, ", ") {
				k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
				v = strings.TrimSpace(v)
				switch k {
				case "start":
					p.start, _ = strconv.ParseInt(v, 10, 64)
				case "size":
					p.size, _ = strconv.ParseInt(v, 10, 64)
				case "type":
					p.typ = v
				case "uuid":
					p.uuid = v
				case "name":
					p.name = strings.Trim(v, `"`)
				}
			}
			parts = append(parts, p)
		}
	}
	return label, backup, parts
}

// comparePartitions checks ReadPartitionTable against what sfdisk read.
func comparePartitions(t *testing.T, what string, got *PartitionTable, label string, backup bool, want []sfdiskPartition) {
	t.Helper()
	kind := map[string]string{"dos": "mbr", "gpt": "gpt"}[label]
	if got.Kind != kind || got.BackupUsed != backup {
		t.Errorf("%s: kind %s backup %v; sfdisk: %s backup %v", what, got.Kind, got.BackupUsed, label, backup)
	}
	if len(got.Partitions) != len(want) {
		t.Fatalf("%s: %d partitions %+v; sfdisk shows %d %+v", what, len(got.Partitions), got.Partitions, len(want), want)
	}
	byNumber := map[int]Partition{}
	for _, p := range got.Partitions {
		byNumber[p.Number] = p
	}
	for _, w := range want {
		p, ok := byNumber[w.number]
		typ := strings.TrimPrefix(p.Type, "0x")
		if kind == "mbr" {
			typ = strings.TrimLeft(typ, "0")
		}
		if !ok || p.Start != w.start*512 || p.Size != w.size*512 || typ != w.typ || p.GUID != w.uuid || p.Name != w.name {
			t.Errorf("%s: partition %d = %+v; sfdisk: %+v", what, w.number, p, w)
		}
		if p.Logical != (kind == "mbr" && w.number > 4) {
			t.Errorf("%s: partition %d logical = %v", what, w.number, p.Logical)
		}
	}
}

func TestReadPartitionTableAgainstSfdisk(t *testing.T) {
	// Each fixture with the problem holmes must report ("" for none).
	for name, problem := range map[string]string{
		"mbr-logical": "", "gpt": "", "gpt-bad-primary": "backup GPT", "gpt-bad-entries": "backup GPT",
		"mbr-over-gpt": "GPT header at 512 is ignored",
	} {
		path := fixture.Unpack(t, fixture.Repo(t, "testdata/blockdev/"+name+".img.xz"))
		d, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadPartitionTable(d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		recorded, err := os.ReadFile(fixture.Repo(t, "testdata/blockdev/"+name+".sfdisk.txt"))
		if err != nil {
			t.Fatal(err)
		}
		label, backup, want := parseSfdiskDump(t, name+".img", string(recorded))
		comparePartitions(t, name, got, label, backup, want)
		if problems := strings.Join(got.Problems, "; "); (problem == "") != (problems == "") || !strings.Contains(problems, problem) {
			t.Errorf("%s: problems %q, want %q", name, problems, problem)
		}
		if _, err := exec.LookPath("sfdisk"); err == nil {
			cmd := exec.Command("sfdisk", "-d", filepath.Base(path))
			cmd.Dir = filepath.Dir(path)
			live, _ := cmd.CombinedOutput() // exit 1 with a warning for the damaged GPTs
			label, backup, want := parseSfdiskDump(t, name+".img", string(live))
			comparePartitions(t, name+" (live sfdisk)", got, label, backup, want)
		}
		d.Close()
	}
}

func TestOpenPartitionForms(t *testing.T) {
	path := fixture.Unpack(t, fixture.Repo(t, "testdata/blockdev/mbr-logical.img.xz"))
	for spec, want := range map[string][2]int64{
		path + ":p1":           {2048 * 512, 4096 * 512},
		path + ":p6":           {12288 * 512, 4096 * 512},
		path + ":p7@1M+4096":   {18432*512 + 1<<20, 4096},
		path + "@12288s+4096s": {12288 * 512, 4096 * 512},
	} {
		d, err := Open(spec, nil)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if d.Size() != want[1] {
			t.Errorf("%s: size %d, want %d", spec, d.Size(), want[1])
		}
		// The partition reads the parent's bytes at its start.
		whole, _ := OpenFile(path)
		a, b := make([]byte, 512), make([]byte, 512)
		whole.ReadAt(a, want[0])
		d.ReadAt(b, 0)
		if string(a) != string(b) {
			t.Errorf("%s: first sector differs from the parent's at %d", spec, want[0])
		}
		whole.Close()
		d.Close()
	}
	for _, spec := range []string{path + ":p4", path + ":p8"} {
		if _, err := Open(spec, nil); err == nil || !strings.Contains(err.Error(), "no partition") {
			t.Errorf("%s: error %v, want 'no partition'", spec, err)
		}
	}
}

func TestReadPartitionTableRefusesNonTables(t *testing.T) {
	dir := t.TempDir()
	garbage := make([]byte, 1<<20)
	for i := range garbage {
		garbage[i] = byte(i*31 + i>>8)
	}
	for name, data := range map[string][]byte{"garbage": garbage, "short": []byte("x"), "zeros": make([]byte, 4096)} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o444)
		d, err := OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPartitionTable(d); !errors.Is(err, ErrNoPartitionTable) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want ErrNoPartitionTable naming the device", name, err)
		}
		d.Close()
	}
}

// TestLabDisksAgainstSfdisk reads the md lab's partitioned member disks
// (MBR, GPT, logical partitions) and compares with what sfdisk -d recorded
// in the UML guest, where the disks were /dev/ubdX.
func TestLabDisksAgainstSfdisk(t *testing.T) {
	dumps, _ := filepath.Glob(filepath.Join(fixture.RepoRoot(t), "testdata/md/*/d*.sfdisk.txt"))
	if len(dumps) == 0 {
		t.Skip("no md lab disk with a recorded sfdisk dump")
	}
	for _, dump := range dumps {
		recorded, err := os.ReadFile(dump)
		if err != nil {
			t.Fatal(err)
		}
		var device string
		for _, line := range strings.Split(string(recorded), "\n") {
			if d, ok := strings.CutPrefix(line, "device: "); ok {
				device = d
			}
		}
		d, err := OpenFile(fixture.Unpack(t, strings.TrimSuffix(dump, ".sfdisk.txt")+".img.xz"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadPartitionTable(d)
		if err != nil {
			t.Fatalf("%s: %v", dump, err)
		}
		label, backup, want := parseSfdiskDump(t, device, string(recorded))
		comparePartitions(t, dump, got, label, backup, want)
		d.Close()
	}
}

// TestEBRLoop: a logical-partition chain that points back at itself is
// read once and reported, where sfdisk repeats it up to its limit.
func TestEBRLoop(t *testing.T) {
	d, err := OpenFile(fixture.Unpack(t, fixture.Repo(t, "testdata/blockdev/mbr-ebr-loop.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := ReadPartitionTable(d)
	if err != nil {
		t.Fatal(err)
	}
	var numbers []int
	for _, p := range got.Partitions {
		numbers = append(numbers, p.Number)
	}
	if fmt.Sprint(numbers) != "[1 2 3 5 6 7]" || len(got.Problems) != 1 || !strings.Contains(got.Problems[0], "loops") {
		t.Errorf("partitions %v, problems %q; want 1 2 3 5 6 7 and the loop reported", numbers, got.Problems)
	}
	recorded, err := os.ReadFile(fixture.Repo(t, "testdata/blockdev/mbr-ebr-loop.sfdisk.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, sfdisk := parseSfdiskDump(t, "mbr-ebr-loop.img", string(recorded)); len(sfdisk) <= len(numbers) {
		t.Errorf("sfdisk's recorded dump has %d partitions; the fixture no longer loops", len(sfdisk))
	}
}

// TestPartitionTableOnAnyDevice: the table is read through the Device
// interface, not a path, so it works on an assembled array or an LV; here a
// range of a range of the image file.
func TestPartitionTableOnAnyDevice(t *testing.T) {
	f, err := OpenFile(fixture.Unpack(t, fixture.Repo(t, "testdata/blockdev/gpt-bad-primary.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	outer, _ := Slice(f, 0, f.Size(), "outer")
	inner, _ := Slice(outer, 0, outer.Size(), "inner")
	got, err := ReadPartitionTable(inner)
	if err != nil || got.Kind != "gpt" || !got.BackupUsed || len(got.Partitions) != 3 {
		t.Fatalf("through slices: %+v, %v", got, err)
	}
	p, err := OpenPartition(inner, 3)
	if err != nil || p.Size() != 8192*512 || p.Name() != "inner:p3" {
		t.Errorf("partition 3 through slices: %v, %v", p, err)
	}
}

// memDevice is a device over a byte slice.
type memDevice []byte

func (d memDevice) ReadAt(p []byte, off int64) (int, error) {
	return readAtBounded(bytes.NewReader(d), int64(len(d)), p, off)
}
func (d memDevice) Size() int64  { return int64(len(d)) }
func (d memDevice) Name() string { return "mem" }
func (d memDevice) Close() error { return nil }

// TestRandomTablesNeverPanic: MBRs and EBR chains of random entries (with
// valid boot flags and extended types, so they get followed) and GPT
// headers with random counts are read without a panic, and every partition
// reported lies inside the device or is listed as a problem.
func TestRandomTablesNeverPanic(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for round := 0; round < 500; round++ {
		d := make(memDevice, 1<<20)
		for s := 0; s < len(d)/512; s += 1 + rng.Intn(64) {
			sec := d[s*512 : s*512+512]
			sec[510], sec[511] = 0x55, 0xaa
			for e := 0; e < 4; e++ {
				ent := sec[446+16*e : 462+16*e]
				ent[4] = []byte{0x05, 0x0f, 0x83, 0xfd, 0xee, 0}[rng.Intn(6)]
				binary.LittleEndian.PutUint32(ent[8:], uint32(rng.Intn(4096)))
				binary.LittleEndian.PutUint32(ent[12:], uint32(rng.Intn(1<<22)))
			}
		}
		if rng.Intn(2) == 0 {
			copy(d[512:], "EFI PART")
			binary.LittleEndian.PutUint32(d[512+80:], rng.Uint32())
			binary.LittleEndian.PutUint32(d[512+84:], rng.Uint32())
		}
		tab, err := ReadPartitionTable(d)
		if err != nil {
			continue
		}
		for _, p := range tab.Partitions {
			if p.Start < 0 || p.Size < 0 {
				t.Fatalf("round %d: partition %+v", round, p)
			}
		}
	}
}

// TestHugeGPTEntryArray: a GPT header whose CRC holds but whose entry
// array would be 4 GiB is never used: with the backup intact the backup is
// read, with both headers so damaged the device is refused, naming them.
func TestHugeGPTEntryArray(t *testing.T) {
	img, err := os.ReadFile(fixture.Unpack(t, fixture.Repo(t, "testdata/blockdev/gpt.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	inflate := func(h []byte) {
		binary.LittleEndian.PutUint32(h[80:], 1<<25) // entries
		binary.LittleEndian.PutUint32(h[84:], 128)   // bytes each
		binary.LittleEndian.PutUint32(h[16:], 0)
		binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
	}
	inflate(img[512:])
	got, err := ReadPartitionTable(memDevice(img))
	if err != nil || !got.BackupUsed || len(got.Partitions) != 3 || !strings.Contains(strings.Join(got.Problems, ";"), "impossible") {
		t.Fatalf("inflated primary: %+v, %v; want the backup used and the primary reported", got, err)
	}
	inflate(img[len(img)-512:])
	_, err = ReadPartitionTable(memDevice(img))
	if err == nil || !strings.Contains(err.Error(), "impossible") || !strings.Contains(err.Error(), "GPT header at") {
		t.Errorf("both inflated: error %v; want the entry array refused, naming the header", err)
	}
}

// An MBR in raw bytes (a solver's anchor) gives its primary partitions' starts;
// sectors that merely end in 0x55AA are no table.
func TestProbeMBR(t *testing.T) {
	mbr := func(entries ...[4]uint32) []byte { // status, type, start LBA, sectors
		b := make([]byte, 512)
		b[510], b[511] = 0x55, 0xaa
		for i, e := range entries {
			p := b[446+16*i:]
			p[0], p[4] = byte(e[0]), byte(e[1])
			binary.LittleEndian.PutUint32(p[8:], e[2])
			binary.LittleEndian.PutUint32(p[12:], e[3])
		}
		return b
	}
	for _, c := range []struct {
		what   string
		sector []byte
		want   []int64
	}{
		{"two partitions and an extended one", mbr([4]uint32{0x80, 0x83, 2048, 8192}, [4]uint32{0, 0x8e, 10240, 4096}, [4]uint32{0, 0x05, 14336, 100}), []int64{2048 * 512, 10240 * 512}},
		{"no signature", make([]byte, 512), nil},
		{"text ending in 0x55AA", func() []byte { b := mbr(); copy(b[446:], "not a partition table at all, just text"); return b }(), nil},
		{"an empty table", mbr(), nil},
		{"a partition at sector 0", mbr([4]uint32{0, 0x83, 0, 100}), nil},
		{"only a GPT's protective entry", mbr([4]uint32{0, 0xee, 1, 1000}), nil},
	} {
		got, ok := ProbeMBR(c.sector)
		if ok != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("%s: %v %v, want %v", c.what, got, ok, c.want)
		}
	}
}

// gptDisk partitions a zeroed image of size bytes with the real sfdisk.
func gptDisk(t testing.TB, size int64) []byte {
	t.Helper()
	if _, err := exec.LookPath("sfdisk"); err != nil {
		t.Skip("sfdisk not installed")
	}
	p := filepath.Join(t.TempDir(), "gpt.img")
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sfdisk", "-q", "--no-reread", "--no-tell-kernel", p)
	cmd.Stdin = strings.NewReader("label: gpt\n,2M\n,\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A GPT header in raw bytes (a solver's anchor) says where it sits on its
// disk: sfdisk's primary at sector 1, its backup in the last sector; a
// header for 4096-byte sectors at 4096; a broken CRC or the protective MBR
// is no header.
func TestProbeGPTHeader(t *testing.T) {
	const size = 8 << 20
	disk := gptDisk(t, size)
	primary, backup := disk[512:1024], disk[size-512:]
	// The primary as it would read with 4096-byte sectors: 16 KiB of
	// entries fill 4 sectors before the backup.
	big := slices.Clone(primary)
	binary.LittleEndian.PutUint64(big[48:], binary.LittleEndian.Uint64(big[32:])-5)
	clear(big[16:20])
	binary.LittleEndian.PutUint32(big[16:], crc32.ChecksumIEEE(big[:92]))
	broken := slices.Clone(backup)
	broken[40]++
	for _, c := range []struct {
		what   string
		sector []byte
		want   int64
	}{
		{"sfdisk's primary", primary, 512},
		{"sfdisk's backup", backup, size - 512},
		{"a primary with 4096-byte sectors", big, 4096},
		{"a backup with a broken CRC", broken, 0},
		{"the protective MBR", disk[:512], 0},
	} {
		got, ok := ProbeGPTHeader(c.sector)
		if ok != (c.want != 0) || got != c.want {
			t.Errorf("%s: %d %v, want %d", c.what, got, ok, c.want)
		}
	}
}

// FuzzProbeGPTHeader: any sector gives an answer or none, never a panic.
func FuzzProbeGPTHeader(f *testing.F) {
	disk := gptDisk(f, 4<<20)
	f.Add(disk[512:1024])
	f.Add(disk[len(disk)-512:])
	f.Fuzz(func(t *testing.T, b []byte) {
		if at, ok := ProbeGPTHeader(b); ok && (at < 512 || at%512 != 0) {
			t.Fatalf("header at %d", at)
		}
	})
}
