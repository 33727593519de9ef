package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every command a user can run explains itself: a long help with an
// example, and flag placeholders that are words (--chunk SIZE), not types.
func TestEveryCommandHasHelpAndWordPlaceholders(t *testing.T) {
	t.Parallel()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && !c.HasSubCommands() {
			if c.Long == "" || c.Example == "" {
				t.Errorf("%s: Long or Example missing", c.CommandPath())
			}
			c.Flags().VisitAll(func(f *pflag.Flag) {
				if name, _ := pflag.UnquoteUsage(f); name != "" && name != strings.ToUpper(name) {
					t.Errorf("%s --%s: placeholder %q is not a WORD", c.CommandPath(), f.Name, name)
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewCmdRoot(newFactory(os.Stdout, os.Stderr)))
}

// Each run builds its own tree: a flag set in one run is not seen by the
// next, and the options a verb's constructor parses are what runF gets.
func TestFreshTreePerRunAndOptions(t *testing.T) {
	t.Parallel()
	var got []*DumpOptions
	for _, args := range [][]string{{"d.img", "--offset", "1M", "--length", "4K"}, {"d.img"}} {
		f := newFactory(&bytes.Buffer{}, &bytes.Buffer{})
		cmd := NewCmdDump(f, func(o *DumpOptions) error { got = append(got, o); return nil })
		cmd.SetArgs(args)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
	}
	if got[0].Device != "d.img" || got[0].Offset != "1M" || got[0].Length != "4K" || got[1].Offset != "0" || got[1].Length != "" {
		t.Errorf("options: %+v, %+v", got[0], got[1])
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := holmes(t, "--version")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "holmes ") || !strings.Contains(stdout, " commit ") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// Argument errors name the command and show how it is called, on one line.
func TestArgumentErrorsNameTheCommand(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"md", "solve", "a"}, "holmes md solve: needs at least 2 DEVs (usage: holmes md solve DEV... [flags])"},
		{[]string{"md", "examine"}, "holmes md examine: needs a DEV (usage: holmes md examine DEV... [flags])"},
		{[]string{"ext", "extract", "a"}, "holmes ext extract: takes DEV SRC DESTDIR (got 1 argument) (usage: holmes ext extract DEV SRC DESTDIR [flags])"},
		{[]string{"dump", "a", "--no-such-flag"}, "holmes dump: unknown flag: --no-such-flag (usage: holmes dump DEV [flags])"},
		{[]string{"dump", "--json", "a"}, "holmes dump: --json does not apply: holmes dump prints no JSON"},
		{[]string{"ext", "cat", "--json", "a", "/x"}, "holmes ext cat: --json does not apply"},
	} {
		stdout, stderr, code := holmes(t, c.args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("holmes %v: exit %d, stderr %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
	}
	// --json is offered only where it is honoured.
	for _, args := range [][]string{{"dump", "--help"}, {"ext", "cat", "--help"}} {
		if stdout, _, _ := holmes(t, args...); strings.Contains(stdout, "--json") {
			t.Errorf("holmes %v offers --json:\n%s", args, stdout)
		}
	}
}

// Multi-device commands report every device they could read, then name
// the ones they could not (exit 1), like mdadm --examine: one missing
// file does not hide the others.
func TestMultiDeviceCommandsReportThenFail(t *testing.T) {
	t.Parallel()
	d0, d1 := pairsDisk(t, 0), pairsDisk(t, 1)
	missing := filepath.Join(t.TempDir(), "missing.img")
	pv := lvmLab(t, "disk-a") + "@1M"
	for _, args := range [][]string{
		{"md", "examine", d0, missing},
		{"scan", d0, missing},
		{"md", "pairs", d0, missing, d1},
		{"lvm", "scan", missing, pv},
		{"hash", "--block-size", "1M", d0, missing},
	} {
		stdout, stderr, code := holmes(t, append(args, "--json")...)
		if code != 1 || !strings.HasPrefix(stdout, "[") && !strings.HasPrefix(stdout, "{") ||
			!strings.Contains(stderr, missing) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("holmes %v: exit %d, stdout %.40q, stderr %q", args, code, stdout, stderr)
		}
	}
}

// An empty device is a failed copy or a wrong name: scan, hash and dump say
// so. A device smaller than a sector cannot hold what scan looks for; hash
// and dump read it but warn.
func TestEmptyAndTinyDevices(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty, tiny := filepath.Join(dir, "empty.img"), filepath.Join(dir, "tiny.img")
	os.WriteFile(empty, nil, 0o444)
	os.WriteFile(tiny, []byte{0x5a}, 0o444)
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"scan", empty}, 1, empty + ": empty (0 bytes)"},
		{[]string{"hash", empty}, 1, empty + ": empty (0 bytes)"},
		{[]string{"dump", empty}, 1, empty + ": empty (0 bytes)"},
		{[]string{"scan", tiny}, 1, tiny + ": too small (1 bytes"},
		{[]string{"hash", tiny}, 0, "warning: " + tiny + " is only 1 bytes"},
		{[]string{"dump", tiny}, 0, "warning: " + tiny + " is only 1 bytes"},
	} {
		_, stderr, code := holmes(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("holmes %v: exit %d, stderr %q; want exit %d saying %q", c.args, code, stderr, c.code, c.says)
		}
	}
}

// compare refuses an --offset beyond the end, as dump does.
func TestCompareOffsetPastEnd(t *testing.T) {
	t.Parallel()
	d0, d1 := pairsDisk(t, 0), pairsDisk(t, 1)
	_, stderr, code := holmes(t, "compare", d0, d1, "--offset", "1G")
	if code != 1 || !strings.Contains(stderr, "past the end") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// An error about a name the case file does not define names the case file
// itself, not the directory it is in.
func TestCaseFileErrorNamesTheFile(t *testing.T) {
	t.Parallel()
	cf := filepath.Join(t.TempDir(), "case.json")
	os.WriteFile(cf, []byte(`{"arrays": [{"name": "md1", "level": "raid1", "data_offset": 0, "members": ["md1"]}]}`), 0o644)
	for _, name := range []string{"md9", "md1"} {
		_, stderr, code := holmes(t, "dump", name, "--case", cf)
		if code != 1 || !strings.Contains(stderr, "case file "+cf) {
			t.Errorf("dump %s: exit %d, stderr %q", name, code, stderr)
		}
	}
}
