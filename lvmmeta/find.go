package lvmmeta

import (
	"bytes"
	"strconv"
)

// Every metadata text, in a metadata area or a backup file, opens its VG
// section the same way:
//
//	NAME {
//	id = "xxxxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxx"
//	seqno = N
//
// (indented by tabs in files). find.go recognises that head around each
// "seqno = ", which is rare enough in raw bytes to be found at memory speed
// with bytes.Index.

var seqnoKey = []byte("seqno = ")

// textHead is the head of a metadata text found in a buffer.
type textHead struct {
	start  int // index of the VG name's first byte
	vg, id string
	seqno  int64
}

const dashedUUIDLen = 38

// headAround checks whether the "seqno = " at b[i:] is the third line of a
// VG section head and returns the head if so.
func headAround(b []byte, i int) (textHead, bool) {
	var h textHead
	// seqno = DIGITS\n
	j := i + len(seqnoKey)
	k := j
	for k < len(b) && k-j < 20 && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	if k == j || k >= len(b) || b[k] != '\n' {
		return h, false
	}
	n, err := strconv.ParseInt(string(b[j:k]), 10, 64)
	if err != nil {
		return h, false
	}
	// id = "UUID"\n, then NAME {\n, each possibly indented.
	idLine, ok := prevLine(b, i)
	if !ok {
		return h, false
	}
	line := bytes.TrimLeft(b[idLine:lineEnd(b, idLine)], " \t")
	if len(line) != len(`id = ""`)+dashedUUIDLen || !bytes.HasPrefix(line, []byte(`id = "`)) || line[len(line)-1] != '"' {
		return h, false
	}
	id := line[len(`id = "`) : len(line)-1]
	for _, c := range id {
		if c != '-' && !isIDChar(c) {
			return h, false
		}
	}
	// NAME { ends the line before; NAME follows a line end, indentation or
	// the NUL that ended an older text (or the buffer's start).
	end := idLine - 1
	if end < 2 || b[end-1] != '{' || b[end-2] != ' ' {
		return h, false
	}
	start := end - 2
	for start > 0 && end-2-start < 128 && isNameByte(b[start-1]) {
		start--
	}
	if start == end-2 || start > 0 && !bytes.ContainsRune([]byte("\n\t \x00"), rune(b[start-1])) {
		return h, false
	}
	name := b[start : end-2]
	return textHead{start: start, vg: string(name), id: string(id), seqno: n}, true
}

// maxIDLine bounds the search for the id line's start, so junk without
// newlines costs nothing.
const maxIDLine = 128

// prevLine returns the start of the line before the one starting at i
// (after its indentation), which must be preceded by a newline.
func prevLine(b []byte, i int) (int, bool) {
	for i > 0 && (b[i-1] == ' ' || b[i-1] == '\t') {
		i--
	}
	if i == 0 || b[i-1] != '\n' {
		return 0, false
	}
	lo := max(0, i-1-maxIDLine)
	j := bytes.LastIndexByte(b[lo:i-1], '\n')
	if j < 0 {
		return 0, false
	}
	return lo + j + 1, true
}

func lineEnd(b []byte, i int) int {
	if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(b)
}

// findHeads returns the heads of all metadata texts in b, in order.
func findHeads(b []byte) []textHead {
	var heads []textHead
	for off := 0; ; {
		i := bytes.Index(b[off:], seqnoKey)
		if i < 0 {
			return heads
		}
		if h, ok := headAround(b, off+i); ok {
			heads = append(heads, h)
		}
		off += i + len(seqnoKey)
	}
}
