package blockdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"sort"
	"time"

	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/diskfs/go-diskfs/partition/mbr"
)

// PartitionTable is a decoded MBR or GPT.
type PartitionTable struct {
	Kind       string `json:"kind"`                // "mbr" or "gpt"
	SectorSize int64  `json:"sector_size"`         // logical sector size the table was read with
	DiskGUID   string `json:"disk_guid,omitempty"` // GPT disk GUID
	// BackupUsed says the primary GPT was damaged and the backup at the end
	// of the device was read instead.
	BackupUsed bool `json:"backup_used"`
	// Partitions is left out of JSON: reports list partitions beside the table.
	Partitions []Partition `json:"-"`
	// Problems lists damage found while reading (a bad primary GPT, a
	// broken logical-partition chain, partitions past the device's end).
	Problems []string `json:"problems,omitempty"`
}

// Partition is one entry, numbered as Linux numbers it: MBR primaries
// 1-4, logical partitions in an extended partition 5 and up, GPT entries by
// their slot.
type Partition struct {
	Number   int    `json:"number"`
	Start    int64  `json:"start"`               // bytes from the start of the device
	Size     int64  `json:"size"`                // bytes
	Type     string `json:"type"`                // MBR: "0xfd"; GPT: the type GUID
	TypeName string `json:"type_name,omitempty"` // "Linux RAID", ... when known
	Name     string `json:"name,omitempty"`      // GPT partition name
	GUID     string `json:"guid,omitempty"`      // GPT unique partition GUID
	Extended bool   `json:"extended,omitempty"`  // an MBR extended partition (a container of logical ones)
	Logical  bool   `json:"logical,omitempty"`   // inside an extended partition
}

// ErrNoPartitionTable is returned (wrapped) when a device has neither an MBR
// signature nor a GPT header.
var ErrNoPartitionTable = errors.New("no MBR or GPT partition table")

// Bounds on what a damaged table may make us read.
const (
	maxGPTEntryBytes = 1 << 20 // 128-byte entries: 8192 of them
	maxLogical       = 256     // EBRs followed in one extended partition
)

// ReadPartitionTable reads the MBR or GPT at the start of d. A GPT whose
// primary copy is damaged is read from its backup (BackupUsed, Problems).
// Logical partitions in an extended MBR partition are found by following
// the EBR chain, which go-diskfs does not do.
func ReadPartitionTable(d Device) (*PartitionTable, error) {
	if d.Size() < 512 {
		return nil, fmt.Errorf("%s: %w (device is %d bytes)", d.Name(), ErrNoPartitionTable, d.Size())
	}
	sector0 := make([]byte, 512)
	if _, err := d.ReadAt(sector0, 0); err != nil {
		return nil, fmt.Errorf("%s: reading sector 0: %w", d.Name(), err)
	}
	hasMBR := sector0[510] == 0x55 && sector0[511] == 0xaa
	protective := hasMBR && hasProtectiveEntry(sector0)
	ss := gptSectorSize(d)
	switch {
	case protective:
		// Like Linux: a GPT is only believed behind a protective (or
		// hybrid) MBR entry; with the primary gone, the backup is read.
		return readGPT(d, max(ss, 512))
	case hasMBR:
		t, err := readMBR(d)
		if err == nil && ss > 0 {
			t.problem("a GPT header at %d is ignored: the MBR has no protective entry (a disk re-partitioned with an MBR tool?)", ss)
		}
		return t, err
	case ss > 0:
		t, err := readGPT(d, ss)
		if err == nil {
			t.problem("GPT without a protective MBR (sector 0 has no boot signature)")
		}
		return t, err
	}
	return nil, fmt.Errorf("%s: %w", d.Name(), ErrNoPartitionTable)
}

// OpenPartition returns partition n (1-based, Linux numbering) of the MBR or
// GPT on d as a slice of d.
func OpenPartition(d Device, n int) (Device, error) {
	t, err := ReadPartitionTable(d)
	if err != nil {
		return nil, err
	}
	for _, p := range t.Partitions {
		if p.Number == n {
			return Slice(d, p.Start, p.Size, fmt.Sprintf("%s:p%d", d.Name(), n))
		}
	}
	return nil, fmt.Errorf("%s: no partition %d in its %s", d.Name(), n, t.Kind)
}

