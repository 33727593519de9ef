package nbd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"holmes/internal/fixture"
)

// failingAt reads like bytes.Reader but fails at and after bad.
type failingAt struct {
	*bytes.Reader
	bad int64
}

func (f failingAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.bad {
		return 0, errors.New("sector unreadable")
	}
	return f.Reader.ReadAt(p, off)
}

// testServer serves a 1 MiB pattern as "md1", 4 KiB as "guests/home" and
// a device that fails past 64 KiB as "bad", on a unix socket.
func testServer(t *testing.T) (sock string, data []byte, logs *fixture.SyncBuffer) {
	t.Helper()
	data = make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	sock = filepath.Join(t.TempDir(), "nbd.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	logs = &fixture.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Serve(ctx, l, []Export{
			{Name: "md1", Data: bytes.NewReader(data), Size: int64(len(data))},
			{Name: "guests/home", Data: bytes.NewReader(data[:4096]), Size: 4096},
			{Name: "bad", Data: failingAt{bytes.NewReader(data), 65536}, Size: int64(len(data))},
		}, log.New(logs, "", 0))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return sock, data, logs
}

// client is a minimal NBD client for the tests.
type client struct {
	t *testing.T
	c net.Conn
}

func dial(t *testing.T, sock string, clientFlags uint32) *client {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	cl := &client{t, c}
	var hello [18]byte
	cl.read(hello[:])
	if binary.BigEndian.Uint64(hello[0:]) != magicInit || binary.BigEndian.Uint64(hello[8:]) != magicOption {
		t.Fatalf("greeting % x", hello)
	}
	if f := binary.BigEndian.Uint16(hello[16:]); f != flagFixedNewstyle|flagNoZeroes {
		t.Fatalf("handshake flags %#x", f)
	}
	cl.write(binary.BigEndian.AppendUint32(nil, clientFlags))
	return cl
}

func (c *client) read(p []byte) {
	c.t.Helper()
	if _, err := io.ReadFull(c.c, p); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) write(p []byte) {
	c.t.Helper()
	if _, err := c.c.Write(p); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) option(opt uint32, data []byte) {
	c.t.Helper()
	b := binary.BigEndian.AppendUint64(nil, magicOption)
	b = binary.BigEndian.AppendUint32(b, opt)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	c.write(append(b, data...))
}

// reply reads one option reply; it must answer opt.
func (c *client) reply(opt uint32) (typ uint32, data []byte) {
	c.t.Helper()
	var h [20]byte
	c.read(h[:])
	if binary.BigEndian.Uint64(h[0:]) != magicOptionReply || binary.BigEndian.Uint32(h[8:]) != opt {
		c.t.Fatalf("option reply header % x", h)
	}
	data = make([]byte, binary.BigEndian.Uint32(h[16:]))
	c.read(data)
	return binary.BigEndian.Uint32(h[12:]), data
}

func infoData(name string, requests ...uint16) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(requests)))
	for _, r := range requests {
		b = binary.BigEndian.AppendUint16(b, r)
	}
	return b
}

// info sends NBD_OPT_INFO or NBD_OPT_GO and returns the export's size and
// flags and the maximum block size, failing unless it ends in an ack.
func (c *client) info(opt uint32, name string) (size uint64, flags uint16, maxBlock uint32) {
	c.t.Helper()
	c.option(opt, infoData(name, infoBlockSize))
	for {
		typ, d := c.reply(opt)
		switch {
		case typ == repAck:
			return
		case typ == repInfo && binary.BigEndian.Uint16(d) == infoExport && len(d) == 12:
			size, flags = binary.BigEndian.Uint64(d[2:]), binary.BigEndian.Uint16(d[10:])
		case typ == repInfo && binary.BigEndian.Uint16(d) == infoBlockSize && len(d) == 14:
			maxBlock = binary.BigEndian.Uint32(d[10:])
		default:
			c.t.Fatalf("%s: reply %#x % x", name, typ, d)
		}
	}
}

// request sends a command and reads its simple reply (length bytes of
// data after a successful read).
func (c *client) request(typ uint16, handle, off uint64, length uint32, payload []byte) (errno uint32, data []byte) {
	c.t.Helper()
	b := binary.BigEndian.AppendUint32(nil, magicRequest)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint64(b, handle)
	b = binary.BigEndian.AppendUint64(b, off)
	b = binary.BigEndian.AppendUint32(b, length)
	c.write(append(b, payload...))
	var h [16]byte
	c.read(h[:])
	if binary.BigEndian.Uint32(h[0:]) != magicReply || binary.BigEndian.Uint64(h[8:]) != handle {
		c.t.Fatalf("reply header % x", h)
	}
	errno = binary.BigEndian.Uint32(h[4:])
	if errno == 0 && typ == cmdRead {
		data = make([]byte, length)
		c.read(data)
	}
	return errno, data
}

