package blockdev

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// blockDeviceSize asks the kernel for the size of a block device: guessing
// from Seek(0, End) is wrong on some drivers and on devices behind bridges.
func blockDeviceSize(f *os.File) (int64, error) {
	var size uint64
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), uintptr(unix.BLKGETSIZE64), uintptr(unsafe.Pointer(&size)))
	if errno != 0 {
		return 0, errno
	}
	return int64(size), nil
}
