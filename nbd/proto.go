// Package nbd serves byte ranges (io.ReaderAt of a known size) as read-only
// exports of the Network Block Device protocol, so that any filesystem's own
// tools can read a reconstruction without a copy. It speaks the fixed
// newstyle handshake and simple replies of the NBD project's doc/proto.md;
// it knows nothing of holmes' command line.
package nbd

// Numbers of the protocol (doc/proto.md of the NBD project).
const (
	magicInit        = 0x4e42444d41474943 // "NBDMAGIC"
	magicOption      = 0x49484156454f5054 // "IHAVEOPT"
	magicOptionReply = 0x0003e889045565a9
	magicRequest     = 0x25609513
	magicReply       = 0x67446698

	// Handshake flags (server) and client flags.
	flagFixedNewstyle   = 1 << 0
	flagNoZeroes        = 1 << 1
	clientFixedNewstyle = 1 << 0
	clientNoZeroes      = 1 << 1

	// Transmission flags.
	flagHasFlags     = 1 << 0
	flagReadOnly     = 1 << 1
	flagSendFlush    = 1 << 2
	flagCanMultiConn = 1 << 8

	optExportName      = 1
	optAbort           = 2
	optList            = 3
	optInfo            = 6
	optGo              = 7
	optStructuredReply = 8

	repAck        = 1
	repServer     = 2
	repInfo       = 3
	repErrUnsup   = 1<<31 + 1
	repErrInvalid = 1<<31 + 3
	repErrUnknown = 1<<31 + 6
	repErrTooBig  = 1<<31 + 9

	infoExport    = 0
	infoBlockSize = 3

	cmdRead        = 0
	cmdWrite       = 1
	cmdDisc        = 2
	cmdFlush       = 3
	cmdTrim        = 4
	cmdWriteZeroes = 6

	errPerm  = 1
	errIO    = 5
	errInval = 22
)

// Limits that keep what a client makes the server hold bounded.
const (
	// MaxPayload is the largest read served in one request; it is
	// announced as the maximum block size. Larger reads get EINVAL.
	MaxPayload = 32 << 20
	// maxOptionData bounds the data of one option: an export name
	// (at most 4096 bytes, doc/proto.md) and a few info requests.
	maxOptionData = 4096 + 4 + 2 + 2*64
	// preferredBlock is the block size announced as efficient.
	preferredBlock = 4096
)

// transmissionFlags are what every export offers: reads, and flushes that
// have nothing to do; every connection sees the same bytes, so several
// connections at once are consistent.
const transmissionFlags = flagHasFlags | flagReadOnly | flagSendFlush | flagCanMultiConn
