// Package casefile reads the case file (docs/cli.md): what a recovery has
// established about arrays and volume groups, so that later commands can
// name the reconstructed layers ("md1", "vg/lv") as devices.
package casefile

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"holmes/blockdev"
	"holmes/ddmap"
)

// Case is the JSON case file.
type Case struct {
	Arrays       []Array       `json:"arrays,omitempty"`
	VolumeGroups []VolumeGroup `json:"volume_groups,omitempty"`
	// Filesystems say how to check and mount what the layers hold (the
	// plan's e2fsck and mount lines); a layer not listed gets none.
	Filesystems []Filesystem `json:"filesystems,omitempty"`
	// Maps gives images their GNU ddrescue mapfiles (IMAGE: MAPFILE, both
	// relative to the case file): their unfinished bytes read as errors
	// wherever the image is read.
	Maps map[string]string `json:"maps,omitempty"`

	file  string     // the case file, as named, for messages
	dir   string     // relative paths in the file are relative to its directory
	files *ddmap.Set // the mapfiles images are opened with
}

// Array is an md array by geometry. Members are in role order; nil is a
// missing member.
type Array struct {
	Name       string `json:"name"`
	Level      string `json:"level"`
	Layout     string `json:"layout,omitempty"`
	ChunkBytes int64  `json:"chunk_bytes,omitempty"`
	DataOffset int64  `json:"data_offset"`
	DataSize   int64  `json:"data_size,omitempty"`
	// Metadata is the md superblock format the array had: "0.90", "1.0",
	// "1.1" or "1.2". Reading needs only the geometry; re-creating it with
	// mdadm (the plan) needs the format too, and trace names the
	// superblock's bytes on a member with it.
	Metadata string    `json:"metadata,omitempty"`
	Members  []*string `json:"members"`
	// LeftOut names, in role order, members the reconstruction does not
	// read (a stale mirror half; null elsewhere). They are never opened to
	// read the array; trace places their bytes in it.
	LeftOut []*string `json:"left_out,omitempty"`
}

// Filesystem is a filesystem on a layer of the case (an array, "vg/lv",
// "vg/lv:p1") and which superblock copy reads it.
type Filesystem struct {
	Dev  string `json:"dev"`
	Type string `json:"type,omitempty"` // ext2, ext3, ext4
	// Superblock is the block number of the backup copy to use (as
	// e2fsck -b takes it), with BlockSize; 0 means the primary.
	Superblock int64 `json:"superblock,omitempty"`
	BlockSize  int64 `json:"block_size,omitempty"`
	// RootLost: the root directory does not read (an installer's mkfs over
	// it); it cannot be mounted, only extracted from (holmes ext extract).
	RootLost bool `json:"root_lost,omitempty"`
}

// VolumeGroup names a metadata file in LVM text format and maps its PV
// names to DEVs.
type VolumeGroup struct {
	Metadata string            `json:"metadata"`
	PVs      map[string]string `json:"pvs"`
}

// Load reads and checks a case file.
func Load(path string) (*Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("case file: %w", err)
	}
	var c Case
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("case file %s: %w", path, err)
	}
	c.file, c.dir = path, filepath.Dir(path)
	if err := c.UseMaps(&ddmap.Set{}); err != nil {
		return nil, err
	}
	return &c, nil
}

// UseMaps opens the case's images through files, with the case file's own
// mapfiles added to it (a command line's --map may bring more).
func (c *Case) UseMaps(files *ddmap.Set) error {
	images := slices.Sorted(maps.Keys(c.Maps))
	for _, image := range images {
		if err := files.Add(c.Path(image), c.Path(c.Maps[image])); err != nil {
			return fmt.Errorf("case file %s: maps: %w", c.file, err)
		}
	}
	c.files = files
	return nil
}

// OpenFile opens an image file of the case, with its ddrescue mapfile if
// it has one (blockdev.FileOpener).
func (c *Case) OpenFile(path string) (blockdev.Device, error) {
	return c.files.OpenFile(path)
}

// Path makes a path from the case file absolute (relative to the case file).
func (c *Case) Path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Resolve opens a name the case file defines: an array ("md1"), a logical
// volume ("vg/lv"); a partition suffix ("vg/lv:p1") is handled by blockdev.
func (c *Case) Resolve(name string) (blockdev.Device, error) {
	return opening{c: c}.Resolve(name)
}

// opening resolves the names met while a stacked device is opened (an
// array's members, an LV's PVs), remembering the chain of names being
// opened: a case file that stacks a name on itself, through any mix of
// arrays and volume groups, fails instead of recursing forever.
type opening struct {
	c     *Case
	chain []string
}

func (o opening) OpenFile(path string) (blockdev.Device, error) { return o.c.OpenFile(path) }

func (o opening) Resolve(name string) (blockdev.Device, error) {
	if slices.Contains(o.chain, name) {
		return nil, fmt.Errorf("case file %s: %s is stacked on itself (%s -> %s)", o.c.file, name, strings.Join(o.chain, " -> "), name)
	}
	inner := opening{o.c, append(slices.Clip(o.chain), name)}
	for i := range o.c.Arrays {
		if o.c.Arrays[i].Name == name {
			return o.c.openArray(&o.c.Arrays[i], inner)
		}
	}
	if vg, lv, ok := strings.Cut(name, "/"); ok {
		return o.c.openLV(vg, lv, inner)
	}
	return nil, fmt.Errorf("%s: not a file, and not an array or VG/LV in case file %s", name, o.c.file)
}
