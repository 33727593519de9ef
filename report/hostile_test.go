package report

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"holmes/triage"
)

// Names a hostile disk could carry: tags, an SVG close, a Markdown
// heading and link, a code fence, a table pipe, a terminal escape and a
// right-to-left override.
const (
	scriptName = `<script>alert("lv")</script>`
	svgBreak   = `</svg></title><img src=x onerror=alert(1)>`
	fenceBreak = "```\n# forged heading\n<script>alert(2)</script>"
	pipeLink   = `a|b [click](javascript:alert(3))`
	terminal   = "\x1b[2J\x1b]0;pwned\x07"
	bidi       = "gpj.\u202eexe"
)

func hostile() *triage.Result {
	r := incident()
	r.Devices[0].Name = terminal + "d0.img"
	r.Devices[0].Error = scriptName
	r.Devices[0].Partitions[0].Holds = []string{svgBreak}
	r.Arrays[0].Evidence = append(r.Arrays[0].Evidence, fenceBreak, pipeLink)
	vg := &r.VolumeGroups[0]
	vg.VG = svgBreak
	vg.LVs = []string{scriptName, fenceBreak, pipeLink, bidi}
	vg.PVs = map[string]string{scriptName: "md1"}
	vg.Rejected[0].Why = pipeLink
	r.Filesystems = []triage.Filesystem{
		{Dev: svgBreak + "/" + scriptName, Type: "ext4", Label: svgBreak, Superblock: fenceBreak, Files: 1, Note: bidi},
	}
	r.Arrays[1].Divergence[0].Touches[0].Path = "/home/" + fenceBreak
	r.Warnings = append(r.Warnings, terminal+scriptName)
	r.Plan = append(r.Plan, "mount -o ro /dev/guests/'"+terminal+"' /mnt", "````")
	return r
}

// Nothing a disk names can become markup, a line, a heading or a terminal
// command in either format.
func TestHostileNamesRenderInert(t *testing.T) {
	for _, format := range []string{"markdown", "html"} {
		t.Run(format, func(t *testing.T) {
			var doc string
			if format == "html" {
				doc = htmlReport(t, hostile())
			} else {
				doc = markdown(t, hostile())
			}
			for _, c := range []string{"\x1b", "\x07", "\u202e"} {
				if strings.Contains(doc, c) {
					t.Errorf("%q reached the report", c)
				}
			}
			// Markdown shows a code block's text as it is: names there
			// are inert as long as no name closes the block.
			markup, tags := strings.ToLower(doc), []string{"<script", "<img"}
			if format == "markdown" {
				outside, problems := fences(markup)
				for _, p := range problems {
					t.Error(p)
				}
				markup, tags = outside, append(tags, "[click](")
			}
			for _, tag := range tags {
				if strings.Contains(markup, tag) {
					t.Errorf("%q reached the report as markup", tag)
				}
			}
			if regexp.MustCompile(`(?m)^#+ forged`).MatchString(doc) {
				t.Error("a name started a heading")
			}
			// The names are still there, shown.
			mustContain(t, doc, `\u202eexe`, `\u001b[2J`)
			if format == "html" {
				mustContain(t, doc, "&lt;script&gt;alert(&#34;lv&#34;)&lt;/script&gt;", "&lt;/svg&gt;&lt;/title&gt;&lt;img src=x")
				// No name closed an element early: every box is drawn.
				if got := strings.Count(doc, `<g class="node `) - 5; got != len(newView(hostile()).Stack.Nodes) {
					t.Errorf("%d boxes drawn", got)
				}
				if strings.Count(doc, "<svg ") != strings.Count(doc, "</svg>") {
					t.Errorf("%d <svg> against %d </svg>", strings.Count(doc, "<svg "), strings.Count(doc, "</svg>"))
				}
				mustContain(t, doc, `<p class="caution">Some lines hold characters shown escaped`)
			} else {
				mustContain(t, doc, "&lt;script&gt;alert(\"lv\")&lt;/script&gt;", `a\|b \[click\]`,
					"**Some lines hold characters shown escaped")
			}
		})
	}
}

// fences reads a Markdown document's fenced code blocks: it returns the
// document without them, and says where a line inside a block could close
// it early or a block is left open.
func fences(doc string) (outside string, problems []string) {
	var out []string
	open := ""
	for _, line := range strings.Split(doc, "\n") {
		fence := regexp.MustCompile("^`{3,}").FindString(line)
		switch {
		case open == "" && fence != "":
			open = fence
		case open != "" && line == open:
			open = ""
		case open != "" && fence != "" && len(fence) >= len(open):
			problems = append(problems, fmt.Sprintf("a line inside a %d-backtick block closes it: %q", len(open), line))
		case open == "":
			out = append(out, line)
		}
	}
	if open != "" {
		problems = append(problems, "a code block is left open")
	}
	return strings.Join(out, "\n"), problems
}

func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"d0.img":             "d0.img",
		"naïve ünïcode 中文":   "naïve ünïcode 中文",
		"a\nb":               `a\u000ab`,
		"\x1b[31m":           `\u001b[31m`,
		"ok\xffok":           `ok\xffok`,
		"\u202egpj":          `\u202egpj`,
		"tab\there":          `tab\u0009here`,
		"line\u2028sep":      `line\u2028sep`,
		"\U000E0001language": `\U000e0001language`,
	} {
		if got := visible(in); got != want {
			t.Errorf("visible(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMarkdownEscape(t *testing.T) {
	for in, want := range map[string]string{
		"guests/home":      "guests/home",
		"0.97":             "0.97",
		"1. item":          `1\. item`,
		"- item":           `\- item`,
		"# heading":        `\# heading`,
		"a|b":              `a\|b`,
		"*bold* _it_":      `\*bold\* \_it\_`,
		"`code`":           "\\`code\\`",
		"<b>&amp;</b>":     "&lt;b&gt;&amp;amp;&lt;/b&gt;",
		"[x](y)":           `\[x\](y)`,
		`back\slash`:       `back\\slash`,
		"![img](http://x)": `\!\[img\](http://x)`,
	} {
		if got := md(in); got != want {
			t.Errorf("md(%q) = %q, want %q", in, got, want)
		}
	}
}
