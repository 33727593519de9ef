// Package docs holds the user documentation. Its test runs every example the
// pages show and compares the output with what holmes prints today, so the
// docs stay true.
//
// An example is a ```console block: lines starting with "$ " are shell
// commands (a trailing backslash continues one on the next line), the lines
// after a command are its output (stdout and stderr as a terminal shows
// them). In the output, a line "..." stands for any number of lines, and a
// line ending in "..." for any line that starts with what comes before.
// The commands of one page run in order in one empty directory, with the
// built holmes first on PATH and the repository's testdata/ reachable as
// testdata/, so every example names the file it unpacks
// (`xz -dc testdata/md/... > d0.img`). Other fenced blocks are not run.
// A block opened with "```console long" (GitHub still shows it as console)
// unpacks more than the fast loop should: `go test -short` skips its
// commands, so later blocks of the page must not need what it makes.
//
// HOLMES_DOCS_UPDATE=1 go test ./docs rewrites each command's output in
// the pages with what it printed (elisions are lost; put them back by hand).
package docs

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// example is one command of a console block and the output shown for it.
type example struct {
	line    int    // 1-based line of the "$ " in the page
	command string // without "$ ", continuation lines joined
	cmdEnd  int    // index of the last line of the command in the page
	want    []string
	long    bool // in a "```console long" block: not run under -short
}

// parsePage returns the examples of a markdown page in order.
func parsePage(text string) []example {
	lines := strings.Split(text, "\n")
	var out []example
	inConsole, long := false, false
	var cur *example
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch info := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "```")); {
		case !inConsole && strings.HasPrefix(strings.TrimSpace(l), "```") && len(info) > 0 && info[0] == "console":
			inConsole, long = true, len(info) == 2 && info[1] == "long"
		case inConsole && strings.TrimSpace(l) == "```":
			inConsole, cur = false, nil
		case inConsole && strings.HasPrefix(l, "$ "):
			out = append(out, example{line: i + 1, command: strings.TrimPrefix(l, "$ "), long: long})
			cur = &out[len(out)-1]
			for strings.HasSuffix(cur.command, "\\") && i+1 < len(lines) {
				i++
				cur.command += "\n" + lines[i] // bash joins the lines at the backslash
			}
			cur.cmdEnd = i
		case inConsole && cur != nil:
			cur.want = append(cur.want, l)
		}
	}
	return out
}

// matches reports whether got fits want, with want's "..." elisions.
func matches(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	w := strings.TrimRight(want[0], " ")
	if w == "..." {
		for i := 0; i <= len(got); i++ {
			if matches(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	if len(got) == 0 {
		return false
	}
	g := strings.TrimRight(got[0], " ")
	if prefix, ok := strings.CutSuffix(w, "..."); ok && strings.HasPrefix(g, prefix) {
		return matches(want[1:], got[1:])
	}
	return w == g && matches(want[1:], got[1:])
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("docs: the repository root is not above docs/: %v", err)
	}
	return dir
}

// pages are the documents whose examples run: the README and docs/*.md.
func pages(t *testing.T, root string) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(root, "README.md")}, docs...)
}

func TestExamplesMatchHolmes(t *testing.T) {
	root := repoRoot(t)
	bin := filepath.Dir(fixture.BuildHolmes(t))
	update := os.Getenv("HOLMES_DOCS_UPDATE") != ""
	total := 0
	for _, page := range pages(t, root) {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		examples := parsePage(string(text))
		if len(examples) == 0 {
			continue
		}
		rel, _ := filepath.Rel(root, page)
		total += len(examples)
		t.Run(rel, func(t *testing.T) {
			t.Parallel() // pages share nothing; most of their time is xz and holmes reading
			work := t.TempDir()
			if err := os.Symlink(filepath.Join(root, "testdata"), filepath.Join(work, "testdata")); err != nil {
				t.Fatal(err)
			}
			var outputs [][]string
			for _, ex := range examples {
				if ex.long && testing.Short() {
					outputs = append(outputs, ex.want)
					continue
				}
				got := runExample(t, work, bin, ex.command)
				outputs = append(outputs, got)
				if !update && !matches(ex.want, got) {
					t.Errorf("%s:%d: $ %s\nthe page shows:\n%s\nholmes printed:\n%s", rel, ex.line, ex.command,
						strings.Join(ex.want, "\n"), strings.Join(got, "\n"))
				}
			}
			if update {
				rewrite(t, page, string(text), examples, outputs)
			}
		})
	}
	if total == 0 {
		t.Fatal("no ```console examples found in README.md and docs/*.md")
	}
}

// runExample runs one command line with bash in the page's directory and
// returns its output lines (stdout and stderr interleaved as written).
func runExample(t *testing.T, work, bin, command string) []string {
	t.Helper()
	cmd := exec.Command("bash", "-o", "pipefail", "-c", command)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "TZ=UTC", "LC_ALL=C", "COLUMNS=200")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Run() // a failing command is an example too: its output is compared
	s := strings.TrimSuffix(out.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// rewrite puts each command's actual output under it in the page.
func rewrite(t *testing.T, page, text string, examples []example, outputs [][]string) {
	t.Helper()
	lines := strings.Split(text, "\n")
	var out []string
	next := 0
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if next < len(examples) && i == examples[next].cmdEnd {
			out = append(out, outputs[next]...)
			i += len(examples[next].want) // skip the old output
			next++
		}
	}
	if err := os.WriteFile(page, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "rewrote %s\n", page)
}

// TestHolmesExamplesAreRun keeps every shown holmes run under test: a
// "$ holmes" line in a fenced block other than ```console would never be
// compared. An example that cannot run from testdata (a block device, a
// lab boot) says so in words and shows no "$ " prompt.
func TestHolmesExamplesAreRun(t *testing.T) {
	root := repoRoot(t)
	for _, page := range pages(t, root) {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, page)
		fence := ""
		for i, l := range strings.Split(string(text), "\n") {
			trimmed := strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(trimmed, "```") && fence == "":
				fence = trimmed
			case trimmed == "```":
				fence = ""
			case fence != "" && !strings.HasPrefix(fence, "```console") && strings.HasPrefix(l, "$ holmes"):
				t.Errorf("%s:%d: %q is in a %s block, which the docs test does not run: make it ```console", rel, i+1, l, fence)
			}
		}
	}
}
