// Package ondisk holds the small decoding helpers every on-disk format
// package needs.
package ondisk

import "bytes"

// CString is a fixed-size, NUL-padded name field (a volume label, an md
// array name) as a string: the bytes before the first NUL.
func CString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
