package nbd

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"syscall"
	"time"
)

// Export is one byte range served under a name. Data must allow parallel
// ReadAt calls (as io.ReaderAt promises): each connection reads on its own.
type Export struct {
	Name string
	Data io.ReaderAt
	Size int64
}

// Serve answers NBD clients on l until ctx is done, each connection in its
// own goroutine; it then closes l and every connection and returns once all
// have ended. Nothing is ever written to an export. Read errors of an export
// and protocol violations are logged to logger (nil: not logged). Exports are
// listed in the order given; the empty name means the only export when there
// is exactly one.
func Serve(ctx context.Context, l net.Listener, exports []Export, logger *log.Logger) error {
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	s := &server{exports: exports, log: logger, conns: map[net.Conn]bool{}}
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stop:
		}
		l.Close()
		s.closeAll()
	}()
	var err error
	id := 0 // connections are named by number in the log: a unix socket's peer has no address
	for {
		var c net.Conn
		if c, err = l.Accept(); err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				break
			}
			// Out of file descriptors and the like: the clients
			// already connected go on; try again shortly.
			logger.Printf("accept: %v", err)
			time.Sleep(acceptRetry)
			continue
		}
		if !s.track(c) {
			c.Close()
			break
		}
		id++
		go func(id int) {
			defer s.untrack(c)
			s.serveConn(c, id)
		}(id)
	}
	close(stop)
	s.wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err // the listener was closed by someone else
}

// HandshakeTimeout bounds the handshake and option haggling of a
// connection; transmission has no time limit.
const HandshakeTimeout = 30 * time.Second

// acceptRetry is the pause after a failed accept (such as EMFILE).
const acceptRetry = 100 * time.Millisecond

type server struct {
	exports []Export
	log     *log.Logger

	mu      sync.Mutex
	conns   map[net.Conn]bool
	closing bool
	wg      sync.WaitGroup
}

// track registers a new connection; false once the server is stopping.
func (s *server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = true
	s.wg.Add(1)
	return true
}

func (s *server) untrack(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// closeAll ends every connection: a read in flight finishes, its reply
// fails, and the connection's goroutine returns.
func (s *server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	for c := range s.conns {
		c.Close()
	}
}

func (s *server) serveConn(c net.Conn, id int) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	// A client that connects and says nothing holds a connection only
	// for a while; once an export is chosen, idle clients are normal.
	c.SetDeadline(time.Now().Add(HandshakeTimeout))
	e, err := negotiate(r, w, s.exports)
	if err == nil {
		c.SetDeadline(time.Time{})
		err = transmit(r, w, e, s.log)
	}
	if err != nil && !isHangUp(err) {
		s.log.Printf("connection %d: %v", id, err)
	}
}

// isHangUp says whether err is only the client going away (or the server
// closing the connection on its way out): nothing worth logging.
func isHangUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, errDone)
}

// errDone ends a connection the client asked to end (NBD_OPT_ABORT,
// NBD_CMD_DISC).
var errDone = errors.New("client ended the session")