// gptSectorSize finds a GPT header at LBA 1 for 512- or 4096-byte sectors;
// 0 if there is none.
func gptSectorSize(d Device) int64 {
	sig := make([]byte, 8)
	for _, ss := range []int64{512, 4096} {
		if _, err := d.ReadAt(sig, ss); err == nil && string(sig) == "EFI PART" {
			return ss
		}
	}
	return 0
}

func hasProtectiveEntry(sector0 []byte) bool {
	for i := 0; i < 4; i++ {
		if sector0[446+16*i+4] == 0xee {
			return true
		}
	}
	return false
}

func readGPT(d Device, ss int64) (*PartitionTable, error) {
	// go-diskfs allocates whatever a header with a valid CRC asks for:
	// check both headers' entry arrays against sane bounds first. An
	// impossible primary is hidden from go-diskfs, which then reads the
	// backup as it does for any damaged primary.
	last := d.Size()/ss - 1
	if err := checkGPTHeader(d, last, ss); err != nil {
		return nil, err
	}
	var view Device = d
	primaryErr := checkGPTHeader(d, 1, ss)
	if primaryErr != nil {
		view = zeroedRange{d, ss, 2 * ss}
	}
	g, err := gpt.Read(&deviceFile{d: view}, int(ss), int(ss))
	if err != nil {
		if primaryErr != nil {
			return nil, fmt.Errorf("%w; backup: %v", primaryErr, err)
		}
		return nil, fmt.Errorf("%s: GPT: %w", d.Name(), err)
	}
	t := &PartitionTable{Kind: "gpt", SectorSize: ss, DiskGUID: g.GUID, BackupUsed: g.RecoveredFromBackup}
	switch {
	case primaryErr != nil:
		t.problem("%v; partitions read from the backup GPT at %d", primaryErr, last*ss)
	case g.RecoveredFromBackup:
		t.problem("primary GPT at %d is damaged (signature or CRC); partitions read from the backup GPT at %d", ss, last*ss)
	}
	for _, p := range g.Partitions {
		if p.End < p.Start {
			t.problem("partition %d ends (LBA %d) before it starts (LBA %d)", p.Index, p.End, p.Start)
			continue
		}
		part := Partition{Number: p.Index, Type: string(p.Type), TypeName: gptTypeNames[string(p.Type)], Name: p.Name, GUID: p.GUID}
		t.addPartition(d, part, p.Start, p.End-p.Start+1, uint64(ss))
	}
	return t, nil
}

// zeroedRange reads as its device except [from, to), which reads as zeros.
type zeroedRange struct {
	Device
	from, to int64
}

func (z zeroedRange) ReadAt(p []byte, off int64) (int, error) {
	n, err := z.Device.ReadAt(p, off)
	for i := max(z.from-off, 0); i < int64(n) && off+i < z.to; i++ {
		p[i] = 0
	}
	return n, err
}

// checkGPTHeader rejects a GPT header that passes its CRC yet describes an
// entry array too large to be real or outside the device.
func checkGPTHeader(d Device, lba, ss int64) error {
	h := make([]byte, 92)
	if lba < 1 {
		return nil
	}
	if _, err := d.ReadAt(h, lba*ss); err != nil || string(h[:8]) != "EFI PART" {
		return nil // absent or unreadable: go-diskfs reports it
	}
	le := binary.LittleEndian
	stored := le.Uint32(h[16:])
	copy(h[16:20], []byte{0, 0, 0, 0})
	if le.Uint32(h[12:]) != 92 || crc32.ChecksumIEEE(h) != stored {
		return nil // go-diskfs rejects it before using its fields
	}
	entries, count, size := le.Uint64(h[72:]), uint64(le.Uint32(h[80:])), uint64(le.Uint32(h[84:]))
	if size < 128 || count*size > maxGPTEntryBytes || entries > uint64(d.Size()/ss) {
		return fmt.Errorf("%s: GPT header at %d: entry array of %d x %d bytes at LBA %d is impossible", d.Name(), lba*ss, count, size, entries)
	}
	return nil
}

func readMBR(d Device) (*PartitionTable, error) {
	m, err := mbr.Read(&deviceFile{d: d}, 512, 512)
	if err != nil {
		return nil, fmt.Errorf("%s: MBR: %w", d.Name(), err)
	}
	t := &PartitionTable{Kind: "mbr", SectorSize: 512}
	for _, p := range m.Partitions {
		if p.Type == mbr.Empty || p.Size == 0 {
			continue
		}
		part := Partition{Number: p.Index, Type: fmt.Sprintf("0x%02x", uint8(p.Type)), TypeName: mbrTypeNames[uint8(p.Type)], Extended: isExtended(uint8(p.Type))}
		t.addPartition(d, part, uint64(p.Start), uint64(p.Size), 512)
		if part.Extended {
			t.readLogical(d, int64(p.Start)*512, int64(p.Size)*512)
		}
	}
	sort.SliceStable(t.Partitions, func(i, j int) bool { return t.Partitions[i].Number < t.Partitions[j].Number })
	return t, nil
}

