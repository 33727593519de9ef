package casefile

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"holmes/blockdev"
	"holmes/internal/safewrite"
)

// SetArray records array a in the case file at path (created if absent):
// an array of the same name is replaced, everything else people wrote is
// kept. Member paths are rewritten relative to the case file, as the format
// wants, so the case directory can be moved as a whole.
func SetArray(path string, a Array) error {
	return update(path, func(c *Case) {
		for _, list := range [][]*string{a.Members, a.LeftOut} {
			for i, m := range list {
				if m != nil && *m != "" {
					rel := c.relative(*m)
					list[i] = &rel
				}
			}
		}
		for i := range c.Arrays {
			if c.Arrays[i].Name == a.Name {
				c.Arrays[i] = a
				return
			}
		}
		c.Arrays = append(c.Arrays, a)
	})
}

// SetVolumeGroup records volume group g in the case file at path (created
// if absent), replacing an entry for the same VG name: one name must mean
// one VG when "vg/lv" is resolved. vgName is the name inside g.Metadata.
func SetVolumeGroup(path, vgName string, g VolumeGroup) error {
	return update(path, func(c *Case) {
		g.Metadata = c.relative(g.Metadata)
		for pv, dev := range g.PVs {
			g.PVs[pv] = c.relative(dev)
		}
		for i := range c.VolumeGroups {
			if vg, err := c.loadVG(&c.VolumeGroups[i]); err == nil && vg.Name == vgName {
				c.VolumeGroups[i] = g
				return
			}
		}
		c.VolumeGroups = append(c.VolumeGroups, g)
	})
}

// SetFilesystem records how the filesystem on f.Dev is checked and mounted
// (created if absent), replacing an entry for the same DEV.
func SetFilesystem(path string, f Filesystem) error {
	return update(path, func(c *Case) {
		for i := range c.Filesystems {
			if c.Filesystems[i].Dev == f.Dev {
				c.Filesystems[i] = f
				return
			}
		}
		c.Filesystems = append(c.Filesystems, f)
	})
}

// SetMap records the GNU ddrescue mapfile of an image (both paths made
// relative to the case file), so that every command reading the case reads
// the image's gaps as gaps.
func SetMap(path, image, mapfile string) error {
	return update(path, func(c *Case) {
		if c.Maps == nil {
			c.Maps = map[string]string{}
		}
		c.Maps[c.relative(image)] = c.relative(mapfile)
	})
}

// update loads the case file at path (or starts an empty one), applies
// change and writes it back, keeping everything people wrote.
func update(path string, change func(c *Case)) error {
	c := &Case{file: path, dir: filepath.Dir(path)}
	if _, err := os.Stat(path); err == nil {
		if c, err = Load(path); err != nil {
			return err
		}
	}
	change(c)
	return c.write(path)
}

// relative rewrites the path part of a DEV (before any :pN or @range) relative
// to the case file's directory; names that are neither existing nor
// absolute paths stay as they are.
func (c *Case) relative(dev string) string {
	path, suffix := blockdev.SplitSpec(dev, fileExists)
	// An absolute path not here (a disk a collect archive stands for) is a
	// path all the same.
	if !fileExists(path) && !filepath.IsAbs(path) {
		return dev
	}
	abs, err1 := filepath.Abs(path)
	dir, err2 := filepath.Abs(c.dir)
	if err1 != nil || err2 != nil {
		return dev
	}
	rel, err := filepath.Rel(dir, abs)
	if err != nil {
		return abs + suffix
	}
	return rel + suffix
}

// write replaces the file atomically: a half-written case file would lose
// what a recovery had established.
func (c *Case) write(path string) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	err = safewrite.Replace(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	}, nil)
	if err != nil {
		return fmt.Errorf("case file %s: %w", path, err)
	}
	return nil
}
