package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"holmes/mdraid"
	"holmes/render"
	"holmes/scan"
)

func printScan(w io.Writer, r *scan.Report) error {
	fmt.Fprintf(w, "%s (%d bytes)\n", r.Device, r.Size)
	if t := r.PartitionTable; t != nil {
		fmt.Fprintf(w, "partition table: %s", t.Kind)
		if t.DiskGUID != "" {
			fmt.Fprintf(w, " %s", t.DiskGUID)
		}
		fmt.Fprintln(w)
		for _, p := range t.Problems {
			fmt.Fprintf(w, "  problem: %s\n", p)
		}
	} else {
		fmt.Fprintf(w, "partition table: none (%s)\n", r.PartitionTableError)
	}
	if len(r.Partitions) > 0 {
		rows := make([][]string, 0, len(r.Partitions))
		for _, p := range r.Partitions {
			typ := p.Type
			if p.TypeName != "" {
				typ += " " + p.TypeName
			}
			rows = append(rows, []string{strconv.Itoa(p.Number), strconv.FormatInt(p.Start, 10),
				strconv.FormatInt(p.Start+p.Size, 10), bytesText(p.Size), typ, p.Name})
		}
		if err := render.Table(w, []string{"#", "start", "end", "size", "type", "name"}, rows); err != nil {
			return err
		}
	}
	if len(r.Signatures) == 0 {
		fmt.Fprintln(w, "signatures: none found")
	} else {
		rows := make([][]string, 0, len(r.Signatures))
		for _, s := range r.Signatures {
			start, part := "?", ""
			if s.Start != nil {
				start = strconv.FormatInt(*s.Start, 10)
			}
			if s.Partition > 0 {
				part = "p" + strconv.Itoa(s.Partition)
			}
			rows = append(rows, []string{s.Kind, strconv.FormatInt(s.Offset, 10), start, part, signatureText(s)})
		}
		if err := render.Table(w, []string{"kind", "offset", "start", "part", "what"}, rows); err != nil {
			return err
		}
	}
	var searched []string
	for _, s := range r.Searched {
		searched = append(searched, fmt.Sprintf("%d-%d (%s)", s.Start, s.End, s.Why))
	}
	fmt.Fprintf(w, "searched every sector of %s; probed %d more positions\n", strings.Join(searched, ", "), r.Probed)
	if len(r.Unreadable) > 0 {
		var gaps []string
		for _, u := range r.Unreadable {
			gaps = append(gaps, fmt.Sprintf("%d-%d (%s)", u.Start, u.End, u.Why))
		}
		fmt.Fprintf(w, "unreadable, so nothing found or ruled out there: %s\n", strings.Join(gaps, ", "))
	}
	return nil
}

// signatureText is the one-line description of a finding.
func signatureText(s *scan.Signature) string {
	var t string
	switch {
	case s.MD != nil:
		m := s.MD
		t = fmt.Sprintf("md %s %s", m.Version, m.Level)
		if m.Layout != "" {
			t += " " + m.Layout
		}
		t += fmt.Sprintf(", %d devices, role %s, events %d, uuid %s", m.RaidDisks, mdraid.RoleName(m.Role), m.Events, m.ArrayUUID)
		if m.Name != "" {
			t += ", name " + m.Name
		}
		if !m.ChecksumOK {
			t += ", BAD CHECKSUM"
		}
	case s.LVM != nil:
		t = fmt.Sprintf("LVM PV %s, label in sector %d, device size %d", s.LVM.PVUUID, s.LVM.Sector, s.LVM.DeviceSize)
	case s.Ext != nil:
		e := s.Ext
		kind := "ext filesystem"
		if e.JournalDev {
			kind = "ext external journal"
		}
		copyOf := "primary superblock"
		switch {
		case e.Copy:
			copyOf = "copy inside the filesystem (journal or file)"
		case e.Group > 0:
			copyOf = fmt.Sprintf("backup superblock (group %d)", e.Group)
		}
		t = fmt.Sprintf("%s %s, %s, %d x %d-byte blocks", kind, e.UUID, copyOf, e.Blocks, e.BlockSize)
		if e.Label != "" {
			t += ", label " + e.Label
		}
		if e.PastEnd {
			t += ", runs past the end of the device"
		}
	case s.DRBD != nil:
		t = fmt.Sprintf("DRBD %s metadata, current uuid %s, device uuid %s, backing device ends at %d", s.DRBD.Version, s.DRBD.CurrentUUID, s.DRBD.DeviceUUID, s.DRBD.DeviceEnd)
	case s.Thin != nil:
		t = fmt.Sprintf("thin pool metadata, transaction %d, %d data blocks of %d bytes, metadata size %d", s.Thin.TransactionID, s.Thin.DataBlocks, s.Thin.DataBlockSize, s.Thin.MetadataSize)
	case s.Cache != nil:
		shutdown := "clean shutdown"
		if !s.Cache.CleanShutdown {
			shutdown = "not a clean shutdown"
		}
		t = fmt.Sprintf("dm-cache metadata format %d, %s, %d cache blocks of %d bytes, %s, metadata size %d", s.Cache.Format, s.Cache.Policy, s.Cache.CacheBlocks, s.Cache.BlockSize, shutdown, s.Cache.MetadataSize)
	}
	if s.Error != "" {
		t = strings.TrimSpace(t + " INVALID: " + s.Error)
	}
	return t
}
