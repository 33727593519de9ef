package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestCLIDocCoversEveryCommandAndFlag walks the command tree and checks that
// docs/cli.md, the contract, has a section for every command ("### holmes
// md solve ...", or a shared one such as "### holmes ext info|ls ...") that
// names each of its flags as `--flag`, and that the global flags are in
// "## Global flags". A new command or flag fails it until cli.md
// describes it.
func TestCLIDocCoversEveryCommandAndFlag(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	root := NewCmdRoot(newFactory(io.Discard, io.Discard))
	root.InitDefaultCompletionCmd()
	global := docSection(doc, "## Global flags")
	root.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Name != "help" && !fl.Hidden && !strings.Contains(global, "`--"+fl.Name) {
			t.Errorf("docs/cli.md: ## Global flags does not name `--%s`", fl.Name)
		}
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			walk(sub)
		}
		if c == root || !c.Runnable() || c.HasAvailableSubCommands() {
			return
		}
		path := c.CommandPath()
		section := commandSection(doc, strings.Fields(path)[1:])
		if section == "" {
			t.Errorf("docs/cli.md: no section for %s (a heading \"### %s ...\")", path, path)
			return
		}
		c.LocalNonPersistentFlags().VisitAll(func(fl *pflag.Flag) {
			if fl.Name != "help" && !fl.Hidden && !strings.Contains(section, "`--"+fl.Name) {
				t.Errorf("docs/cli.md: the section of %s does not name `--%s`", path, fl.Name)
			}
		})
	}
	walk(root)
}

// docSection returns the text from the line heading up to the next heading
// of the same or a higher level, or "".
func docSection(doc, heading string) string {
	i := strings.Index(doc, "\n"+heading)
	if i < 0 {
		return ""
	}
	rest := doc[i+1:]
	level := strings.SplitN(heading, " ", 2)[0] + " "
	end := len(rest)
	for _, stop := range []string{"\n" + level, "\n" + level[1:]} {
		if j := strings.Index(rest[1:], stop); j >= 0 && j+1 < end {
			end = j + 1
		}
	}
	return rest[:end]
}

// commandSection finds the "### holmes ..." section whose heading names
// the command words (an alternative of a|b|c matches any of them).
func commandSection(doc string, words []string) string {
	for _, l := range strings.Split(doc, "\n") {
		h, ok := strings.CutPrefix(l, "### holmes ")
		if !ok {
			continue
		}
		fields := strings.Fields(h)
		if len(fields) < len(words) {
			continue
		}
		match := true
		for i, w := range words {
			alts := strings.Split(fields[i], "|")
			found := false
			for _, a := range alts {
				found = found || a == w
			}
			match = match && found
		}
		if match {
			return docSection(doc, l)
		}
	}
	return ""
}
