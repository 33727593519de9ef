package report

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"holmes/triage"
)

func markdown(t *testing.T, r *triage.Result) string { return rendered(t, Markdown, r) }

func htmlReport(t *testing.T, r *triage.Result) string { return rendered(t, HTML, r) }

func rendered(t *testing.T, render func(io.Writer, *triage.Result) error, r *triage.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := render(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustContain(t *testing.T, doc string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(doc, w) {
			t.Errorf("report lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, doc string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(doc, w) {
			t.Errorf("report holds %q", w)
		}
	}
}

// before asserts that first appears in doc, and before second.
func before(t *testing.T, doc, first, second string) {
	t.Helper()
	i, j := strings.Index(doc, first), strings.Index(doc, second)
	if i < 0 || j < 0 || i > j {
		t.Errorf("%q (at %d) should come before %q (at %d)", first, i, second, j)
	}
}

func TestMarkdownIncident(t *testing.T) {
	doc := markdown(t, incident())
	mustContain(t, doc,
		"**Status: resolved**",
		"10 disks, 20 partitions, 2 arrays, 1 volume group, 5 filesystems.",
		"- d1.img: SMART says fail: 812 sectors reallocated; it is left out of md1",
		// The stack: each disk with its partitions, the halves marked.
		"├── d0.img:p1  20 MiB  md 1.2 raid1 member (array 5c1e…, the installer's); md 0.90 raid1 member (array 8a7f…)\n│   └── → md0 (role 0)\n",
		"└── d0.img:p2  78 MiB  md 1.2 raid10 member (array 02eb…, the installer's)  [TRUSTED HALF]\n    └── → md1 (role 0, trusted half)\n",
		"└── d1.img:p2  78 MiB  md 1.2 raid10 member (array 02eb…, the installer's)  [LEFT OUT]\n    └── → md1 (role 1, left out)\n",
		"    └── → md1 (role 9)\n",
		// ... and each array with what it holds, down to the filesystems.
		"md0  raid1 · 0.90  superblocks, confidence 1.00\n└── md0  ext3 \"root\"  backup at block 8193 sb · root ok · 21433 files\n",
		"md1  raid10 n2 64 KiB · 1.2  solved, confidence 0.97\n"+
			"└── pv0  PV of VG guests seqno 7\n"+
			"    ├── guests/home  LV\n"+
			"    │   └── guests/home  ext4 \"home\"  primary sb · root ok · 1311 files\n"+
			"    ├── guests/var  LV\n"+
			"    │   └── guests/var  ext4 \"var\"  primary sb · root ok · 5120 files\n"+
			"    ├── guests/distros  LV\n"+
			"    │   └── guests/distros  ext4 \"distros\"  primary sb · root ok · 88 files\n"+
			"    └── guests/vm01  LV\n"+
			"        └── guests/vm01:p1  ext3 \"vm01-root\"  primary sb · root ok · 30211 files\n",
		// Arrays: evidence, confidence, members, halves.
		"### md1: raid10 n2 64 KiB · 1.2",
		"| confidence | 0.97 |",
		"| 0 | d0.img:p2 | trusted half (read) |",
		"| 1 | d1.img:p2 | left out (not read) |",
		"| 2 | d2.img:p2 | read |",
		"- PV label of guests at array offset 512",
		"Mirror halves d0.img:p2 / d1.img:p2: 1.5 MiB differ; trusted: **d0.img:p2**",
		"- d0.img:p2 holds writes d1.img:p2 does not (events 2210 against 2187)",
		"Identical mirror halves (either is read): d2.img:p2 / d3.img:p2, d4.img:p2 / d5.img:p2, d6.img:p2 / d7.img:p2, d8.img:p2 / d9.img:p2",
		// Affected files and the version read.
		"| md1 | d0.img:p2 / d1.img:p2 | 3145728–3407872 (256 KiB) | guests/home | file | /alice/.ssh/authorized\\_keys | d0.img:p2 |",
		"| guests/var | inode table of group 3 |  | d0.img:p2 |",
		// SMART.
		"| smart/d1.txt | ST3500320NS | 9QM0BBBB | fail | 20 | 43120 | PASSED | 5 Reallocated\\_Sector\\_Ct = 812: 812 sectors reallocated (fail, -60) |",
		// The VG chosen and the installer's rejected.
		"### guests: seqno 7 chosen",
		"| LVs | home, var, distros, vm01 |",
		"| PVs | pv0 on md1 |",
		"- the LVs' filesystems open: 4 of 4 with readable root directories",
		"| 1 | Qm8T1a-installer-new | metadata area of md1 | none | newer, but the installer's: no LVs |",
		// Filesystems.
		"| md0 | ext3 | root | 3b7e0c7e-1d2a-4c55-9e0f-5a1b2c3d4e5f | backup at block 8193 | readable | 21433 | the installer's mkfs overwrote the primary superblock |",
		"| guests/vm01:p1 | ext3 | vm01-root | dd44 | primary | readable | 30211 |  |",
		// The plan, as printed, in a block.
		"```sh\nlosetup --read-only --find --show d0.img  # writes nothing; undo: losetup -d\n",
		"mount -o ro /dev/guests/home /mnt/home\n```\n",
	)
	mustNotContain(t, doc, "## UNDECIDED", "[AMBIGUOUS", "Some lines hold characters shown escaped")

	// The strip: 64 cells over d0.img:p2's 78 MiB; the regions at 3, 40
	// and 70 MiB fall in cells 2, 32 and 57.
	strip := regexp.MustCompile(`(?m)^\|([.#]{64})\|  '#': the halves differ$`).FindStringSubmatch(doc)
	if strip == nil {
		t.Fatal("no strip for d0.img:p2 / d1.img:p2")
	}
	for cell, want := range map[int]byte{0: '.', 2: '#', 10: '.', 32: '#', 45: '.', 57: '#', 63: '.'} {
		if strip[1][cell] != want {
			t.Errorf("strip cell %d is %c, want %c: %s", cell, strip[1][cell], want, strip[1])
		}
	}
	if n := strings.Count(strip[1], "#"); n > 6 {
		t.Errorf("%d cells marked for 1.5 MiB of 78 MiB: %s", n, strip[1])
	}
}

func TestMarkdownAmbiguous(t *testing.T) {
	doc := markdown(t, ambiguousIncident())
	mustContain(t, doc,
		"**Status: AMBIGUOUS**: some layer stays undecided (triage exits 3): md1 has no plan line",
		"## UNDECIDED: md1",
		"**No `mdadm --create` line is printed for md1 and the case file leaves it out.**",
		"- two orders score within 0.02 of each other",
		"| 1 | raid10 n2 64 KiB | 2097152 | d0.img:p2, d1.img:p2, d2.img:p2, d3.img:p2, d4.img:p2, d5.img:p2, d6.img:p2, d7.img:p2, d8.img:p2, d9.img:p2 | 0.910 |",
		"| 2 | raid10 n2 64 KiB | 2097152 | d0.img:p2, d1.img:p2, d2.img:p2, d3.img:p2, d4.img:p2, d5.img:p2, d8.img:p2, d9.img:p2, d6.img:p2, d7.img:p2 | 0.890 |",
		"What would decide:\n\n- a file larger than 256 KiB on guests/vm01:p1 whose checksum is known\n",
		"md1  raid10 n2 64 KiB · 1.2  solved, confidence 0.02  [AMBIGUOUS: NO PLAN]",
		"└── d6.img:p2  78 MiB  md 1.2 raid10 member (array 02eb…, the installer's)  [UNDECIDED]\n    └── → md1 (candidate member)\n",
		"| 6 | d6.img:p2 | undecided |",
	)
	// Prominent: the undecided array comes before the picture and the
	// details.
	before(t, doc, "## UNDECIDED: md1", "## Stack")
	mustNotContain(t, doc, "mdadm --create /dev/md1")
}

// An array that uses its members' whole data area (no --size) says so,
// rather than "0 (0 B)".
func TestWholeDataArea(t *testing.T) {
	r := incident()
	r.Arrays[1].DataSize = 0
	mustContain(t, markdown(t, r), "| data size | each member's whole data area |")
	var b strings.Builder
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	mustContain(t, b.String(), "each member&#39;s whole data area")
}

func TestMarkdownNoPlan(t *testing.T) {
	r := ambiguousIncident()
	r.Plan = nil
	mustContain(t, markdown(t, r), "## Plan\n\nNo plan: nothing was decided.\n")
}

func TestHTMLIncident(t *testing.T) {
	doc := htmlReport(t, incident())
	mustContain(t, doc,
		"<!DOCTYPE html>",
		"<strong>Status: resolved</strong>",
		"<li>d1.img: SMART says fail: 812 sectors reallocated; it is left out of md1</li>",
		`<h3>md1: raid10 n2 64 KiB · metadata 1.2</h3>`,
		`<tr class="trusted"><td class="num">0</td><td class="mono">d0.img:p2</td><td>trusted half (read)</td></tr>`,
		`<tr class="leftout"><td class="num">1</td><td class="mono">d1.img:p2</td><td>left out (not read)</td></tr>`,
		`trusted: <strong class="trust">✓ d0.img:p2</strong>`,
		`Identical mirror halves (either is read): <span class="mono">d2.img:p2 / d3.img:p2, d4.img:p2 / d5.img:p2`,
		`<td class="mono">/alice/.ssh/authorized_keys</td>`,
		`<td class="fail">fail</td>`,
		`<h3>guests: seqno 7 chosen</h3>`,
		`<td>newer, but the installer&#39;s: no LVs</td>`,
		`<td class="mono">guests/vm01:p1</td><td>ext3</td><td>vm01-root</td>`,
		"<pre class=\"plan\">losetup --read-only --find --show d0.img  # writes nothing; undo: losetup -d\n",
		"mount -o ro /dev/guests/home /mnt/home\n</pre>",
	)
	mustNotContain(t, doc, "UNDECIDED", `class="undecided"`)
	// The picture: one box per disk, partition, array, PV, LV and
	// filesystem; the trusted half and the left-out one marked.
	for class, want := range map[string]int{
		`<g class="node disk">`: 10, `<g class="node part used">`: 18, `<g class="node part trusted">`: 1,
		`<g class="node part leftout">`: 1, `<g class="node array">`: 2, `<g class="node pv">`: 1,
		`<g class="node lv">`: 4, `<g class="node fs">`: 5,
		`<path class="edge trusted"`: 1, `<path class="edge leftout"`: 1, `<path class="edge used"`: 18 + 1 + 4 + 5,
		`<rect class="diff"`: 3, "<svg ": 2,
	} {
		if got := strings.Count(doc, class); got != want {
			t.Errorf("%d × %s, want %d", got, class, want)
		}
	}
	mustContain(t, doc, `<text x="30.0" y="`, `class="name">d0.img:p2</text>`, `class="badge">trusted half</text>`,
		`class="badge">left out</text>`, `<title>d0.img:p2 → md1: role 0, trusted half</title>`)
	standalone(t, doc)
}

// standalone asserts that a page names nothing outside itself: no script,
// no source or link attribute, no CSS import or url(), no address but the
// SVG namespace (which browsers never fetch).
func standalone(t *testing.T, doc string) {
	t.Helper()
	for _, bad := range []string{"<script", "src=", "href=", "url(", "@import", "<link", "<iframe", "<object", "<embed"} {
		if strings.Contains(strings.ToLower(doc), bad) {
			t.Errorf("page holds %q", bad)
		}
	}
	for _, u := range regexp.MustCompile(`[a-z]+://[^"'\s<]*`).FindAllString(doc, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("page names %q", u)
		}
	}
	mustContain(t, doc, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`)
}

func TestHTMLAmbiguous(t *testing.T) {
	doc := htmlReport(t, ambiguousIncident())
	mustContain(t, doc,
		`<p class="status bad"><strong>Status: AMBIGUOUS</strong>`,
		`<section class="undecided">`,
		"<h2>UNDECIDED: md1</h2>",
		"<li>two orders score within 0.02 of each other</li>",
		`<td class="mono">d0.img:p2, d1.img:p2, d2.img:p2, d3.img:p2, d4.img:p2, d5.img:p2, d8.img:p2, d9.img:p2, d6.img:p2, d7.img:p2</td><td class="num">0.890</td>`,
		"<h3>What would decide</h3><ul><li>a file larger than 256 KiB on guests/vm01:p1 whose checksum is known</li>",
		`<g class="node array ambiguous">`,
		`class="badge">AMBIGUOUS: no plan</text>`,
	)
	if got := strings.Count(doc, `<path class="edge ambiguous"`); got != 10 {
		t.Errorf("%d candidate members linked to md1, want 10", got)
	}
	before(t, doc, "<h2>UNDECIDED: md1</h2>", "<h2>Stack</h2>")
	mustNotContain(t, doc, "mdadm --create /dev/md1")
	standalone(t, doc)
}

// A solve that leaves dozens of candidates: the box at the top shows the
// leading ones and says where the rest are; the array's section lists all.
func TestManyCandidates(t *testing.T) {
	r := ambiguousIncident()
	md1 := &r.Arrays[1]
	for i := range 18 {
		c := md1.Candidates[1]
		c.ChunkBytes = int64(i+1) << 20
		md1.Candidates = append(md1.Candidates, c)
	}
	r.Arrays[0].Ambiguous = true
	for format, doc := range map[string]string{"markdown": markdown(t, r), "html": htmlReport(t, r)} {
		box, rest, _ := strings.Cut(doc, "Stack")
		if got := strings.Count(box, "d8.img:p2, d9.img:p2, d6.img:p2, d7.img:p2"); got != 7 {
			t.Errorf("%s: the undecided box shows %d of the second order, want 7 (8 leading candidates)", format, got)
		}
		mustContain(t, box, "12 more candidates are listed under md1 in Arrays.",
			"md0, md1 have no plan line and stay out of the case file")
		if got := strings.Count(rest, "d8.img:p2, d9.img:p2, d6.img:p2, d7.img:p2"); got != 19 {
			t.Errorf("%s: md1's section lists %d of the second order, want 19", format, got)
		}
		mustContain(t, rest, "18 MiB")
	}
}

func TestNilResult(t *testing.T) {
	if Markdown(&bytes.Buffer{}, nil) == nil || HTML(&bytes.Buffer{}, nil) == nil {
		t.Error("a nil result is refused")
	}
}

func TestEmptyResult(t *testing.T) {
	r := &triage.Result{}
	mustContain(t, markdown(t, r), "0 disks, 0 partitions", "No plan: nothing was decided.")
	doc := htmlReport(t, r)
	mustContain(t, doc, "0 disks, 0 partitions", "No plan: nothing was decided.")
	standalone(t, doc)
}

// A pair whose halves differ in a hundred thousand places still draws at
// most one mark per unit of the strip.
func TestStripBounded(t *testing.T) {
	const regions = 100_000
	p := pairView{Length: 1 << 40, Regions: make([]triage.Divergence, regions)}
	for i := range p.Regions {
		start := int64(i) << 23
		p.Regions[i] = triage.Divergence{Start: start, End: start + 512}
	}
	spans := p.Spans(stripW)
	if len(spans) == 0 || len(spans) > int(stripW) {
		t.Fatalf("%d marks on a strip of %v units", len(spans), stripW)
	}
	total := 0
	for _, s := range spans {
		total += s.Regions
	}
	if total != regions {
		t.Errorf("the marks account for %d regions, want %d", total, regions)
	}
	// Regions past the member, inverted or empty are not drawn.
	p = pairView{Length: 100, Regions: []triage.Divergence{{Start: 200, End: 300}, {Start: 50, End: 40}, {Start: -10, End: 0}}}
	if s := p.Spans(stripW); len(s) != 0 {
		t.Errorf("nonsense regions drawn: %+v", s)
	}
	if got := p.Text(8); got != "........" {
		t.Errorf("text strip %q", got)
	}
}

// Shapes beside the incident: a filesystem and a PV straight on
// partitions, an array member no device lists, a missing member, and
// divergence no halves name (it is still shown, with no half chosen).
func TestOddShapes(t *testing.T) {
	r := &triage.Result{
		Devices: []triage.Device{{Name: "a.img", Size: 8 * mib, Partitions: []triage.Partition{
			{Dev: "a.img:p1", Start: mib, Size: 3 * mib, Holds: []string{"ext2"}},
			{Dev: "a.img:p2", Start: 4 * mib, Size: 3 * mib},
		}}, {Name: "broken.img", Error: "short read at 0"}},
		Arrays: []triage.Array{{Name: "md5", Level: "raid1", Members: []string{"a.img:p2", "", "sdz1"},
			Trusted: []string{"a.img:p2", "", "sdz1"}, Source: "superblocks", Confidence: 1,
			Divergence: []triage.Divergence{{A: "a.img:p2", B: "sdz1", Start: 0, End: 4096}}}},
		VolumeGroups: []triage.VolumeGroup{{VG: "vg", Seqno: 2, PVs: map[string]string{"pv0": "a.img:p2", "pv1": "md5"}, LVs: []string{"lv"}}},
		Filesystems: []triage.Filesystem{{Dev: "a.img:p1", Type: "ext2", Superblock: "primary", RootOK: true, Files: 3},
			{Dev: "vg/lv", Type: "ext4", Superblock: "primary"}, {Dev: "md5", Type: "unknown", Note: "ext: no superblock"}},
	}
	doc := markdown(t, r)
	mustContain(t, doc,
		"a.img  8 MiB\n├── a.img:p1  3 MiB  ext2\n│   └── a.img:p1  ext2  primary sb · root ok · 3 files\n",
		"broken.img  error: short read at 0  [UNREADABLE]\n",
		"sdz1\n└── → md5 (role 2)\n",
		"| 1 |  | missing |",
		"| missing members | 1 |",
		"vg/lv  LV  ← pv0, pv1\n└── vg/lv  ext4  primary sb · ROOT UNREADABLE · 0 files  [ROOT DIRECTORY UNREADABLE]\n",
		"Mirror halves a.img:p2 / sdz1: 0 B differ; trusted: **none chosen**",
		"└── md5  unknown  ext: no superblock  [DID NOT OPEN]\n",
		"| md5 | unknown |  |  |  | did not open | 0 | ext: no superblock |",
		"| md5 | a.img:p2 / sdz1 | 0–4096 (4 KiB) |  | (trace found nothing) |  | none chosen |",
	)
	doc = htmlReport(t, r)
	mustContain(t, doc, `<g class="node disk error">`, `<g class="node fs error">`, `<rect class="diff"`, `<td class="bad">did not open</td>`)
}

// The gaps of the disks' mapfiles and the files they lose have their own
// sections; a hostile path is shown inert.
func TestUnreadableSections(t *testing.T) {
	r := incident()
	r.Unreadable = []triage.Unreadable{
		{Dev: "d0.img", Start: 4096, End: 8192, Why: "not finished in ddrescue mapfile d0.map",
			RoutedAround: []triage.ArrayRange{{Array: "md1", Start: 0, End: 2048}},
			LostInArrays: []triage.ArrayRange{{Array: "md1", Start: 2048, End: 4096}},
			Lost:         []triage.Touch{{Layer: "guests/home", What: "file", Path: "/alice/notes\n<b>x</b>"}}},
	}
	r.LostFiles = []triage.LostFile{{FS: "guests/home", Path: "/alice/notes\n<b>x</b>", Ranges: []triage.FileRange{{Start: 0, End: 2048}}, Bytes: 2048}}
	md := markdown(t, r)
	mustContain(t, md, "## Unreadable ranges", "| d0.img | 4096-8191 (4 KiB) | not finished in ddrescue mapfile d0.map | md1 0-2047 | md1 2048-4095 lost; guests/home: file /alice/notes\\\\u000a&lt;b&gt;x&lt;/b&gt; |",
		"## Files lost", "| guests/home | /alice/notes\\\\u000a&lt;b&gt;x&lt;/b&gt; | 2048 | 0-2047 |")
	mustNotContain(t, md, "<b>x</b>")
	doc := htmlReport(t, r)
	mustContain(t, doc, "<h2>Unreadable ranges</h2>", "<h2>Files lost</h2>", `<td class="num">2048</td><td class="num">0-2047</td>`)
	mustNotContain(t, doc, "<b>x</b>")
}
