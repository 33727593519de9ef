package casefile

import (
	"fmt"
	"io"
	"os"
	"strings"

	"holmes/blockdev"
	"holmes/lvmmeta"
)

// openLV maps logical volume vg/lv over the PVs the case file names. The
// PV DEVs may themselves be arrays or LVs of the same case file; r carries
// the names being opened.
func (c *Case) openLV(vgName, lvName string, r opening) (blockdev.Device, error) {
	vg, pvs, opened, err := c.openPVs(vgName, r)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", vgName, lvName, err)
	}
	lv, err := lvmmeta.OpenLV(vg, lvName, pvs)
	if err != nil {
		closeAll(opened)
		return nil, err
	}
	return blockdev.Stack(lv, opened...), nil
}

// OpenPVs opens the PVs the case file maps for volume group vgName, by
// their names in the VG text ("pv0"); closing the returned device closes
// them all.
func (c *Case) OpenPVs(vgName string) (*lvmmeta.VG, map[string]blockdev.Device, io.Closer, error) {
	vg, pvs, opened, err := c.openPVs(vgName, opening{c: c})
	if err != nil {
		return nil, nil, nil, err
	}
	return vg, pvs, closers(opened), nil
}

func (c *Case) openPVs(vgName string, r opening) (*lvmmeta.VG, map[string]blockdev.Device, []blockdev.Device, error) {
	for i := range c.VolumeGroups {
		g := &c.VolumeGroups[i]
		vg, err := c.loadVG(g)
		if err != nil {
			return nil, nil, nil, err
		}
		if vg.Name != vgName {
			continue
		}
		pvs := map[string]blockdev.Device{}
		var opened []blockdev.Device
		for name, dev := range g.PVs {
			if vg.PV(name) == nil {
				closeAll(opened)
				return nil, nil, nil, fmt.Errorf("case file %s: volume group %s has no PV %q (pvs maps it to %s)", c.file, vgName, name, dev)
			}
			d, err := blockdev.Open(c.DevSpec(dev), r)
			if err != nil {
				closeAll(opened)
				return nil, nil, nil, fmt.Errorf("PV %s: %w", name, err)
			}
			opened = append(opened, d)
			pvs[name] = d
		}
		return vg, pvs, opened, nil
	}
	return nil, nil, nil, fmt.Errorf("no volume group %s in case file %s", vgName, c.file)
}

func closeAll(devs []blockdev.Device) {
	for _, d := range devs {
		d.Close()
	}
}

// closers closes devices as one.
type closers []blockdev.Device

func (c closers) Close() error {
	closeAll(c)
	return nil
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
