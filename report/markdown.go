package report

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"holmes/triage"
)

// Markdown writes the report as Markdown: the stack as a text tree, a
// strip of characters per mirror pair, tables for the rest.
func Markdown(w io.Writer, r *triage.Result) error {
	if r == nil {
		return errors.New("report: no triage result")
	}
	v := newView(r)
	m := &mdWriter{w: w}
	m.line("# holmes triage report")
	m.line("")
	m.line("**Status: %s**: %s", v.Status(), md(v.StatusWhy()))
	m.line("")
	m.line("%s", md(v.Summary()))
	if len(v.Result.Warnings) > 0 {
		m.section("Warnings")
		for _, s := range v.Result.Warnings {
			m.line("- %s", md(s))
		}
	}
	for _, a := range v.Undecided {
		m.undecided(a)
	}
	m.section("Stack")
	m.line("Disks → partitions → arrays → PVs → LVs → filesystems. [TRUSTED HALF]: the mirror half " +
		"the reconstruction reads; [LEFT OUT]: a member it does not read (a stale half); [UNDECIDED]: " +
		"a member of an ambiguous array.")
	m.line("")
	m.code("text", v.Stack.tree())
	if len(v.Arrays) > 0 {
		m.section("Arrays")
		for _, a := range v.Arrays {
			m.array(a)
		}
	}
	if len(v.Affected) > 0 {
		m.section("Affected by divergence")
		m.line("Where mirror halves differ, what the region holds, and whose version the plan reads.")
		m.line("")
		rows := [][]string{}
		for _, a := range v.Affected {
			rows = append(rows, []string{a.Array, a.Halves, a.Range(), a.Layer, a.What, a.Path, a.Version})
		}
		m.table([]string{"array", "halves", "member bytes", "layer", "what", "path", "version used"}, rows)
	}
	if len(v.Unreadable) > 0 {
		m.section("Unreadable ranges")
		m.line("Gaps of the disks' ddrescue mapfiles: which arrays read their bytes from another copy or parity, and what the bytes no copy holds were.")
		m.line("")
		rows := [][]string{}
		for _, u := range v.Unreadable {
			rows = append(rows, []string{u.Dev, u.Range, u.Why, u.Routed, u.Lost})
		}
		m.table([]string{"disk", "bytes", "why", "routed around by", "lost"}, rows)
	}
	if len(v.LostFiles) > 0 {
		m.section("Files lost")
		m.line("Files with bytes no copy or parity holds (offsets in the file); `ext extract` writes them with those bytes as holes.")
		m.line("")
		rows := [][]string{}
		for _, f := range v.LostFiles {
			rows = append(rows, []string{f.FS, f.Path, f.Bytes, f.Ranges})
		}
		m.table([]string{"filesystem", "path", "bytes lost", "file bytes"}, rows)
	}
	if len(v.SMART) > 0 {
		m.section("SMART")
		rows := [][]string{}
		for _, s := range v.SMART {
			rows = append(rows, []string{s.File, s.Model, s.Serial, s.Health, strconv.Itoa(s.Score),
				s.Hours, s.Verdict, strings.Join(s.Evidence, "; ")})
		}
		m.table([]string{"report", "model", "serial", "health", "score", "power-on hours", "self-assessment", "evidence"}, rows)
	}
	if len(v.Result.VolumeGroups) > 0 {
		m.section("Volume groups")
		for _, g := range v.Result.VolumeGroups {
			m.volumeGroup(g)
		}
	}
	if len(v.Result.Filesystems) > 0 {
		m.section("Filesystems")
		rows := [][]string{}
		for _, f := range v.Result.Filesystems {
			rows = append(rows, []string{f.Dev, f.Type, f.Label, f.UUID, f.Superblock, rootText(f),
				strconv.FormatInt(f.Files, 10), f.Note})
		}
		m.table([]string{"DEV", "type", "label", "UUID", "superblock", "root directory", "files", "note"}, rows)
	}
	m.section("Plan")
	if len(v.Plan) == 0 {
		m.line("No plan: nothing was decided.")
	} else {
		m.line("Runs as printed on a rescue system; it writes only to copy-on-write overlays.")
		if v.PlanAltered {
			m.line("")
			m.line("**Some lines hold characters shown escaped (`\\x..`, `\\u....`): do not copy them from here; take them from `holmes triage --json`.**")
		}
		m.line("")
		m.code("sh", v.Plan)
	}
	return m.err
}

func (m *mdWriter) undecided(a arrayView) {
	m.section(fmt.Sprintf("UNDECIDED: %s", md(a.Name)))
	m.line("**No `mdadm --create` line is printed for %s and the case file leaves it out.**", md(a.Name))
	m.list("Why it is undecided", a.Why)
	m.candidates(a.Leading)
	if n := a.MoreCandidates(); n > 0 {
		m.line("")
		m.line("%d more candidates are listed under %s in Arrays.", n, md(a.Name))
	}
	m.list("What would decide", a.WouldDecide)
}

func (m *mdWriter) candidates(cs []triage.Candidate) {
	if len(cs) > 0 {
		m.line("")
		m.line("Candidates:")
		m.line("")
		m.table([]string{"#", "geometry", "data offset", "order", "score"}, candidateRows(cs))
	}
}

func candidateRows(cs []triage.Candidate) [][]string {
	var rows [][]string
	for i, c := range cs {
		rows = append(rows, []string{strconv.Itoa(i + 1), geometry(c.Level, c.Layout, c.ChunkBytes),
			strconv.FormatInt(c.DataOffset, 10), orderText(c.Order), fmt.Sprintf("%.3f", c.Score)})
	}
	return rows
}

