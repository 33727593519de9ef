package casefile

import (
	"fmt"

	"holmes/blockdev"
	"holmes/mdraid"
)

// openArray assembles an array of the case file virtually. Members are DEVs
// themselves (paths relative to the case file, partitions, other names of
// the case file), so arrays can stack; r carries the names being opened.
func (c *Case) openArray(a *Array, r opening) (blockdev.Device, error) {
	members := make([]blockdev.Device, len(a.Members))
	for i, m := range a.Members {
		if m == nil || *m == "" {
			continue
		}
		d, err := blockdev.Open(c.devSpec(*m), r)
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

func closeDevices(devs []blockdev.Device) {
	for _, d := range devs {
		if d != nil {
			d.Close()
		}
	}
}