// closed says whether the server ended the connection (rather than
// leaving it open, silent, until the deadline).
func (c *client) closed() bool {
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.c.Read(make([]byte, 1))
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

func TestListInfoGoRead(t *testing.T) {
	sock, data, logs := testServer(t)
	c := dial(t, sock, clientFixedNewstyle|clientNoZeroes)

	c.option(optList, nil)
	var names []string
	for {
		typ, d := c.reply(optList)
		if typ == repAck {
			break
		}
		if typ != repServer || int(binary.BigEndian.Uint32(d)) != len(d)-4 {
			t.Fatalf("list reply %#x % x", typ, d)
		}
		names = append(names, string(d[4:]))
	}
	if strings.Join(names, ",") != "md1,guests/home,bad" {
		t.Errorf("list = %q", names)
	}

	size, flags, maxBlock := c.info(optInfo, "guests/home")
	if size != 4096 || flags != flagHasFlags|flagReadOnly|flagSendFlush|flagCanMultiConn || maxBlock != MaxPayload {
		t.Errorf("info guests/home: size %d flags %#x max block %d", size, flags, maxBlock)
	}
	c.option(optInfo, infoData("nosuch"))
	if typ, msg := c.reply(optInfo); typ != repErrUnknown || !strings.Contains(string(msg), "nosuch") {
		t.Errorf("info nosuch: %#x %q", typ, msg)
	}
	c.option(optInfo, []byte{0, 0, 0, 9, 'm', 'd'}) // name longer than the data
	if typ, _ := c.reply(optInfo); typ != repErrInvalid {
		t.Errorf("info with a short name: %#x", typ)
	}
	c.option(optStructuredReply, nil)
	if typ, _ := c.reply(optStructuredReply); typ != repErrUnsup {
		t.Errorf("structured reply: %#x, want NBD_REP_ERR_UNSUP", typ)
	}
	c.option(99, []byte("x"))
	if typ, _ := c.reply(99); typ != repErrUnsup {
		t.Errorf("unknown option: %#x", typ)
	}
	c.option(optList, make([]byte, maxOptionData+1))
	if typ, _ := c.reply(optList); typ != repErrTooBig {
		t.Errorf("oversized option: %#x", typ)
	}

	if size, _, _ := c.info(optGo, "md1"); size != uint64(len(data)) {
		t.Fatalf("go md1: size %d", size)
	}
	errno, got := c.request(cmdRead, 1, 12345, 70000, nil)
	if errno != 0 || !bytes.Equal(got, data[12345:12345+70000]) {
		t.Errorf("read: errno %d, bytes equal %v", errno, bytes.Equal(got, data[12345:12345+70000]))
	}
	if errno, got := c.request(cmdRead, 2, uint64(len(data))-10, 10, nil); errno != 0 || !bytes.Equal(got, data[len(data)-10:]) {
		t.Errorf("read of the last bytes: errno %d", errno)
	}
	for _, tc := range []struct {
		what   string
		typ    uint16
		off    uint64
		length uint32
		want   uint32
	}{
		{"write", cmdWrite, 0, 512, errPerm},
		{"trim", cmdTrim, 0, 512, errPerm},
		{"write zeroes", cmdWriteZeroes, 0, 512, errPerm},
		{"flush", cmdFlush, 0, 0, 0},
		{"read past the end", cmdRead, uint64(len(data)) - 10, 11, errInval},
		{"read far past the end", cmdRead, 1 << 62, 512, errInval},
		{"read whose end wraps", cmdRead, 1<<64 - 256, 512, errInval},
		{"oversized read", cmdRead, 0, MaxPayload + 1, errInval},
		{"block status", 7, 0, 512, errInval},
	} {
		var payload []byte
		if tc.typ == cmdWrite {
			payload = make([]byte, tc.length)
		}
		if errno, _ := c.request(tc.typ, 9, tc.off, tc.length, payload); errno != tc.want {
			t.Errorf("%s: errno %d, want %d", tc.what, errno, tc.want)
		}
	}
	// Still in step after all that.
	if errno, got := c.request(cmdRead, 3, 0, 16, nil); errno != 0 || !bytes.Equal(got, data[:16]) {
		t.Errorf("read after refusals: errno %d", errno)
	}
	c.write(func() []byte {
		b := binary.BigEndian.AppendUint32(nil, magicRequest)
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, cmdDisc)
		return append(b, make([]byte, 20)...)
	}())
	if !c.closed() {
		t.Error("connection open after NBD_CMD_DISC")
	}
	if l := logs.String(); l != "" {
		t.Errorf("log of a well-behaved session: %s", l)
	}
}

