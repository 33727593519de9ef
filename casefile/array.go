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
		d, err := blockdev.Open(c.DevSpec(*m), r)
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
	return blockdev.Stack(arr, members...), nil
}

func closeDevices(devs []blockdev.Device) {
	for _, d := range devs {
		if d != nil {
			d.Close()
		}
	}
}

// MemberList turns members in role order ("" = missing) into the case
// file's form (nil = missing).
func MemberList(names []string) []*string {
	out := make([]*string, len(names))
	for i := range names {
		if names[i] != "" {
			s := names[i]
			out[i] = &s
		}
	}
	return out
}

// RecordArray records an assembled or solved array of geometry g and md
// metadata format metadata ("" when unknown) in the case file at path (see
// SetArray); members are in role order, nil missing.
func RecordArray(path, name string, g mdraid.Geometry, metadata string, members []*string) error {
	copied := make([]*string, len(members))
	for i, m := range members {
		if m != nil {
			s := *m
			copied[i] = &s
		}
	}
	return SetArray(path, Array{Name: name, Level: g.Level, Layout: g.Layout,
		ChunkBytes: g.ChunkBytes, DataOffset: g.DataOffset, DataSize: g.DataSize, Metadata: metadata, Members: copied})
}
