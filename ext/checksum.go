package ext

import "hash/crc32"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is the kernel's crc32c_le: the running value is neither inverted
// on entry nor on exit, which is how ext4 chains seeds through its checksums.
func crc32c(seed uint32, p []byte) uint32 {
	return ^crc32.Update(^seed, castagnoli, p)
}

// crc16 is the CRC-16 (polynomial 0x8005, reflected as 0xA001) that
// uninit_bg/gdt_csum group descriptors use.
func crc16(crc uint16, p []byte) uint16 {
	for _, b := range p {
		crc ^= uint16(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
