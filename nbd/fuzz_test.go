package nbd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

// FuzzNegotiate feeds arbitrary client bytes to the handshake and option
// haggling: it must end (the input is finite), never panic, and pick an
// export only by a name the server has.
func FuzzNegotiate(f *testing.F) {
	opt := func(b []byte, o uint32, data []byte) []byte {
		b = binary.BigEndian.AppendUint64(b, magicOption)
		b = binary.BigEndian.AppendUint32(b, o)
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		return append(b, data...)
	}
	flags := []byte{0, 0, 0, clientFixedNewstyle | clientNoZeroes}
	f.Add(opt(opt(bytes.Clone(flags), optList, nil), optGo, infoData("md1", infoBlockSize)))
	f.Add(opt(bytes.Clone(flags), optInfo, infoData("guests/home")))
	f.Add(opt(bytes.Clone(flags), optExportName, []byte("md1")))
	f.Add(opt(bytes.Clone(flags), optInfo, []byte{0xff, 0xff, 0xff, 0xff, 0, 0}))
	f.Add(opt(bytes.Clone(flags), optAbort, nil))
	f.Add(opt([]byte{0, 0, 0, 0}, optExportName, nil))
	exports := []Export{
		{Name: "md1", Data: bytes.NewReader(nil), Size: 0},
		{Name: "guests/home", Data: bytes.NewReader(nil), Size: 0},
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := negotiate(bytes.NewReader(in), bufio.NewWriter(io.Discard), exports)
		if err == nil && e != &exports[0] && e != &exports[1] {
			t.Fatalf("negotiate chose %v without an error", e)
		}
	})
}
