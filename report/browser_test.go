package report

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"holmes/triage"
)

// The HTML report rendered by a real browser: Debian's chromium, headless.
// A launch costs seconds of both cores, so these tests stay out of -short.

// chromium returns the browser to render in, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("rendering in chromium takes seconds: skipped under -short")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("chromium is not installed (apt-get install chromium): the report is not rendered in a browser")
	return ""
}

// writePage writes the HTML report of r to a file and returns its path
// and text.
func writePage(t *testing.T, r *triage.Result) (path, doc string) {
	t.Helper()
	doc = htmlReport(t, r)
	path = filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, doc
}

// runBrowser opens page headless with every host name failing to resolve
// (so a page that needed the network would come out incomplete) and
// returns what the browser printed.
func runBrowser(t *testing.T, browser, page string, args ...string) []byte {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append([]string{"--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
		"--user-data-dir=" + filepath.Join(home, "profile"), "--disable-background-networking",
		"--disable-component-update", "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
		"--virtual-time-budget=5000"}, args...)
	cmd := exec.CommandContext(ctx, browser, append(argv, "file://"+page)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, stderr.String())
	}
	return out
}

// elementCounts counts the opening tags that matter in a page.
func elementCounts(doc string) map[string]int {
	counts := map[string]int{}
	for _, m := range regexp.MustCompile(`<(svg|g|rect|text|path|line|title|table|tr|pre|section|script|img|iframe|object)[\s>]`).FindAllStringSubmatch(doc, -1) {
		counts[m[1]]++
	}
	return counts
}

// sameStructure asserts that the browser's DOM has every element the page
// was written with, no more and no less: no name closed an element early
// or opened one, and nothing was left unrendered.
func sameStructure(t *testing.T, source, dom string) {
	t.Helper()
	want, got := elementCounts(source), elementCounts(dom)
	for tag, n := range want {
		if got[tag] != n {
			t.Errorf("the DOM has %d <%s>, the page %d", got[tag], tag, n)
		}
	}
	for tag, n := range got {
		if want[tag] == 0 {
			t.Errorf("the DOM has %d <%s> the page never wrote", n, tag)
		}
	}
}

// domOf renders r's page in the browser and returns the DOM it built,
// checked to have the page's structure.
func domOf(t *testing.T, r *triage.Result) string {
	t.Helper()
	browser := chromium(t)
	page, source := writePage(t, r)
	dom := string(runBrowser(t, browser, page, "--dump-dom"))
	sameStructure(t, source, dom)
	return dom
}

func TestBrowserRendersTheStack(t *testing.T) {
	dom := domOf(t, incident())
	mustContain(t, dom,
		`<svg xmlns="http://www.w3.org/2000/svg" class="stack"`,
		`<g class="node part trusted">`, `class="badge">trusted half</text>`,
		`<g class="node part leftout">`, `class="badge">left out</text>`,
		`<g class="node array">`, `class="name">guests/home</text>`,
		`<svg xmlns="http://www.w3.org/2000/svg" class="strip"`, `<rect class="diff"`,
		"mdadm --create /dev/md1 --assume-clean --readonly",
		// The last thing on the page: it rendered to the end without
		// the network.
		"This file is standalone: no scripts, no network.</p></footer>")
	if strings.Count(dom, "<svg ") != 2 {
		t.Errorf("%d SVG pictures in the DOM, want the stack and one strip", strings.Count(dom, "<svg "))
	}
}

// The screenshot is not blank: the boxes and lines are drawn, and the
// trusted half's green and the left-out half's red are on screen.
func TestBrowserScreenshot(t *testing.T) {
	browser := chromium(t)
	page, _ := writePage(t, incident())
	shot := filepath.Join(filepath.Dir(page), "report.png")
	runBrowser(t, browser, page, "--window-size=1200,1000", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	var ink, green, red int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r32, g32, b32, _ := img.At(x, y).RGBA()
			r, g, bl := int(r32>>8), int(g32>>8), int(b32>>8)
			if r < 240 || g < 240 || bl < 240 {
				ink++
			}
			if g > r+60 && g > bl+40 {
				green++ // the trusted half's border and link (#1f8a3a)
			}
			if r > g+100 && r > bl+100 {
				red++ // the left-out half's dashed border (#c0392b)
			}
		}
	}
	total := b.Dx() * b.Dy()
	t.Logf("%dx%d: %d non-white, %d green, %d red pixels", b.Dx(), b.Dy(), ink, green, red)
	if ink < total/20 {
		t.Errorf("only %d of %d pixels are not white: the page looks blank", ink, total)
	}
	if green < 100 || red < 50 {
		t.Errorf("%d green and %d red pixels: the trusted and left-out halves are not drawn", green, red)
	}
}

// Crafted names stay text in the browser: no element is made from them.
func TestBrowserHostileNames(t *testing.T) {
	dom := domOf(t, hostile())
	mustNotContain(t, strings.ToLower(dom), "<script", "<img")
	mustContain(t, dom, "&lt;script&gt;alert(\"lv\")&lt;/script&gt;", "&lt;/svg&gt;&lt;/title&gt;&lt;img src=x onerror=alert(1)&gt;",
		"This file is standalone: no scripts, no network.</p></footer>")
}
