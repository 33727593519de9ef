package main

import (
	"fmt"
	"io"
	"strconv"

	"holmes/render"
)

func printAssemble(w io.Writer, r assembleReport) error {
	pairs := [][2]string{
		{"Name", r.Name}, {"Geometry from", r.Source}, {"Level", r.Level}, {"Layout", r.Layout},
		{"Chunk", bytesText(r.ChunkBytes)}, {"Raid disks", strconv.Itoa(r.RaidDisks)},
		{"Data offset", bytesText(r.DataOffset)}, {"Data size", bytesText(r.DataSize)},
		{"Array size", bytesText(r.ArraySize)},
	}
	if r.ArrayUUID != "" {
		pairs = append(pairs, [2]string{"Array UUID", r.ArrayUUID}, [2]string{"Metadata", r.Metadata})
	}
	if r.SHA256 != "" {
		pairs = append(pairs, [2]string{"sha256", r.SHA256})
	}
	if err := render.KeyValues(w, pairs); err != nil {
		return err
	}
	rows := make([][]string, len(r.Members))
	for i, m := range r.Members {
		dev := "missing"
		if m != nil {
			dev = *m
		}
		rows[i] = []string{strconv.Itoa(i), dev}
	}
	fmt.Fprintln(w)
	if err := render.Table(w, []string{"ROLE", "DEVICE"}, rows); err != nil {
		return err
	}
	if len(r.Candidates) > 0 {
		rows = rows[:0]
		for _, c := range r.Candidates {
			role := "-"
			if c.Role != nil {
				role = strconv.Itoa(*c.Role)
			}
			rows = append(rows, []string{c.Device, c.Superblock, c.ArrayUUID, role, strconv.FormatUint(c.Events, 10), c.Status, c.Why})
		}
		fmt.Fprintln(w)
		if err := render.Table(w, []string{"DEVICE", "SUPERBLOCK", "ARRAY UUID", "ROLE", "EVENTS", "STATUS", "WHY"}, rows); err != nil {
			return err
		}
	}
	for _, warning := range r.Warnings {
		fmt.Fprintln(w, "warning:", warning)
	}
	return nil
}
