package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"holmes/mdraid"
	"holmes/render"
)

func printExamine(w io.Writer, report []examinedDevice) error {
	var rows [][]string
	for i, e := range report {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s (%d bytes): %d md superblock(s)\n", e.Device, e.Size, len(e.Superblocks))
		for _, sb := range e.Superblocks {
			fmt.Fprintln(w)
			if err := render.KeyValues(w, superblockPairs(sb)); err != nil {
				return err
			}
			rows = append(rows, []string{e.Device, sb.Version, strconv.FormatInt(sb.Offset, 10), sb.ArrayUUID,
				strings.TrimSpace(sb.Level + " " + sb.Layout), mdraid.RoleName(sb.Role), strconv.FormatUint(sb.Events, 10),
				sb.UTime.UTC().Format(time.RFC3339), sb.ArrayState, checkText(sb.ChecksumOK)})
		}
	}
	// Several superblocks: one line each, so that events, roles and
	// update times can be compared at a glance (which member is stale).
	if len(rows) < 2 {
		return nil
	}
	fmt.Fprintln(w)
	return render.Table(w, []string{"device", "version", "offset", "array uuid", "level", "role", "events", "updated", "state", "checksum"}, rows)
}

// superblockPairs lists a superblock's facts for people, in mdadm's order
// and wording where mdadm has one, with byte offsets instead of sectors.
func superblockPairs(sb *mdraid.Superblock) [][2]string {
	p := [][2]string{
		{"Version", sb.Version},
		{"Superblock at", bytesText(sb.Offset)},
	}
	add := func(k, v string) { p = append(p, [2]string{k, v}) }
	if sb.ByteOrder != "little-endian" {
		add("Byte order", sb.ByteOrder+" (written by a big-endian host)")
	}
	add("Feature map", fmt.Sprintf("0x%x", sb.FeatureMap))
	add("Array UUID", sb.ArrayUUID)
	if sb.Version[0] == '1' {
		add("Name", sb.Name)
	} else {
		add("Preferred minor", fmt.Sprint(sb.PreferredMinor))
	}
	add("Creation time", timeText(sb.CTime))
	add("Raid level", sb.Level)
	add("Raid devices", fmt.Sprint(sb.RaidDisks))
	if sb.Layout != "" {
		add("Layout", sb.Layout)
	}
	if sb.ChunkBytes > 0 {
		add("Chunk size", bytesText(sb.ChunkBytes))
	}
	add("Data offset", bytesText(sb.DataOffset))
	add("Data size", bytesText(sb.DataSize))
	add("Used dev size", bytesText(sb.UsedSize))
	if sb.ArraySize > 0 {
		add("Array size", bytesText(sb.ArraySize))
	}
	if sb.Version[0] == '1' {
		add("Super offset", bytesText(sb.SuperOffset))
	}
	add("State", sb.State)
	if sb.DeviceUUID != "" {
		add("Device UUID", sb.DeviceUUID)
	}
	if b := sb.Bitmap; b != nil {
		v := "at " + bytesText(b.Offset)
		if b.HeaderOK {
			v += fmt.Sprintf(", %s, chunk %s, events %d", bytesText(b.Size), bytesText(b.ChunkBytes), b.Events)
		} else {
			v += ", no bitmap header there"
		}
		add("Internal bitmap", v)
	}
	if b := sb.BadBlockLog; b != nil {
		add("Bad block log", fmt.Sprintf("%d entries at %s", b.Size/8, bytesText(b.Offset)))
	}
	if r := sb.Reshape; r != nil {
		add("Reshape", fmt.Sprintf("at %s to %s %s chunk %s, delta %d devices", bytesText(r.Position), r.NewLevel, r.NewLayout, bytesText(r.NewChunk), r.DeltaDisks))
	}
	add("Update time", timeText(sb.UTime))
	if sb.ChecksumOK {
		add("Checksum", fmt.Sprintf("%x - correct", sb.Checksum))
	} else {
		add("Checksum", fmt.Sprintf("%x - BAD, expected %x", sb.Checksum, sb.ExpectedChecksum))
	}
	add("Events", fmt.Sprint(sb.Events))
	add("Device role", roleText(sb.Role))
	add("Array state", sb.ArrayState)
	for _, pr := range sb.Problems {
		add("Problem", pr)
	}
	return p
}

func roleText(role int) string {
	if role >= 0 {
		return fmt.Sprintf("active device %d", role)
	}
	return mdraid.RoleName(role)
}
