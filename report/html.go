package report

import (
	_ "embed"
	"errors"
	"html/template"
	"io"
	"strconv"
	"strings"

	"holmes/smart"
	"holmes/triage"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlPage is parsed once; html/template escapes every value for where it
// lands (text, attribute, SVG title), so that no name from disk can open a
// tag. The page's Content-Security-Policy forbids scripts and every fetch
// as a second line of defence.
var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":        func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"inc":        func(i int) int { return i + 1 },
	"iec":        iec,
	"dataSize":   dataSize,
	"geometry":   geometry,
	"order":      orderText,
	"join":       strings.Join,
	"list":       listText,
	"root":       rootText,
	"stripW":     func() float64 { return stripW },
	"stripWidth": func() float64 { return stripW + 24 },
	"legendY":    func(h float64) float64 { return h - legendH + 10 },
	"health": func(h string) string {
		switch h {
		case smart.OK, smart.Watch, smart.Fail:
			return h
		}
		return ""
	},
}).Parse(htmlSource))

// HTML writes the report as one standalone HTML file: inline CSS, the
// stack and the mirror strips as inline SVG, no scripts and nothing
// fetched.
func HTML(w io.Writer, r *triage.Result) error {
	if r == nil {
		return errors.New("report: no triage result")
	}
	return htmlPage.Execute(w, newView(r))
}
