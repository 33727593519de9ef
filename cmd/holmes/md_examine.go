package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"holmes/mdraid"
	"holmes/render"
)

var mdExamineCmd = &cobra.Command{
	Use:   "examine DEV...",
	Short: "Show every md superblock (0.90, 1.0, 1.1, 1.2) on each device",
	Long: `examine looks for md superblocks where each metadata version keeps them
(0.90 and 1.0 near the end of the device, 1.1 at its start, 1.2 at 4 KiB)
and decodes every one it finds, like mdadm --examine but read-only and for
all versions at once. A superblock whose checksum is wrong is still shown,
marked, and its other problems listed. A device without any superblock is
an error (exit 1) after the others are reported.`,
	Args: cobra.MinimumNArgs(1),
	RunE: runMdExamine,
}

func init() { mdCmd.AddCommand(mdExamineCmd) }

// examinedDevice is one element of the md examine JSON document (docs/cli.md).
type examinedDevice struct {
	Device      string               `json:"device"`
	Size        int64                `json:"size"`
	Superblocks []*mdraid.Superblock `json:"superblocks"`
}

func runMdExamine(cmd *cobra.Command, args []string) error {
	devs, err := openDevices(args)
	if err != nil {
		return err
	}
	defer closeAll(devs)
	report := make([]examinedDevice, 0, len(devs))
	var missing []string
	for _, d := range devs {
		sbs, err := mdraid.Examine(d, d.Size())
		if err != nil {
			return fmt.Errorf("%s: %w", d.Name(), err)
		}
		if len(sbs) == 0 {
			missing = append(missing, d.Name())
		}
		report = append(report, examinedDevice{d.Name(), d.Size(), append([]*mdraid.Superblock{}, sbs...)})
	}
	if err := emit(cmd, report, func(w io.Writer) error { return printExamine(w, report) }); err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("md: no md superblock on %s (looked for 0.90 and 1.0 near the end, 1.1 at 0, 1.2 at 4096)", strings.Join(missing, ", "))
	}
	return nil
}

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
			checksum := "ok"
			if !sb.ChecksumOK {
				checksum = "BAD"
			}
			rows = append(rows, []string{e.Device, sb.Version, strconv.FormatInt(sb.Offset, 10), sb.ArrayUUID,
				strings.TrimSpace(sb.Level + " " + sb.Layout), mdraid.RoleName(sb.Role), strconv.FormatUint(sb.Events, 10),
				sb.UTime.UTC().Format(time.RFC3339), sb.ArrayState, checksum})
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

func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// bytesText shows a byte count exactly, with a binary-unit hint for people.
func bytesText(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	if n < 1024 {
		return fmt.Sprintf("%d", n)
	}
	v, u := float64(n)/1024, 0
	for v >= 1024 && u < len(units)-1 {
		v, u = v/1024, u+1
	}
	return fmt.Sprintf("%d (%.2f %s)", n, v, units[u])
}
