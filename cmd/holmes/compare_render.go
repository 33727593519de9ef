package main

import (
	"fmt"
	"io"
	"strconv"

	"holmes/compare"
	"holmes/render"
)

func printPieces(w io.Writer, rep *compare.PieceReport) error {
	pairs := [][2]string{
		{"A", fmt.Sprintf("%s (%d bytes)", rep.A, rep.SizeA)},
		{"B", fmt.Sprintf("%s (%d bytes)", rep.B, rep.SizeB)},
		{"pieces", fmt.Sprintf("%d of %d bytes (%s)", rep.ComparedCount, rep.BlockSize, rep.Algorithm)},
		{"compared", fmt.Sprintf("%d bytes", rep.Compared)},
		{"first differing piece", pieceOrNone(rep.FirstDiff)},
		{"differing pieces", strconv.Itoa(len(rep.Differing))},
	}
	if rep.UnreadablePieces > 0 {
		pairs = append(pairs, [2]string{"unreadable pieces", fmt.Sprintf("%d, compared with neither verdict", rep.UnreadablePieces)})
	}
	if err := render.KeyValues(w, pairs); err != nil {
		return err
	}
	rows := make([][]string, 0, len(rep.Differing))
	for _, p := range rep.Differing {
		rows = append(rows, []string{strconv.FormatInt(p.Offset, 10), strconv.FormatInt(p.Offset+p.Length, 10), p.HashA[:16], p.HashB[:16]})
	}
	for _, u := range rep.Unreadable {
		rows = append(rows, []string{strconv.FormatInt(u.Start, 10), strconv.FormatInt(u.End, 10), "unreadable on " + u.Device, ""})
	}
	return printTableAndNotes(w, []string{"start", "end", "hash A", "hash B"}, rows, rep.Notes)
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
	if len(rep.Unreadable) > 0 {
		pairs = append(pairs, [2]string{"unreadable", fmt.Sprintf("%d bytes compared with neither verdict (listed per device, in its offsets)", rep.UnreadableBytes)})
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
	for _, u := range rep.Unreadable {
		rows = append(rows, []string{fmt.Sprintf("unreadable on %s (%s)", u.Device, u.Why), strconv.FormatInt(u.Start, 10), strconv.FormatInt(u.End, 10), strconv.FormatInt(u.End-u.Start, 10)})
	}
	for _, e := range rep.Excluded {
		rows = append(rows, []string{"excluded: " + e.Why, strconv.FormatInt(e.Start, 10), strconv.FormatInt(e.End, 10), strconv.FormatInt(e.End-e.Start, 10)})
	}
	return printTableAndNotes(w, []string{"what", "start", "end", "length"}, rows, rep.Notes)
}
