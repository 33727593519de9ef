// Package shell writes the command lines holmes prints for people to run
// (mdadm --create, pvcreate, vgcfgrestore) so that sh reads each word as one.
package shell

import "strings"

// Quote quotes s for sh when it holds anything beyond characters sh takes
// literally.
func Quote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:=+@%,", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
