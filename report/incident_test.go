package report

import (
	"fmt"

	"holmes/smart"
	"holmes/triage"
)

// The incident of the post-mortem as triage would describe it: ten disks
// with two partitions each, md0 a raid1 (0.90) over every p1 holding the
// ext3 root with /etc/lvm/backup, md1 a raid10 n2 64K over every p2 holding
// VG guests. The installer re-created both arrays and a new empty guests
// (seqno 1); the old guests (seqno 7) with its four LVs is the one to
// restore. The first pair's halves diverged: d0p2 is trusted, d1p2 is left
// out.
const (
	mib      = 1 << 20
	diskSize = 100 * mib
	p1Start  = 1 * mib
	p1Size   = 20 * mib
	p2Start  = p1Start + p1Size
	p2Size   = diskSize - p2Start - mib
)

func incident() *triage.Result {
	r := &triage.Result{}
	var p1s, p2s []string
	for i := range 10 {
		name := fmt.Sprintf("d%d.img", i)
		p1, p2 := name+":p1", name+":p2"
		p1s, p2s = append(p1s, p1), append(p2s, p2)
		r.Devices = append(r.Devices, triage.Device{Name: name, Size: diskSize, Partitions: []triage.Partition{
			{Dev: p1, Start: p1Start, Size: p1Size, Holds: []string{"md 1.2 raid1 member (array 5c1e…, the installer's)", "md 0.90 raid1 member (array 8a7f…)"}},
			{Dev: p2, Start: p2Start, Size: p2Size, Holds: []string{"md 1.2 raid10 member (array 02eb…, the installer's)"}},
		}})
	}
	md1Trusted := append([]string(nil), p2s...)
	md1Trusted[1] = ""
	r.Arrays = []triage.Array{{
		Name: "md0", Level: "raid1", Metadata: "0.90", DataOffset: 0, DataSize: p1Size - 64*1024,
		Members: p1s, Trusted: p1s, Source: "superblocks", Confidence: 1,
		Evidence: []string{"ten 0.90 superblocks agree: UUID 8a7f3c21:..., events 1184", "ext3 superblock at member offset 1024"},
	}, {
		Name: "md1", Level: "raid10", Layout: "n2", ChunkBytes: 64 * 1024, Metadata: "1.2",
		DataOffset: 2 * mib, DataSize: 5 * (p2Size - 2*mib), Members: p2s, Trusted: md1Trusted,
		Source: "solved", Confidence: 0.97,
		Evidence: []string{"PV label of guests at array offset 512", "LVM metadata area at 4096 parses",
			"ext4 superblocks of guests/home at their group offsets under chunk 64 KiB, near 2"},
		Halves: []triage.Halves{
			{Members: []string{"d0.img:p2", "d1.img:p2"}, Trust: "d0.img:p2", DiffBytes: 3 * mib / 2,
				Why: []string{"d1.img is fail (score 20); d0.img is ok (score 96): 5 Reallocated_Sector_Ct: 812 sectors reallocated",
					"d0.img:p2 holds writes d1.img:p2 does not (events 2210 against 2187)"}},
			{Members: []string{"d2.img:p2", "d3.img:p2"}},
			{Members: []string{"d4.img:p2", "d5.img:p2"}},
			{Members: []string{"d6.img:p2", "d7.img:p2"}},
			{Members: []string{"d8.img:p2", "d9.img:p2"}},
		},
		Divergence: []triage.Divergence{
			{A: "d0.img:p2", B: "d1.img:p2", Start: 3 * mib, End: 3*mib + 256*1024, Touches: []triage.Touch{
				{Layer: "guests/home", What: "file", Path: "/alice/.ssh/authorized_keys"},
				{Layer: "guests/home", What: "file", Path: "/alice/notes.txt"}}},
			{A: "d0.img:p2", B: "d1.img:p2", Start: 40 * mib, End: 41 * mib, Touches: []triage.Touch{
				{Layer: "guests/var", What: "inode table of group 3"}}},
			{A: "d0.img:p2", B: "d1.img:p2", Start: 70 * mib, End: 70*mib + 256*1024, Touches: []triage.Touch{
				{Layer: "guests", What: "free space"}}},
		},
	}}
	r.VolumeGroups = []triage.VolumeGroup{{
		VG: "guests", VGUUID: "Yx3R8q-0Dkd-Lq2B-7hYt-Qw2e-9P0a-Vb5cDe", Seqno: 7,
		Source: "carved from md0 @ 7340032 (/etc/lvm/backup/guests)",
		LVs:    []string{"home", "var", "distros", "vm01"},
		PVs:    map[string]string{"pv0": "md1"},
		File:   "case.d/guests.vg",
		Why:    []string{"the LVs' filesystems open: 4 of 4 with readable root directories", "PV UUID BuBSom-hBzG-n8o3-V2X9-9Zhp-Ymze-ltP3Ys matches md1's old label"},
		Rejected: []triage.VGVersion{{VGUUID: "Qm8T1a-installer-new", Seqno: 1, Source: "metadata area of md1",
			Why: "newer, but the installer's: no LVs"}},
	}}
	r.Filesystems = []triage.Filesystem{
		{Dev: "md0", Type: "ext3", Label: "root", UUID: "3b7e0c7e-1d2a-4c55-9e0f-5a1b2c3d4e5f", Superblock: "backup at block 8193", RootOK: true, Files: 21433, Note: "the installer's mkfs overwrote the primary superblock"},
		{Dev: "guests/home", Type: "ext4", Label: "home", UUID: "aa11", Superblock: "primary", RootOK: true, Files: 1311},
		{Dev: "guests/var", Type: "ext4", Label: "var", UUID: "bb22", Superblock: "primary", RootOK: true, Files: 5120},
		{Dev: "guests/distros", Type: "ext4", Label: "distros", UUID: "cc33", Superblock: "primary", RootOK: true, Files: 88},
		{Dev: "guests/vm01:p1", Type: "ext3", Label: "vm01-root", UUID: "dd44", Superblock: "primary", RootOK: true, Files: 30211},
	}
	healthy, hours := true, int64(43120)
	r.SMART = []smart.Result{
		{File: "smart/d0.txt", Model: "ST3500320NS", Serial: "9QM0AAAA", Protocol: "ATA", Health: "ok", Score: 96, Format: "text", Passed: &healthy, PowerOnHours: &hours},
		{File: "smart/d1.txt", Model: "ST3500320NS", Serial: "9QM0BBBB", Protocol: "ATA", Health: "fail", Score: 20, Format: "text", Passed: &healthy, PowerOnHours: &hours,
			Reasons: []smart.Reason{{Attr: "5", Name: "Reallocated_Sector_Ct", Raw: "812", Why: "812 sectors reallocated", Severity: "fail", Penalty: 60}}},
	}
	r.Plan = []string{
		"losetup --read-only --find --show d0.img  # writes nothing; undo: losetup -d",
		"dmsetup create d0p2-cow --table '0 159744 snapshot /dev/loop0p2 /dev/loop20 N 8'  # writes only the overlay",
		"mdadm --create /dev/md1 --assume-clean --readonly --level=10 --layout=n2 --chunk=64 --raid-devices=10 --metadata=1.2 --data-offset=2048 /dev/mapper/d0p2-cow missing /dev/mapper/d2p2-cow",
		"vgcfgrestore -f case.d/guests.vg guests",
		"mount -o ro /dev/guests/home /mnt/home",
	}
	r.Warnings = []string{"d1.img: SMART says fail: 812 sectors reallocated; it is left out of md1"}
	return r
}

// ambiguousIncident is the incident where md1's order of the last four
// drives could not be decided.
func ambiguousIncident() *triage.Result {
	r := incident()
	r.Ambiguous = true
	md1 := &r.Arrays[1]
	md1.Ambiguous = true
	md1.Confidence = 0.02
	md1.Why = []string{"two orders score within 0.02 of each other", "the root directory of guests/vm01:p1 reads under both"}
	md1.Candidates = []triage.Candidate{
		{Level: "raid10", Layout: "n2", ChunkBytes: 64 * 1024, DataOffset: 2 * mib, Order: md1.Members, Score: 0.91},
		{Level: "raid10", Layout: "n2", ChunkBytes: 64 * 1024, DataOffset: 2 * mib,
			Order: append(append([]string(nil), md1.Members[:6]...), "d8.img:p2", "d9.img:p2", "d6.img:p2", "d7.img:p2"), Score: 0.89},
	}
	md1.WouldDecide = []string{"a file larger than 256 KiB on guests/vm01:p1 whose checksum is known", "smartctl reports of d6..d9 naming their bays"}
	r.Plan = r.Plan[:2]
	return r
}