// negotiate runs the handshake and option haggling on r and w. It returns
// the export chosen by NBD_OPT_GO or NBD_OPT_EXPORT_NAME, or an error
// (errDone on NBD_OPT_ABORT) when the connection must end.
func negotiate(r io.Reader, w *bufio.Writer, exports []Export) (*Export, error) {
	var hello [18]byte
	binary.BigEndian.PutUint64(hello[0:], magicInit)
	binary.BigEndian.PutUint64(hello[8:], magicOption)
	binary.BigEndian.PutUint16(hello[16:], flagFixedNewstyle|flagNoZeroes)
	w.Write(hello[:])
	if err := w.Flush(); err != nil {
		return nil, err
	}
	var cf [4]byte
	if _, err := io.ReadFull(r, cf[:]); err != nil {
		return nil, err
	}
	clientFlags := binary.BigEndian.Uint32(cf[:])
	if clientFlags&^(clientFixedNewstyle|clientNoZeroes) != 0 {
		return nil, fmt.Errorf("handshake: unknown client flags %#x", clientFlags)
	}
	fixed := clientFlags&clientFixedNewstyle != 0
	noZeroes := clientFlags&clientNoZeroes != 0
	for {
		var h [16]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil, err
		}
		if m := binary.BigEndian.Uint64(h[0:]); m != magicOption {
			return nil, fmt.Errorf("option: bad magic %#x", m)
		}
		opt := binary.BigEndian.Uint32(h[8:])
		length := binary.BigEndian.Uint32(h[12:])
		if !fixed && opt != optExportName {
			// A client without fixed newstyle cannot read option
			// replies: ending the session is all the spec allows.
			return nil, fmt.Errorf("option %d from a client without fixed newstyle", opt)
		}
		if length > maxOptionData {
			if _, err := io.CopyN(io.Discard, r, int64(length)); err != nil {
				return nil, err
			}
			if err := replyErr(w, opt, repErrTooBig, "option data too long"); err != nil {
				return nil, err
			}
			continue
		}
		data := make([]byte, length)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, err
		}
		switch opt {
		case optExportName:
			e := find(exports, string(data))
			if e == nil {
				// No error reply exists for this option.
				return nil, fmt.Errorf("NBD_OPT_EXPORT_NAME: no export %q", data)
			}
			var b [8 + 2 + 124]byte
			binary.BigEndian.PutUint64(b[0:], uint64(e.Size))
			binary.BigEndian.PutUint16(b[8:], transmissionFlags)
			n := len(b)
			if noZeroes {
				n = 10
			}
			w.Write(b[:n])
			return e, w.Flush()
		case optAbort:
			reply(w, opt, repAck, nil)
			w.Flush()
			return nil, errDone
		case optList:
			if err := list(w, opt, data, exports); err != nil {
				return nil, err
			}
		case optInfo, optGo:
			e, err := info(w, opt, data, exports)
			if err != nil {
				return nil, err
			}
			if e != nil && opt == optGo {
				return e, nil
			}
		default:
			// NBD_OPT_STRUCTURED_REPLY included: simple replies only.
			if err := replyErr(w, opt, repErrUnsup, "option not supported"); err != nil {
				return nil, err
			}
		}
	}
}

func find(exports []Export, name string) *Export {
	if name == "" && len(exports) == 1 {
		return &exports[0]
	}
	for i := range exports {
		if exports[i].Name == name {
			return &exports[i]
		}
	}
	return nil
}

// list answers NBD_OPT_LIST: one NBD_REP_SERVER per export, then an ack.
func list(w *bufio.Writer, opt uint32, data []byte, exports []Export) error {
	if len(data) != 0 {
		return replyErr(w, opt, repErrInvalid, "NBD_OPT_LIST takes no data")
	}
	for _, e := range exports {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(e.Name)))
		if err := reply(w, opt, repServer, append(b, e.Name...)); err != nil {
			return err
		}
	}
	return replyFlush(w, opt, repAck, nil)
}

