// Package triage carries a pile of disks through every layer holmes knows:
// partitions, md arrays (assembled from superblocks or solved from content),
// mirror halves and which to trust, LVM volume groups and the version to
// restore, filesystems, and the plan that rebuilds the stack on overlays.
// The result's JSON is the triage document of docs/cli.md.
package triage

import "holmes/smart"

// Result is everything triage established, with its evidence.
type Result struct {
	Devices      []Device       `json:"devices"`
	Arrays       []Array        `json:"arrays"`
	VolumeGroups []VolumeGroup  `json:"volume_groups"`
	Filesystems  []Filesystem   `json:"filesystems"`
	SMART        []smart.Result `json:"smart"`
	// Plan is the shell lines that rebuild the stack on copy-on-write
	// overlays, runnable as printed; empty where nothing was decided.
	Plan     []string `json:"plan"`
	Warnings []string `json:"warnings"`
	// Unreadable are the ranges of the DEVs the evidence lacks (gaps of
	// their ddrescue mapfiles), each traced up the stack; LostFiles are
	// the files with bytes no copy or parity holds.
	Unreadable []Unreadable `json:"unreadable"`
	LostFiles  []LostFile   `json:"lost_files"`
	// Ambiguous: some layer stays undecided (exit status 3); the arrays,
	// groups or filesystems concerned say why.
	Ambiguous bool `json:"ambiguous"`
}

// Device is one DEV given to triage and what it holds.
type Device struct {
	Name       string      `json:"name"`
	Size       int64       `json:"size"`
	Partitions []Partition `json:"partitions"`
	Error      string      `json:"error,omitempty"`
}

// Partition is one entry of a device's partition table (or the whole device
// when it has none) and what triage found on it.
type Partition struct {
	Dev   string `json:"dev"` // the DEV that names it (disk.img:p2)
	Start int64  `json:"start"`
	Size  int64  `json:"size"`
	// Holds says what the signatures on it are: "md 1.2 raid10 member
	// (array 02eb...)", "LVM PV ...", "ext4 ...".
	Holds []string `json:"holds"`
}

// Array is one md array: its geometry, members in role order ("" for a
// missing member) and which members the reconstruction uses.
type Array struct {
	Name       string   `json:"name"` // md0, md1, ... in the order found
	Level      string   `json:"level"`
	Layout     string   `json:"layout"`
	ChunkBytes int64    `json:"chunk_bytes"`
	DataOffset int64    `json:"data_offset"`
	DataSize   int64    `json:"data_size"`
	Metadata   string   `json:"metadata"`
	Members    []string `json:"members"`
	// Trusted are the members the reconstruction reads (role order, ""
	// for a member left out: a stale half or a missing disk).
	Trusted []string `json:"trusted"`
	Source  string   `json:"source"` // "superblocks" or "solved"
	// Confidence is md solve's margin (1 for superblocks that agree).
	Confidence float64  `json:"confidence"`
	Evidence   []string `json:"evidence"`
	// Halves are the mirror pairs (raid1, raid10) and which half is trusted.
	Halves     []Halves     `json:"halves"`
	Divergence []Divergence `json:"divergence"`
	// Ambiguous arrays have no plan line and stay out of the case file;
	// Candidates and WouldDecide say what is open.
	Ambiguous   bool        `json:"ambiguous"`
	Why         []string    `json:"why_ambiguous,omitempty"`
	Candidates  []Candidate `json:"candidates,omitempty"`
	WouldDecide []string    `json:"would_decide,omitempty"`
}

// Candidate is one geometry still in the running for an ambiguous array.
type Candidate struct {
	Level      string   `json:"level"`
	Layout     string   `json:"layout"`
	ChunkBytes int64    `json:"chunk_bytes"`
	DataOffset int64    `json:"data_offset"`
	Order      []string `json:"order"`
	Score      float64  `json:"score"`
}

// Halves is one set of mirror copies and the one the reconstruction reads.
type Halves struct {
	Members []string `json:"members"`
	Trust   string   `json:"trust"` // "" when they are identical
	Why     []string `json:"why"`
	// DiffBytes is how many bytes the halves differ in (md metadata
	// excluded).
	DiffBytes int64 `json:"diff_bytes"`
	// Uncompared is how many bytes of the data area were not compared
	// because one half lacks them (a ddrescue gap, a region a collect
	// archive did not keep): neither equal nor different.
	Uncompared int64 `json:"uncompared_bytes"`
}

// Divergence is one region where mirror halves differ, in bytes of the
// member A, and what it holds in the reconstructed stack.
type Divergence struct {
	A       string  `json:"a"`
	B       string  `json:"b"`
	Start   int64   `json:"start"`
	End     int64   `json:"end"`
	Touches []Touch `json:"touches"`
}

// Touch is one structure a divergent region holds (holmes trace's answer at
// the top of the stack).
type Touch struct {
	Layer string `json:"layer"` // the topmost DEV reached: md1, guests/home
	What  string `json:"what"`  // "file", "inode table of group 0", ...
	Path  string `json:"path,omitempty"`
}

// VolumeGroup is one LVM VG and the version chosen to restore.
type VolumeGroup struct {
	VG     string `json:"vg"`
	VGUUID string `json:"vg_uuid"`
	Seqno  int64  `json:"seqno"`
	// Source says where the chosen text came from: "metadata area of md1",
	// "carved from md0 @ 1234".
	Source string   `json:"source"`
	LVs    []string `json:"lvs"`
	// PVs maps the VG's PV names to the DEVs that hold them.
	PVs map[string]string `json:"pvs"`
	// File is the metadata file written beside the case file.
	File     string      `json:"file,omitempty"`
	Why      []string    `json:"why"`
	Rejected []VGVersion `json:"rejected"`
}

// VGVersion is a version of a VG of the same name that was not chosen.
type VGVersion struct {
	VGUUID string   `json:"vg_uuid"`
	Seqno  int64    `json:"seqno"`
	Source string   `json:"source"`
	LVs    []string `json:"lvs"`
	Why    string   `json:"why"`
}

// Filesystem is one filesystem found on an array, LV or partition of an LV.
type Filesystem struct {
	Dev        string `json:"dev"`
	Type       string `json:"type"` // ext2, ext3, ext4
	Label      string `json:"label"`
	UUID       string `json:"uuid"`
	Superblock string `json:"superblock"` // "primary" or "backup at block N"
	RootOK     bool   `json:"root_ok"`
	Files      int64  `json:"files"`
	Note       string `json:"note,omitempty"`
}
