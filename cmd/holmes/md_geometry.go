package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/mdraid"
)

// geometryFlags are the geometry options shared by md assemble (and the
// hints md solve takes); sizes follow mdadm: a bare number is KiB.
type geometryFlags struct {
	level, layout, chunk, dataOffset, dataSize, order string
	raidDevices                                       int
}

func (f *geometryFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.level, "level", "", "raid `LEVEL` (raid0 raid1 raid4 raid5 raid6 raid10 linear, or 0 1 4 5 6 10)")
	fs.StringVar(&f.layout, "layout", "", "`LAYOUT`: n2 f2 o2 ... for raid10, left-symmetric ... for raid5/6")
	fs.StringVar(&f.chunk, "chunk", "", "chunk `SIZE` (bare number = KiB as in mdadm; or 512K, 1M)")
	fs.StringVar(&f.dataOffset, "data-offset", "", "data offset on each member, a `SIZE` (bare number = KiB as in mdadm; or 1M, 2048s)")
	fs.StringVar(&f.dataSize, "data-size", "", "`SIZE` of each member the array uses (default: as much as the members allow)")
	fs.StringVar(&f.order, "order", "", "role order as `INDICES` into the DEV list, e.g. 2,0,missing,1 (default: as given)")
	fs.IntVar(&f.raidDevices, "raid-devices", 0, "`COUNT` of raid disks (default: the number of DEVs)")
}

// given reports whether any geometry flag was set.
func (f *geometryFlags) given(cmd *cobra.Command) bool {
	for _, name := range []string{"level", "layout", "chunk", "data-offset", "data-size", "raid-devices"} {
		if cmd.Flags().Changed(name) {
			return true
		}
	}
	return false
}

// geometry builds the geometry the flags describe for n members.
func (f *geometryFlags) geometry(n int) (mdraid.Geometry, error) {
	g := mdraid.Geometry{Level: f.level, Layout: f.layout, RaidDisks: n}
	if f.raidDevices > 0 {
		g.RaidDisks = f.raidDevices
	}
	var err error
	if g.ChunkBytes, err = mdadmSize("--chunk", f.chunk); err != nil {
		return g, err
	}
	if g.DataOffset, err = mdadmSize("--data-offset", f.dataOffset); err != nil {
		return g, err
	}
	if f.dataSize != "" {
		if g.DataSize, err = blockdev.ParseSize(f.dataSize); err != nil {
			return g, usageError{fmt.Errorf("--data-size: %w", err)}
		}
	}
	g, err = g.Normalize()
	if err != nil {
		return g, usageError{err}
	}
	return g, nil
}

// mdadmSize parses a size flag as mdadm does: a bare number is KiB.
func mdadmSize(flag, s string) (int64, error) {
	n, err := mdraid.ParseMdadmSize(s)
	if err != nil {
		return 0, usagef("%s: %w", flag, err)
	}
	return n, nil
}

// roleOrder applies --order to the DEV list (see mdraid.RoleOrder).
func roleOrder(specs []string, order string) ([]string, error) {
	out, err := mdraid.RoleOrder(specs, order)
	if err != nil {
		return nil, usagef("--order: %w", err)
	}
	return out, nil
}