// info answers NBD_OPT_INFO and NBD_OPT_GO: the export's size and flags and
// its block sizes, then an ack. It returns the export when it was found
// and the request well formed.
func info(w *bufio.Writer, opt uint32, data []byte, exports []Export) (*Export, error) {
	if len(data) < 6 {
		return nil, replyErr(w, opt, repErrInvalid, "option data too short")
	}
	nameLen := binary.BigEndian.Uint32(data)
	if uint64(nameLen) > uint64(len(data)-6) {
		return nil, replyErr(w, opt, repErrInvalid, "export name runs past the option data")
	}
	name := string(data[4 : 4+nameLen])
	requests := binary.BigEndian.Uint16(data[4+nameLen:])
	if int(requests)*2 != len(data)-6-int(nameLen) {
		return nil, replyErr(w, opt, repErrInvalid, "information requests do not fill the option data")
	}
	e := find(exports, name)
	if e == nil {
		return nil, replyErr(w, opt, repErrUnknown, "no export "+quote(name))
	}
	b := binary.BigEndian.AppendUint16(nil, infoExport)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Size))
	b = binary.BigEndian.AppendUint16(b, transmissionFlags)
	if err := reply(w, opt, repInfo, b); err != nil {
		return nil, err
	}
	// Sent whether asked or not (the spec allows it): any byte can be
	// read, and MaxPayload is the limit of one read.
	b = binary.BigEndian.AppendUint16(nil, infoBlockSize)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint32(b, preferredBlock)
	b = binary.BigEndian.AppendUint32(b, MaxPayload)
	if err := reply(w, opt, repInfo, b); err != nil {
		return nil, err
	}
	return e, replyFlush(w, opt, repAck, nil)
}

func quote(s string) string {
	if len(s) > 256 {
		s = s[:256] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// reply buffers one option reply.
func reply(w *bufio.Writer, opt, typ uint32, data []byte) error {
	var h [20]byte
	binary.BigEndian.PutUint64(h[0:], magicOptionReply)
	binary.BigEndian.PutUint32(h[8:], opt)
	binary.BigEndian.PutUint32(h[12:], typ)
	binary.BigEndian.PutUint32(h[16:], uint32(len(data)))
	w.Write(h[:])
	_, err := w.Write(data)
	return err
}

func replyFlush(w *bufio.Writer, opt, typ uint32, data []byte) error {
	if err := reply(w, opt, typ, data); err != nil {
		return err
	}
	return w.Flush()
}

// replyErr sends an error reply with a message for people.
func replyErr(w *bufio.Writer, opt, typ uint32, msg string) error {
	return replyFlush(w, opt, typ, []byte(msg))
}

// transmit answers requests on e until the client disconnects.
func transmit(r io.Reader, w *bufio.Writer, e *Export, logger *log.Logger) error {
	var buf []byte // grows to the largest read asked, at most MaxPayload
	for {
		var h [28]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return err
		}
		if m := binary.BigEndian.Uint32(h[0:]); m != magicRequest {
			return fmt.Errorf("%s: request: bad magic %#x", e.Name, m)
		}
		typ := binary.BigEndian.Uint16(h[6:])
		handle := binary.BigEndian.Uint64(h[8:])
		off := binary.BigEndian.Uint64(h[16:])
		length := binary.BigEndian.Uint32(h[24:])
		var errno uint32
		var data []byte
		switch typ {
		case cmdRead:
			switch {
			case length > MaxPayload:
				errno = errInval
			case off > uint64(e.Size) || uint64(length) > uint64(e.Size)-off:
				errno = errInval
			default:
				if cap(buf) < int(length) {
					buf = make([]byte, length)
				}
				data = buf[:length]
				if n, err := e.Data.ReadAt(data, int64(off)); n < len(data) {
					logger.Printf("%s: read of %d bytes at %d: %v", e.Name, length, off, err)
					errno, data = errIO, nil
				}
			}
		case cmdWrite:
			// The payload follows the request; it is read and dropped
			// (never held) to stay in step with the client.
			if _, err := io.CopyN(io.Discard, r, int64(length)); err != nil {
				return err
			}
			errno = errPerm
		case cmdTrim, cmdWriteZeroes:
			errno = errPerm
		case cmdFlush:
		case cmdDisc:
			return errDone
		default:
			errno = errInval
		}
		var rh [16]byte
		binary.BigEndian.PutUint32(rh[0:], magicReply)
		binary.BigEndian.PutUint32(rh[4:], errno)
		binary.BigEndian.PutUint64(rh[8:], handle)
		w.Write(rh[:])
		w.Write(data)
		if err := w.Flush(); err != nil {
			return err
		}
	}
}
