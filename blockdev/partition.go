package blockdev

import "fmt"

// OpenPartition returns partition n (1-based) of the MBR or GPT on d.
func OpenPartition(d Device, n int) (Device, error) {
	return nil, fmt.Errorf("%s: partition %d: partition tables are not read yet", d.Name(), n)
}
