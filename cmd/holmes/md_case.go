package main

import (
	"holmes/casefile"
	"holmes/mdraid"
)

// memberList turns role specs ("" = missing) into the JSON/case-file form.
func memberList(specs []string) []*string {
	out := make([]*string, len(specs))
	for i := range specs {
		if specs[i] != "" {
			out[i] = &specs[i]
		}
	}
	return out
}

// writeCaseArray records an assembled or solved array in a case file.
func writeCaseArray(path, name string, g mdraid.Geometry, members []*string) error {
	copied := make([]*string, len(members))
	for i, m := range members {
		if m != nil {
			s := *m
			copied[i] = &s
		}
	}
	return casefile.SetArray(path, casefile.Array{Name: name, Level: g.Level, Layout: g.Layout,
		ChunkBytes: g.ChunkBytes, DataOffset: g.DataOffset, DataSize: g.DataSize, Members: copied})
}