// readLogical follows the chain of extended boot records in the extended
// partition [start, start+size): each EBR holds one logical partition
// (relative to the EBR) and a link to the next EBR (relative to start).
// Logical partitions are numbered from 5 in chain order, as Linux does.
func (t *PartitionTable) readLogical(d Device, start, size int64) {
	number := 5
	seen := map[int64]bool{}
	for ebr := start; ; {
		if len(seen) >= maxLogical {
			t.problem("extended partition at %d: more than %d logical partitions; stopped", start, maxLogical)
			return
		}
		if seen[ebr] {
			t.problem("extended partition at %d: EBR chain loops back to %d", start, ebr)
			return
		}
		seen[ebr] = true
		if ebr < start || ebr+512 > start+size || ebr+512 > d.Size() {
			t.problem("extended partition at %d: EBR at %d lies outside it", start, ebr)
			return
		}
		sec, err := Slice(d, ebr, 512, "EBR")
		if err != nil {
			t.problem("EBR at %d: %v", ebr, err)
			return
		}
		e, err := mbr.Read(&deviceFile{d: sec}, 512, 512)
		if err != nil {
			t.problem("EBR at %d: %v", ebr, err)
			return
		}
		next := int64(-1)
		for _, p := range e.Partitions {
			switch {
			case p.Type == mbr.Empty || p.Size == 0:
			case isExtended(uint8(p.Type)):
				if next < 0 {
					next = start + int64(p.Start)*512
				}
			default:
				part := Partition{Number: number, Type: fmt.Sprintf("0x%02x", uint8(p.Type)), TypeName: mbrTypeNames[uint8(p.Type)], Logical: true}
				t.addPartition(d, part, uint64(ebr/512)+uint64(p.Start), uint64(p.Size), 512)
				number++
			}
		}
		if next < 0 {
			return
		}
		ebr = next
	}
}

// addPartition records a partition given in sectors, noting one that does
// not fit on the device (a truncated image, a table from another disk).
func (t *PartitionTable) addPartition(d Device, p Partition, startSector, sectors, ss uint64) {
	if startSector > 1<<50 || sectors > 1<<50 {
		t.problem("partition %d: start %d / length %d sectors is impossible", p.Number, startSector, sectors)
		return
	}
	p.Start, p.Size = int64(startSector*ss), int64(sectors*ss)
	if p.Start+p.Size > d.Size() {
		t.problem("partition %d (%d+%d) runs past the end of the device (%d bytes)", p.Number, p.Start, p.Size, d.Size())
	}
	t.Partitions = append(t.Partitions, p)
}

func (t *PartitionTable) problem(format string, args ...any) {
	t.Problems = append(t.Problems, fmt.Sprintf(format, args...))
}

func isExtended(typ uint8) bool { return typ == 0x05 || typ == 0x0f || typ == 0x85 }

var mbrTypeNames = map[uint8]string{
	0x05: "Extended", 0x0f: "W95 Extended (LBA)", 0x85: "Linux extended",
	0x07: "NTFS/exFAT", 0x0b: "W95 FAT32", 0x0c: "W95 FAT32 (LBA)", 0x0e: "W95 FAT16 (LBA)",
	0x82: "Linux swap", 0x83: "Linux", 0x8e: "Linux LVM", 0xfd: "Linux raid autodetect",
	0xda: "Non-FS data", 0xee: "GPT protective", 0xef: "EFI System",
}

var gptTypeNames = map[string]string{
	"0FC63DAF-8483-4772-8E79-3D69D8477DE4": "Linux filesystem",
	"A19D880F-05FC-4D3B-A006-743F0F84911E": "Linux RAID",
	"E6D6D379-F507-44C2-A23C-238F2A3DF928": "Linux LVM",
	"0657FD6D-A4AB-43C4-84E5-0933C84B4F4F": "Linux swap",
	"C12A7328-F81F-11D2-BA4B-00A0C93EC93B": "EFI System",
	"21686148-6449-6E6F-744E-656564454649": "BIOS boot",
	"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7": "Microsoft basic data",
}

