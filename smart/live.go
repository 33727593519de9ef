package smart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// queryTimeout bounds one smartctl run.
const queryTimeout = 5 * time.Minute

// IsDevice says whether path names a device node (a block device such as
// /dev/sda, or an NVMe character device such as /dev/nvme0) rather than a
// saved report.
func IsDevice(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode()&os.ModeDevice != 0
}

// QueryDevice runs "smartctl -j -x DEV" and parses its output; smartctl is
// the program to run (a name looked up in PATH, or a path). -x only
// reads the drive's identity, logs and attributes: it starts no test and
// changes no setting. smartctl's non-zero exit statuses are bit masks that
// describe the drive, so they are read from the JSON, not treated as
// failures of the run. Cancelling ctx stops smartctl; a run also stops
// after queryTimeout, since a dying drive can stall every command it is sent.
func QueryDevice(ctx context.Context, smartctl, dev string) (*Report, error) {
	out, err := QueryOutput(ctx, smartctl, dev)
	if err != nil {
		return nil, err
	}
	return Parse(dev, out)
}

// QueryOutput runs "smartctl -j -x DEV" as QueryDevice does and returns its
// JSON as printed, for keeping (holmes collect).
func QueryOutput(ctx context.Context, smartctl, dev string) ([]byte, error) {
	smartctl, err := exec.LookPath(smartctl)
	if err != nil {
		return nil, &ParseError{dev, errors.New("is a device and smartctl is not installed (save smartctl -x output and score the file)")}
	}
	runCtx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(runCtx, smartctl, "-j", "-x", dev)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // once smartctl is killed, don't wait on what it left holding its output
	runErr := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return nil, &ParseError{dev, fmt.Errorf("smartctl stopped: %w", context.Cause(ctx))}
	case runCtx.Err() != nil:
		return nil, &ParseError{dev, fmt.Errorf("smartctl did not answer within %v", queryTimeout)}
	}
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return nil, &ParseError{dev, fmt.Errorf("running smartctl: %v", runErr)}
	}
	if stdout.Len() == 0 {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" && runErr != nil {
			msg = runErr.Error()
		}
		return nil, &ParseError{dev, fmt.Errorf("smartctl printed no report: %s", firstLine(msg))}
	}
	return stdout.Bytes(), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Load reads the report for one FILE argument: a saved smartctl report, or
// for a device node, what the program smartctl (a name looked up in PATH,
// or a path) says about it now, run under ctx.
func Load(ctx context.Context, path, smartctl string) (*Report, error) {
	if IsDevice(path) {
		return QueryDevice(ctx, smartctl, path)
	}
	return ReadFile(path)
}
