package casefile

import (
	"fmt"
	"os"
	"strings"

	"holmes/blockdev"
	"holmes/lvmmeta"
)

// openLV maps logical volume vg/lv over the PVs the case file names. The
// PV DEVs may themselves be arrays or LVs of the same case file; r carries
// the names being opened.
func (c *Case) openLV(vgName, lvName string, r opening) (blockdev.Device, error) {
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
				return fail(fmt.Errorf("case file %s: volume group %s has no PV %q (pvs maps it to %s)", c.file, vgName, name, dev))
			}
			d, err := blockdev.Open(c.DevSpec(dev), r)
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
		return blockdev.Stack(lv, opened...), nil
	}
	return nil, fmt.Errorf("%s/%s: no volume group %s in case file %s", vgName, lvName, vgName, c.file)
}

// VG returns the volume group of that name the case file records.
func (c *Case) VG(name string) (*lvmmeta.VG, error) {
	for i := range c.VolumeGroups {
		vg, err := c.loadVG(&c.VolumeGroups[i])
		if err != nil {
			return nil, err
		}
		if vg.Name == name {
			return vg, nil
		}
	}
	return nil, fmt.Errorf("no volume group %s in case file %s", name, c.file)
}

func (c *Case) loadVG(g *VolumeGroup) (*lvmmeta.VG, error) {
	vg, err := lvmmeta.ReadVGFile(c.Path(g.Metadata))
	if err != nil {
		return nil, fmt.Errorf("case file %s: volume group metadata: %w", c.file, err)
	}
	return vg, nil
}

// DevSpec makes a member's or PV's DEV usable from any working directory:
// names of this case file's arrays and VG/LVs stay names (with any :pN or
// @range), other DEVs are paths relative to the case file.
func (c *Case) DevSpec(dev string) string {
	base, _ := blockdev.SplitSpec(dev, func(p string) bool { return fileExists(c.Path(p)) })
	for _, a := range c.Arrays {
		if a.Name == base {
			return dev
		}
	}
	if vg, _, ok := strings.Cut(base, "/"); ok && !fileExists(c.Path(base)) && c.hasVG(vg) {
		return dev
	}
	return c.Path(dev)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (c *Case) hasVG(name string) bool {
	for i := range c.VolumeGroups {
		if vg, err := c.loadVG(&c.VolumeGroups[i]); err == nil && vg.Name == name {
			return true
		}
	}
	return false
}
