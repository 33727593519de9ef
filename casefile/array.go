package casefile

import (
	"fmt"
	"slices"

	"holmes/blockdev"
	"holmes/mdraid"
)

// openArray assembles an array of the case file virtually. Members are DEVs
// themselves (paths relative to the case file, partitions, other names of
// the case file), so arrays can stack; a cycle is refused.
func (c *Case) openArray(a *Array) (blockdev.Device, error) {
	return c.openArrayVia(a, nil)
}

func (c *Case) openArrayVia(a *Array, chain []string) (blockdev.Device, error) {
	if slices.Contains(chain, a.Name) {
		return nil, fmt.Errorf("case file: array %s contains itself (through %v)", a.Name, chain)
	}
	chain = append(chain, a.Name)
	r := stackResolver{c, chain}
	members := make([]blockdev.Device, len(a.Members))
	for i, m := range a.Members {
		if m == nil || *m == "" {
			continue
		}
		d, err := blockdev.Open(c.memberPath(*m), r)
		if err != nil {
			closeDevices(members)
			return nil, fmt.Errorf("array %s member %d: %w", a.Name, i, err)
		}
		members[i] = d
	}
	g := mdraid.Geometry{Level: a.Level, Layout: a.Layout, ChunkBytes: a.ChunkBytes,
		RaidDisks: len(a.Members), DataOffset: a.DataOffset, DataSize: a.DataSize}
	arr, err := mdraid.Open(g, members, a.Name)
	if err != nil {
		closeDevices(members)
		return nil, err
	}
	return arr, nil
}

// memberPath makes a member DEV's path part relative to the case file, unless
// it is a name the case file defines.
func (c *Case) memberPath(dev string) string {
	for _, a := range c.Arrays {
		if a.Name == dev {
			return dev
		}
	}
	return c.Path(dev)
}

// stackResolver resolves names met while opening an array's members,
// remembering which arrays are being opened to refuse cycles.
type stackResolver struct {
	c     *Case
	chain []string
}

func (r stackResolver) Resolve(name string) (blockdev.Device, error) {
	for i := range r.c.Arrays {
		if r.c.Arrays[i].Name == name {
			return r.c.openArrayVia(&r.c.Arrays[i], r.chain)
		}
	}
	return r.c.Resolve(name)
}

func closeDevices(devs []blockdev.Device) {
	for _, d := range devs {
		if d != nil {
			d.Close()
		}
	}
}
