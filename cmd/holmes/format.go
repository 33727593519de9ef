package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"holmes/render"
)

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

func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// rfc3339 formats a time for JSON, "" for an unset one.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// checkText is how a table shows the outcome of a check: "ok" or "BAD".
func checkText(passed bool) string {
	if passed {
		return "ok"
	}
	return "BAD"
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
