package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"holmes/nbd"
)

// defaultSocket is where holmes serve listens when given neither --socket
// nor --listen: a unix socket in the working directory (docs/cli.md).
const defaultSocket = "holmes.sock"

// ServeOptions are holmes serve's arguments and flags.
type ServeOptions struct {
	*Factory
	Devices []string
	Socket  string
	Listen  string
}

// NewCmdServe builds holmes serve; runF replaces the run (tests).
func NewCmdServe(f *Factory, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "serve DEV...",
		Short: "Serve DEVs (members, ranges, arrays, LVs) as read-only NBD exports",
		Long: `serve makes each DEV an export of the Network Block Device protocol named
exactly as the DEV (md1, guests/home, disk.img:p2), read-only: writes, trims
and write-zeroes are refused, nothing is ever written to the evidence. Any
filesystem's own tools can then read the reconstruction: nbdcopy to image it,
nbdinfo, qemu-img, or nbd-client and mount -o ro. It listens on a unix socket
(holmes.sock in the working directory unless --socket says where) or, with
--listen, on TCP: NBD has no authentication, so bind to localhost. It serves
until SIGINT or SIGTERM (docs/serve.md).`,
		Example: `  holmes --case case.json serve md1 guests/home
  nbdinfo --list 'nbd+unix:///?socket=holmes.sock'
  nbdcopy 'nbd+unix:///guests/home?socket=holmes.sock' home.img`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Devices = args
			if opts.Socket != "" && opts.Listen != "" {
				return usagef("--socket and --listen: give one (a unix socket or TCP)")
			}
			if runF != nil {
				return runF(opts)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveRun(ctx, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Socket, "socket", "", "listen on the unix socket `PATH` (default "+defaultSocket+")")
	cmd.Flags().StringVar(&opts.Listen, "listen", "", "listen on TCP `HOST:PORT` instead (no authentication: use localhost)")
	return cmd
}

// serveRun opens the DEVs, listens, prints each export's URI and serves
// until ctx is done.
func serveRun(ctx context.Context, opts *ServeOptions) error {
	seen := map[string]bool{}
	for _, d := range opts.Devices {
		if seen[d] {
			return usagef("%s given twice: exports are named by their DEV", d)
		}
		seen[d] = true
	}
	devs, err := opts.OpenDevices(opts.Devices)
	if err != nil {
		return err
	}
	defer closeAll(devs)
	exports := make([]nbd.Export, len(devs))
	for i, d := range devs {
		if err := checkDeviceSize(opts.ErrOut, d, false); err != nil {
			return err
		}
		exports[i] = nbd.Export{Name: opts.Devices[i], Data: d, Size: d.Size()}
	}
	l, uri, err := serveListen(opts)
	if err != nil {
		return err
	}
	for _, e := range exports {
		fmt.Fprintf(opts.Out, "%s\t%d bytes\n", uri(e.Name), e.Size)
	}
	return nbd.Serve(ctx, l, exports, log.New(opts.ErrOut, "holmes: serve: ", 0))
}

// serveListen opens the listener the flags ask for and returns how a
// client names an export on it (an NBD URI).
func serveListen(opts *ServeOptions) (net.Listener, func(export string) string, error) {
	if opts.Listen != "" {
		l, err := net.Listen("tcp", opts.Listen)
		if err != nil {
			return nil, nil, err
		}
		addr := l.Addr().(*net.TCPAddr)
		if !addr.IP.IsLoopback() {
			fmt.Fprintf(opts.ErrOut, "holmes: warning: NBD has no authentication: anyone who reaches %s can read these devices\n", addr)
		}
		host := addr.String()
		if addr.IP.IsUnspecified() {
			// Listening on every address: "[::]" is no address a client can
			// reach; the machine's name is.
			if name, err := os.Hostname(); err == nil {
				host = net.JoinHostPort(name, strconv.Itoa(addr.Port))
			}
		}
		return l, func(e string) string {
			return (&url.URL{Scheme: "nbd", Host: host, Path: "/" + e}).String()
		}, nil
	}
	path := opts.Socket
	if path == "" {
		path = defaultSocket
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return l, func(e string) string {
		return (&url.URL{Scheme: "nbd+unix", Path: "/" + e}).String() + "?socket=" + abs
	}, nil
}

// removeStaleSocket removes the socket a server that died left at path, and
// refuses to touch anything else there: a file, or a live server's socket.
func removeStaleSocket(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket; give another --socket", path)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return fmt.Errorf("%s: another server is listening there", path)
	}
	return os.Remove(path)
}
