package main

import (
	"strings"
	"testing"
)

func TestUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--no-such-flag"}, {"no-such-command"}, {"md", "no-such-subcommand"}} {
		_, stderr, code := holmes(t, args...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("holmes %v: exit %d, stderr %q; want exit 2 and one line", args, code, stderr)
		}
	}
}