func TestReadErrorIsEIO(t *testing.T) {
	sock, data, logs := testServer(t)
	c := dial(t, sock, clientFixedNewstyle)
	c.info(optGo, "bad")
	if errno, _ := c.request(cmdRead, 1, 65536-512, 1024, nil); errno != errIO {
		t.Errorf("read across the bad range: errno %d, want EIO", errno)
	}
	if errno, got := c.request(cmdRead, 2, 0, 512, nil); errno != 0 || !bytes.Equal(got, data[:512]) {
		t.Errorf("read before the bad range: errno %d", errno)
	}
	if l := logs.String(); !strings.Contains(l, "bad: read of 1024 bytes at 65024: sector unreadable") {
		t.Errorf("log = %q", l)
	}
}

func TestExportName(t *testing.T) {
	sock, data, _ := testServer(t)
	for _, noZeroes := range []bool{false, true} {
		flags := uint32(clientFixedNewstyle)
		if noZeroes {
			flags |= clientNoZeroes
		}
		c := dial(t, sock, flags)
		c.option(optExportName, []byte("guests/home"))
		b := make([]byte, 10)
		if !noZeroes {
			b = make([]byte, 134)
		}
		c.read(b)
		if binary.BigEndian.Uint64(b) != 4096 || binary.BigEndian.Uint16(b[8:])&flagReadOnly == 0 || !bytes.Equal(b[10:], make([]byte, len(b)-10)) {
			t.Errorf("export name reply % x", b)
		}
		if errno, got := c.request(cmdRead, 1, 4000, 96, nil); errno != 0 || !bytes.Equal(got, data[4000:4096]) {
			t.Errorf("read: errno %d", errno)
		}
	}
	// An unknown name has no error reply: the session ends.
	c := dial(t, sock, clientFixedNewstyle)
	c.option(optExportName, []byte("nosuch"))
	if !c.closed() {
		t.Error("session open after NBD_OPT_EXPORT_NAME of an unknown export")
	}
}

func TestAbortAndGarbage(t *testing.T) {
	sock, _, _ := testServer(t)
	c := dial(t, sock, clientFixedNewstyle)
	c.option(optAbort, nil)
	if typ, _ := c.reply(optAbort); typ != repAck || !c.closed() {
		t.Errorf("abort: %#x, then the connection stays open", typ)
	}
	for _, tc := range []struct {
		what  string
		flags uint32
		after []byte
	}{
		{"unknown client flags", 1 << 7, nil},
		{"bad option magic", clientFixedNewstyle, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"option from a client without fixed newstyle", 0, binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, magicOption), optList), 0)},
	} {
		c := dial(t, sock, tc.flags)
		c.c.Write(tc.after) // the server may have hung up already
		if !c.closed() {
			t.Errorf("%s: connection stays open", tc.what)
		}
	}
	// A request with a bad magic ends the session.
	c = dial(t, sock, clientFixedNewstyle)
	c.info(optGo, "md1")
	c.write(make([]byte, 28))
	if !c.closed() {
		t.Error("bad request magic: connection stays open")
	}
}

// TestHangUpMidRequest: clients that go away in the middle of a request or
// of a reply leave the server serving the others.
func TestHangUpMidRequest(t *testing.T) {
	sock, data, _ := testServer(t)
	for i := 0; i < 4; i++ {
		c := dial(t, sock, clientFixedNewstyle)
		c.info(optGo, "md1")
		b := binary.BigEndian.AppendUint32(nil, magicRequest)
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, cmdRead)
		b = binary.BigEndian.AppendUint64(b, 1)
		b = binary.BigEndian.AppendUint64(b, 0)
		b = binary.BigEndian.AppendUint32(b, 1<<20)
		if i%2 == 0 {
			b = b[:17] // half a request
		}
		c.write(b)
		c.c.Close()
	}
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := dial(t, sock, clientFixedNewstyle)
			c.info(optGo, "md1")
			off := uint64(i) << 16
			if errno, got := c.request(cmdRead, uint64(i), off, 1<<16, nil); errno != 0 || !bytes.Equal(got, data[off:off+1<<16]) {
				t.Errorf("client %d: errno %d", i, errno)
			}
		}(i)
	}
	wg.Wait()
}

// TestStopWithClients: cancelling the context ends Serve although clients
// are still connected (the cleanup of testServer checks it returns).
func TestStopWithClients(t *testing.T) {
	sock, _, _ := testServer(t)
	c := dial(t, sock, clientFixedNewstyle)
	c.info(optGo, "md1")
	dial(t, sock, clientFixedNewstyle) // still negotiating
}
