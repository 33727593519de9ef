package casefile

import (
	"fmt"
	"os"
	"strings"

	"holmes/blockdev"
	"holmes/lvmmeta"
)

// maxMetadataFile bounds a case file's LVM metadata file; real ones are kilobytes.
const maxMetadataFile = 16 << 20

// openLV maps logical volume vg/lv over the PVs the case file names. The
// PV DEVs may themselves be arrays or LVs of the same case file.
func (c *Case) openLV(vgName, lvName string) (blockdev.Device, error) {
	return c.openLVDepth(vgName, lvName, 0)
}

// maxStack bounds layers of LVs on LVs, so a case file whose volume groups
// refer to each other in a circle fails instead of recursing forever.
const maxStack = 8

func (c *Case) openLVDepth(vgName, lvName string, depth int) (blockdev.Device, error) {
	if depth > maxStack {
		return nil, fmt.Errorf("%s/%s: volume groups nested more than %d deep in case file (a cycle?)", vgName, lvName, maxStack)
	}
	for i := range c.VolumeGroups {
		g := &c.VolumeGroups[i]
		vg, err := c.loadVG(g)
		if err != nil {
			return nil, err
		}
		if vg.Name != vgName {
			continue
		}
		pvs := map[string]blockdev.Device{}
		var opened []blockdev.Device
		fail := func(err error) (blockdev.Device, error) {
			for _, d := range opened {
				d.Close()
			}
			return nil, err
		}
		for name, dev := range g.PVs {
			if vg.PV(name) == nil {
				return fail(fmt.Errorf("case file: volume group %s has no PV %q (pvs maps it to %s)", vgName, name, dev))
			}
			d, err := blockdev.Open(c.devSpec(dev), &nested{c, depth + 1})
			if err != nil {
				return fail(fmt.Errorf("%s/%s: PV %s: %w", vgName, lvName, name, err))
			}
			opened = append(opened, d)
			pvs[name] = d
		}
		lv, err := lvmmeta.OpenLV(vg, lvName, pvs)
		if err != nil {
			return fail(err)
		}
		return &stacked{Device: lv, below: opened}, nil
	}
	return nil, fmt.Errorf("%s/%s: no volume group %s in case file", vgName, lvName, vgName)
}

func (c *Case) loadVG(g *VolumeGroup) (*lvmmeta.VG, error) {
	path := c.Path(g.Metadata)
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("case file: volume group metadata: %w", err)
	}
	if st.Size() > maxMetadataFile {
		return nil, fmt.Errorf("case file: volume group metadata %s: %d bytes is too large", path, st.Size())
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("case file: volume group metadata: %w", err)
	}
	vg, err := lvmmeta.ParseText(text)
	if err != nil {
		return nil, fmt.Errorf("case file: volume group metadata %s: %w", path, err)
	}
	return vg, nil
}

// devSpec makes a PV's DEV usable from any working directory: names of
// this case file's arrays and VG/LVs stay names (with any :pN or @range),
// other DEVs are paths relative to the case file.
func (c *Case) devSpec(dev string) string {
	base, _, _ := strings.Cut(dev, "@")
	if i := strings.LastIndex(base, ":p"); i >= 0 {
		base = base[:i]
	}
	if c.memberPath(base) == base { // an array of this case, or an absolute path
		return dev
	}
	if vg, _, ok := strings.Cut(base, "/"); ok {
		if _, err := os.Stat(c.Path(base)); err != nil && c.hasVG(vg) {
			return dev
		}
	}
	return c.Path(dev)
}

func (c *Case) hasVG(name string) bool {
	for i := range c.VolumeGroups {
		if vg, err := c.loadVG(&c.VolumeGroups[i]); err == nil && vg.Name == name {
			return true
		}
	}
	return false
}

// nested resolves names for the PVs of an LV, counting the depth.
type nested struct {
	c     *Case
	depth int
}

func (n *nested) Resolve(name string) (blockdev.Device, error) {
	if vg, lv, ok := strings.Cut(name, "/"); ok && n.c.hasVG(vg) {
		return n.c.openLVDepth(vg, lv, n.depth)
	}
	return n.c.Resolve(name)
}

// stacked is a device built on others; closing it closes them too.
type stacked struct {
	blockdev.Device
	below []blockdev.Device
}

func (s *stacked) Close() error {
	err := s.Device.Close()
	for _, d := range s.below {
		if e := d.Close(); err == nil {
			err = e
		}
	}
	return err
}
