package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/compare"
	"holmes/render"
)

var compareCmd = &cobra.Command{
	Use:   "compare A B",
	Short: "Compare two devices (or hash manifests): first difference, differing bytes, blocks and regions",
	Long: `compare reads A and B concurrently and reports the first differing byte,
the exact number of differing bytes (what cmp -l | wc -l counts), the number
of differing 4 KiB blocks and the merged regions that differ.

When both devices carry md superblocks only their data areas are compared,
aligned on each member's data offset, and the metadata left out is listed;
--raw compares every byte. --offset and --limit work like cmp -i and -n, in
A's offsets. Devices of different sizes are compared over the common length.

A or B may be a manifest written by holmes hash: two manifests are compared
piece by piece; a manifest and a device by hashing the device with the
manifest's piece size (to check a copy made on another machine).`,
	Args: cobra.ExactArgs(2),
	RunE: runCompare,
}

var compareFlags struct {
	raw           bool
	offset, limit string
}

func init() {
	f := compareCmd.Flags()
	f.BoolVar(&compareFlags.raw, "raw", false, "compare every byte, md metadata included")
	f.StringVar(&compareFlags.offset, "offset", "0", "skip the first `N` bytes of A (like cmp -i); K/M/G/T/s suffixes")
	f.StringVar(&compareFlags.limit, "limit", "", "compare at most `N` bytes (like cmp -n); K/M/G/T/s suffixes")
	rootCmd.AddCommand(compareCmd)
}

func runCompare(cmd *cobra.Command, args []string) error {
	offset, err := blockdev.ParseSize(compareFlags.offset)
	if err != nil {
		return usageError{fmt.Errorf("--offset: %w", err)}
	}
	limit := int64(-1)
	if compareFlags.limit != "" {
		if limit, err = blockdev.ParseSize(compareFlags.limit); err != nil {
			return usageError{fmt.Errorf("--limit: %w", err)}
		}
	}
	devs, err := openDevices(args)
	if err != nil {
		return err
	}
	defer closeAll(devs)
	manifests := make([]*compare.Manifest, 2)
	for i, d := range devs {
		if manifests[i], err = readManifestIfAny(d); err != nil {
			return err
		}
	}
	if manifests[0] != nil || manifests[1] != nil {
		if compareFlags.raw || offset != 0 || limit >= 0 {
			return usageError{fmt.Errorf("--raw, --offset and --limit apply to devices, not to hash manifests")}
		}
		return comparePieces(cmd, devs, manifests)
	}
	progress := newProgress(cmd, "compared")
	rep, err := compare.Devices(devs[0], devs[1], compare.Request{
		Offset: offset, Limit: limit, Raw: compareFlags.raw, Locate: compare.MD,
		Options: compare.Options{Progress: progress.update},
	})
	progress.done()
	if err != nil {
		return err
	}
	return emit(cmd, rep, func(w io.Writer) error { return printCompare(w, rep) })
}

// readManifestIfAny returns the manifest d holds, or nil if d is not one.
func readManifestIfAny(d blockdev.Device) (*compare.Manifest, error) {
	prefix := make([]byte, 64)
	n, _ := d.ReadAt(prefix, 0)
	if !compare.IsManifest(prefix[:n]) {
		return nil, nil
	}
	return compare.ReadManifest(io.NewSectionReader(d, 0, d.Size()), d.Name())
}

