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
				return fail(fmt.Errorf("case file: volume group %s has no PV %q (pvs maps it to %s)", vgName, name, dev))
			}
			d, err := blockdev.Open(c.devSpec(dev), r)
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
	if !st.Mode().IsRegular() || st.Size() > maxMetadataFile {
		// A device or FIFO would be read without end.
		return nil, fmt.Errorf("case file: volume group metadata %s: not a regular file of at most %d bytes", path, maxMetadataFile)
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

// devSpec makes a member's or PV's DEV usable from any working directory:
// names of this case file's arrays and VG/LVs stay names (with any :pN or
// @range), other DEVs are paths relative to the case file.
func (c *Case) devSpec(dev string) string {
	base, _, _ := strings.Cut(dev, "@")
	if i := strings.LastIndex(base, ":p"); i >= 0 {
		base = base[:i]
	}
	for _, a := range c.Arrays {
		if a.Name == base {
			return dev
		}
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