func orderText(order []string) string {
	shown := make([]string, len(order))
	for i, m := range order {
		shown[i] = m
		if m == "" {
			shown[i] = "missing"
		}
	}
	return strings.Join(shown, ", ")
}

func (m *mdWriter) array(a arrayView) {
	m.line("")
	m.line("### %s: %s", md(a.Name), md(strings.Join(nonEmpty(a.Geometry, a.Metadata), " · ")))
	m.line("")
	if a.Ambiguous {
		m.line("**UNDECIDED**: see above.")
		m.line("")
	}
	m.table([]string{"", ""}, [][]string{
		{"source", a.Source},
		{"confidence", fmt.Sprintf("%.2f", a.Confidence)},
		{"data offset", strconv.FormatInt(a.DataOffset, 10)},
		{"data size", dataSize(a.DataSize)},
		{"missing members", strconv.Itoa(a.Missing)},
	})
	if len(a.Members) > 0 {
		var rows [][]string
		for _, r := range a.Members {
			rows = append(rows, []string{strconv.Itoa(r.Role), r.Dev, r.State})
		}
		m.line("")
		m.table([]string{"role", "member", "reconstruction"}, rows)
	}
	m.list("Evidence", a.Evidence)
	if a.MoreCandidates() > 0 {
		m.candidates(a.Candidates)
	}
	for _, p := range a.Detailed {
		m.pair(p)
	}
	if len(a.Identical) > 0 {
		m.line("")
		m.line("Identical mirror halves (either is read): %s", md(strings.Join(a.Identical, ", ")))
	}
}

// stripChars is the width of a mirror pair's strip in Markdown.
const stripChars = 64

func (m *mdWriter) pair(p pairView) {
	m.line("")
	m.line("Mirror halves %s: %s differ; trusted: **%s**", md(strings.Join(p.Members, " / ")), iec(p.DiffBytes), md(p.TrustText()))
	for _, why := range p.Why {
		m.line("- %s", md(why))
	}
	if len(p.Regions) > 0 {
		m.line("")
		m.code("text", []string{
			fmt.Sprintf("|%s|  '#': the halves differ", p.Text(stripChars)),
			fmt.Sprintf("0%*s", stripChars+1, iec(p.Length)),
		})
	}
}

func (m *mdWriter) volumeGroup(g triage.VolumeGroup) {
	m.line("")
	m.line("### %s: seqno %d chosen", md(g.VG), g.Seqno)
	m.line("")
	var pvs []string
	for _, name := range sortedKeys(g.PVs) {
		pvs = append(pvs, name+" on "+g.PVs[name])
	}
	m.table([]string{"", ""}, [][]string{
		{"VG UUID", g.VGUUID},
		{"seqno", strconv.FormatInt(g.Seqno, 10)},
		{"source", g.Source},
		{"LVs", listText(g.LVs)},
		{"PVs", listText(pvs)},
		{"metadata file", g.File},
	})
	m.list("Why this version", g.Why)
	if len(g.Rejected) > 0 {
		m.line("")
		m.line("Rejected versions:")
		m.line("")
		var rows [][]string
		for _, r := range g.Rejected {
			rows = append(rows, []string{strconv.FormatInt(r.Seqno, 10), r.VGUUID, r.Source, listText(r.LVs), r.Why})
		}
		m.table([]string{"seqno", "VG UUID", "source", "LVs", "why not"}, rows)
	}
}

func listText(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// rootText is what became of a filesystem's root directory.
func rootText(f triage.Filesystem) string {
	switch {
	case f.RootOK:
		return "readable"
	case f.Superblock == "":
		return "did not open"
	}
	return "UNREADABLE"
}

// mdWriter writes lines and keeps the first error.
type mdWriter struct {
	w   io.Writer
	err error
}

// line writes one line; format is ours, any text from disk goes through
// md before it reaches an argument.
func (m *mdWriter) line(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format+"\n", args...)
	}
}

func (m *mdWriter) section(title string) {
	m.line("")
	m.line("## %s", title)
	m.line("")
}

func (m *mdWriter) list(title string, items []string) {
	if len(items) == 0 {
		return
	}
	m.line("")
	m.line("%s:", title)
	m.line("")
	for _, s := range items {
		m.line("- %s", md(s))
	}
}

// table writes a table whose every cell is escaped.
func (m *mdWriter) table(header []string, rows [][]string) {
	cells := func(row []string) string {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = md(c)
		}
		return "| " + strings.Join(out, " | ") + " |"
	}
	m.line("%s", cells(header))
	m.line("|%s", strings.Repeat("---|", len(header)))
	for _, r := range rows {
		m.line("%s", cells(r))
	}
}

// code writes lines as a fenced block whose fence is longer than any run
// of backticks in them, so that no line can close it.
func (m *mdWriter) code(lang string, lines []string) {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, c := range l {
			if c == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	m.line("%s%s", fence, lang)
	for _, l := range lines {
		m.line("%s", l)
	}
	m.line("%s", fence)
}

// md escapes text for Markdown inline content: HTML's specials become
// entities (so no tag can form), Markdown's emphasis, link, code and table
// characters get a backslash, and a line cannot start a heading, a list or
// a quote.
func md(s string) string {
	var b strings.Builder
	for i, c := range s {
		switch {
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '&':
			b.WriteString("&amp;")
		case strings.ContainsRune("\\`*_[]|#~!", c),
			i == 0 && strings.ContainsRune("-+=", c),
			(c == '.' || c == ')') && isDigits(s[:i]) && (i+1 == len(s) || s[i+1] == ' '):
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