// comparePieces compares two manifests, or a manifest and a device hashed
// with the manifest's piece size.
func comparePieces(cmd *cobra.Command, devs []blockdev.Device, manifests []*compare.Manifest) error {
	for i, m := range manifests {
		if m != nil {
			continue
		}
		other := manifests[1-i]
		progress := newProgress(cmd, "hashed")
		h, err := compare.Hash(devs[i], other.BlockSize, progress.update)
		progress.done()
		if err != nil {
			return err
		}
		manifests[i] = h
	}
	rep, err := compare.ComparePieces(manifests[0], manifests[1])
	if err != nil {
		return err
	}
	return emit(cmd, rep, func(w io.Writer) error {
		if err := render.KeyValues(w, [][2]string{
			{"A", fmt.Sprintf("%s (%d bytes)", rep.A, rep.SizeA)},
			{"B", fmt.Sprintf("%s (%d bytes)", rep.B, rep.SizeB)},
			{"pieces", fmt.Sprintf("%d of %d bytes (%s)", rep.ComparedCount, rep.BlockSize, rep.Algorithm)},
			{"compared", fmt.Sprintf("%d bytes", rep.Compared)},
			{"first differing piece", pieceOrNone(rep.FirstDiff)},
			{"differing pieces", strconv.Itoa(len(rep.Differing))},
		}); err != nil {
			return err
		}
		rows := make([][]string, 0, len(rep.Differing))
		for _, p := range rep.Differing {
			rows = append(rows, []string{strconv.FormatInt(p.Offset, 10), strconv.FormatInt(p.Offset+p.Length, 10), p.HashA[:16], p.HashB[:16]})
		}
		return printTableAndNotes(w, []string{"start", "end", "hash A", "hash B"}, rows, rep.Notes)
	})
}

// maxRegionRows keeps the table readable; --json has every region.
const maxRegionRows = 40

func printCompare(w io.Writer, rep *compare.Report) error {
	pairs := [][2]string{
		{"A", fmt.Sprintf("%s (%d bytes)", rep.A, rep.SizeA)},
		{"B", fmt.Sprintf("%s (%d bytes)", rep.B, rep.SizeB)},
		{"compared", fmt.Sprintf("%d bytes: A from %d, B from %d", rep.Compared, rep.StartA, rep.StartB)},
		{"first diff", offsetOrNone(rep.FirstDiff)},
		{"diff bytes", strconv.FormatInt(rep.DiffBytes, 10)},
		{"diff blocks", fmt.Sprintf("%d of 4 KiB", rep.DiffBlocks)},
		{"regions", strconv.Itoa(len(rep.Regions))},
	}
	if rep.RegionGap > 0 {
		pairs = append(pairs, [2]string{"region gap", fmt.Sprintf("regions closer than %d bytes merged (too many to list)", rep.RegionGap)})
	}
	if err := render.KeyValues(w, pairs); err != nil {
		return err
	}
	var rows [][]string
	regions := rep.Regions
	if len(regions) > maxRegionRows {
		regions = regions[:maxRegionRows]
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d more regions not shown (--json lists them all)", len(rep.Regions)-maxRegionRows))
	}
	for _, r := range regions {
		rows = append(rows, []string{"differs", strconv.FormatInt(r.Start, 10), strconv.FormatInt(r.End, 10), strconv.FormatInt(r.End-r.Start, 10)})
	}
	for _, e := range rep.Excluded {
		rows = append(rows, []string{"excluded: " + e.Why, strconv.FormatInt(e.Start, 10), strconv.FormatInt(e.End, 10), strconv.FormatInt(e.End-e.Start, 10)})
	}
	return printTableAndNotes(w, []string{"what", "start", "end", "length"}, rows, rep.Notes)
}

// printTableAndNotes prints rows (if any) after a blank line, then notes.
func printTableAndNotes(w io.Writer, header []string, rows [][]string, notes []string) error {
	if len(rows) > 0 {
		fmt.Fprintln(w)
		if err := render.Table(w, header, rows); err != nil {
			return err
		}
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, "note:", n); err != nil {
			return err
		}
	}
	return nil
}

func pieceOrNone(off *int64) string {
	if off == nil {
		return "none"
	}
	return "starts at " + strconv.FormatInt(*off, 10)
}

// offsetOrNone shows an offset for people, with cmp's 1-based byte number.
func offsetOrNone(off *int64) string {
	if off == nil {
		return "none"
	}
	return fmt.Sprintf("%d (cmp: byte %d)", *off, *off+1)
}