// deviceFile lets go-diskfs read a Device (a file, an assembled array, a
// logical volume) through its backend.File interface: read-only, with no
// path it could reopen for writing.
type deviceFile struct {
	d   Device
	pos int64
}

func (f *deviceFile) Stat() (fs.FileInfo, error) { return deviceInfo{f.d}, nil }
func (f *deviceFile) Close() error               { return nil }
func (f *deviceFile) ReadAt(p []byte, off int64) (int, error) {
	return f.d.ReadAt(p, off)
}

func (f *deviceFile) Read(p []byte) (int, error) {
	n, err := f.d.ReadAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

func (f *deviceFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.d.Size()
	}
	if offset < 0 {
		return 0, fmt.Errorf("%s: seek to negative offset %d", f.d.Name(), offset)
	}
	f.pos = offset
	return offset, nil
}

type deviceInfo struct{ d Device }

func (i deviceInfo) Name() string       { return i.d.Name() }
func (i deviceInfo) Size() int64        { return i.d.Size() }
func (i deviceInfo) Mode() fs.FileMode  { return 0o444 }
func (i deviceInfo) ModTime() time.Time { return time.Time{} }
func (i deviceInfo) IsDir() bool        { return false }
func (i deviceInfo) Sys() any           { return nil }

// ProbeMBR recognises an MBR partition table in sector (without a device:
// a solver finds tables in members' raw bytes) and returns the byte
// offsets where its primary partitions start. Only a sector that can be
// nothing else counts: the 0x55AA signature, every status byte 0 or 0x80,
// at least one partition, each starting past the table; extended entries
// (their starts are tables, not filesystems) and a GPT's protective entry
// are not partitions here.
func ProbeMBR(sector []byte) (starts []int64, ok bool) {
	if len(sector) < 512 || sector[510] != 0x55 || sector[511] != 0xaa {
		return nil, false
	}
	for i := range 4 {
		e := sector[446+16*i : 446+16*(i+1)]
		if e[0] != 0 && e[0] != 0x80 {
			return nil, false
		}
		typ := e[4]
		start := int64(binary.LittleEndian.Uint32(e[8:]))
		count := binary.LittleEndian.Uint32(e[12:])
		if typ == 0 {
			continue
		}
		if start == 0 || count == 0 {
			return nil, false
		}
		if !isExtended(typ) && typ != 0xee {
			starts = append(starts, start*512)
		}
	}
	return starts, len(starts) > 0
}

// ProbeGPTHeader recognises a GPT header in sector (raw bytes, no device:
// a solver finds headers on members) and returns where it sits on its
// disk: its own LBA times the sector size. The primary records LBA 1, the
// backup the disk's last. The sector size (512 or 4096) is the one under
// which the entry array fills exactly the sectors between it and the
// header (backup) or the backup and the last usable LBA (primary); ok is
// false where the CRC fails, the fields are impossible or that size is
// not decided.
func ProbeGPTHeader(sector []byte) (at int64, ok bool) {
	if len(sector) < 512 || string(sector[:8]) != "EFI PART" {
		return 0, false
	}
	le := binary.LittleEndian
	size := le.Uint32(sector[12:])
	if size < 92 || size > 512 {
		return 0, false
	}
	h := make([]byte, size)
	copy(h, sector)
	clear(h[16:20])
	if crc32.ChecksumIEEE(h) != le.Uint32(sector[16:]) {
		return 0, false
	}
	self, alternate, lastUsable, entries := le.Uint64(sector[24:]), le.Uint64(sector[32:]), le.Uint64(sector[48:]), le.Uint64(sector[72:])
	entryBytes := uint64(le.Uint32(sector[80:])) * uint64(le.Uint32(sector[84:]))
	if self == 0 || self >= 1<<40 || entryBytes == 0 || entryBytes > maxGPTEntryBytes {
		return 0, false
	}
	var gap uint64 // sectors the entry array must fill
	switch {
	case self == 1 && alternate > lastUsable:
		gap = alternate - lastUsable - 1
	case self > 1 && entries < self:
		gap = self - entries
	default:
		return 0, false
	}
	var found int64
	for _, ss := range []uint64{512, 4096} {
		if (entryBytes+ss-1)/ss == gap {
			if found != 0 {
				return 0, false
			}
			found = int64(self * ss)
		}
	}
	return found, found != 0
}
