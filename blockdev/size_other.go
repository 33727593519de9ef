//go:build !linux

package blockdev

import (
	"io"
	"os"
)

func blockDeviceSize(f *os.File) (int64, error) { return f.Seek(0, io.SeekEnd) }
