package report

import (
	"fmt"
	"strconv"
	"strings"

	"holmes/smart"
	"holmes/triage"
)

// view is what both formats show, worked out once from a result so that
// the Markdown and the HTML say the same things.
type view struct {
	Result     *triage.Result
	Partitions int
	Stack      *stack
	Width      float64
	Height     float64
	Arrays     []arrayView
	Undecided  []arrayView
	Affected   []affectedRow
	Unreadable []unreadableRow
	LostFiles  []lostFileRow
	SMART      []smartRow
	// Plan holds the plan's lines made visible; PlanAltered says a line
	// held characters that had to be shown escaped, so that it must not be
	// copied as printed.
	Plan        []string
	PlanAltered bool
}

type arrayView struct {
	*triage.Array
	Geometry string
	Members  []memberRow
	Missing  int
	Pairs    []pairView
	// Leading are the candidates the undecided box at the top shows;
	// the array's own section lists them all.
	Leading []triage.Candidate
	// Detailed are the pairs shown in full (they differ, or a half was
	// chosen); Identical names the others in one line.
	Detailed  []pairView
	Identical []string
}

type memberRow struct {
	Role  int
	Dev   string
	State string
	Mark  string
}

// affectedRow is one structure a divergent region holds, and which half's
// version the reconstruction reads.
type affectedRow struct {
	Array   string
	Halves  string
	Start   int64
	End     int64
	Layer   string
	What    string
	Path    string
	Version string
}

type smartRow struct {
	smart.Result
	Hours    string
	Verdict  string
	Evidence []string
}

func newView(original *triage.Result) *view {
	r := visibleResult(original)
	v := &view{Result: r, Stack: buildStack(r), Plan: r.Plan}
	v.Width, v.Height = v.Stack.layout()
	for _, d := range r.Devices {
		v.Partitions += len(d.Partitions)
	}
	for i := range r.Arrays {
		a := newArrayView(r, &r.Arrays[i])
		v.Arrays = append(v.Arrays, a)
		if a.Ambiguous {
			v.Undecided = append(v.Undecided, a)
		}
		v.Affected = append(v.Affected, affected(a)...)
	}
	for _, u := range r.Unreadable {
		v.Unreadable = append(v.Unreadable, newUnreadableRow(u))
	}
	for _, f := range r.LostFiles {
		v.LostFiles = append(v.LostFiles, newLostFileRow(f))
	}
	for _, s := range r.SMART {
		v.SMART = append(v.SMART, newSMARTRow(s))
	}
	for i, l := range original.Plan {
		v.PlanAltered = v.PlanAltered || r.Plan[i] != l
	}
	return v
}

func newArrayView(r *triage.Result, a *triage.Array) arrayView {
	v := arrayView{Array: a, Geometry: geometry(a.Level, a.Layout, a.ChunkBytes), Pairs: pairs(r, a)}
	v.Leading = a.Candidates[:min(len(a.Candidates), leadingCandidates)]
	trustedHalf := map[string]bool{}
	for _, h := range a.Halves {
		trustedHalf[h.Trust] = h.Trust != ""
	}
	for _, p := range v.Pairs {
		if p.Differ() || p.Trust != "" {
			v.Detailed = append(v.Detailed, p)
		} else {
			v.Identical = append(v.Identical, strings.Join(p.Members, " / "))
		}
	}
	for role, m := range a.Members {
		row := memberRow{Role: role, Dev: m, State: "read", Mark: markUsed}
		switch {
		case m == "":
			v.Missing++
			row.State, row.Mark = "missing", markLeftOut
		case a.Ambiguous:
			row.State, row.Mark = "undecided", markAmbiguous
		case role < len(a.Trusted) && a.Trusted[role] == "":
			row.State, row.Mark = "left out (not read)", markLeftOut
		case trustedHalf[m]:
			row.State, row.Mark = "trusted half (read)", markTrusted
		}
		v.Members = append(v.Members, row)
	}
	return v
}

// leadingCandidates is how many candidates the undecided box shows: enough
// to see what competes, few enough that the box stays readable when a
// solve leaves dozens.
const leadingCandidates = 8

// MoreCandidates is how many candidates only the array's section lists.
func (a arrayView) MoreCandidates() int { return len(a.Candidates) - len(a.Leading) }

func affected(a arrayView) []affectedRow {
	var out []affectedRow
	for _, p := range a.Pairs {
		version := p.TrustText()
		for _, d := range p.Regions {
			row := affectedRow{Array: a.Name, Halves: strings.Join(p.Members, " / "),
				Start: d.Start, End: d.End, Version: version}
			if len(d.Touches) == 0 {
				row.What = "(trace found nothing)"
				out = append(out, row)
			}
			for _, t := range d.Touches {
				row.Layer, row.What, row.Path = t.Layer, t.What, t.Path
				out = append(out, row)
			}
		}
	}
	return out
}

func newSMARTRow(s smart.Result) smartRow {
	row := smartRow{Result: s, Hours: "not reported", Verdict: "not reported"}
	if s.PowerOnHours != nil {
		row.Hours = strconv.FormatInt(*s.PowerOnHours, 10)
	}
	if s.Passed != nil {
		row.Verdict = map[bool]string{true: "PASSED", false: "FAILED"}[*s.Passed]
	}
	for _, r := range s.Reasons {
		name := strings.TrimSpace(strings.Join(nonEmpty(r.Attr, r.Name), " "))
		row.Evidence = append(row.Evidence, fmt.Sprintf("%s = %s: %s (%s, -%d)", name, r.Raw, r.Why, r.Severity, r.Penalty))
	}
	return row
}

// status is the report's one-line verdict.
func (v *view) Status() string {
	if v.Result.Ambiguous {
		return "AMBIGUOUS"
	}
	return "resolved"
}

// StatusWhy says what the verdict means for the operator.
func (v *view) StatusWhy() string {
	if !v.Result.Ambiguous {
		return "every layer was decided; the plan rebuilds the whole stack."
	}
	if len(v.Undecided) > 0 {
		var names []string
		for _, a := range v.Undecided {
			names = append(names, a.Name)
		}
		verb := "has no plan line and stays"
		if len(names) > 1 {
			verb = "have no plan line and stay"
		}
		return "some layer stays undecided (triage exits 3): " + strings.Join(names, ", ") + " " + verb +
			" out of the case file until the evidence below decides it."
	}
	return "some layer stays undecided (triage exits 3); the warnings say which."
}

// Summary counts what was found.
func (v *view) Summary() string {
	r := v.Result
	return fmt.Sprintf("%s, %s, %s, %s, %s.", count(len(r.Devices), "disk"), count(v.Partitions, "partition"),
		count(len(r.Arrays), "array"), count(len(r.VolumeGroups), "volume group"), count(len(r.Filesystems), "filesystem"))
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Range is a byte range of a member as people read it.
func (r affectedRow) Range() string { return byteRange(r.Start, r.End) }

func (s span) Range() string { return byteRange(s.Start, s.End) }

func byteRange(start, end int64) string {
	return fmt.Sprintf("%d–%d (%s)", start, end, iec(end-start))
}

// unreadableRow is one gap of a disk's ddrescue mapfile: where, why, which
// arrays read its bytes from elsewhere, and what the bytes no copy holds
// were.
type unreadableRow struct {
	Dev, Range, Why, Routed, Lost string
}

func newUnreadableRow(u triage.Unreadable) unreadableRow {
	row := unreadableRow{Dev: u.Dev, Range: fmt.Sprintf("%d-%d (%s)", u.Start, u.End-1, sizeText(u.End-u.Start)), Why: u.Why}
	var routed, lost []string
	for _, a := range u.RoutedAround {
		routed = append(routed, fmt.Sprintf("%s %d-%d", a.Array, a.Start, a.End-1))
	}
	for _, a := range u.LostInArrays {
		lost = append(lost, fmt.Sprintf("%s %d-%d lost", a.Array, a.Start, a.End-1))
	}
	for _, t := range u.Lost {
		lost = append(lost, strings.TrimSpace(t.Layer+": "+t.What+" "+t.Path))
	}
	row.Routed = strings.Join(routed, "; ")
	row.Lost = strings.Join(lost, "; ")
	if row.Lost == "" {
		row.Lost = "nothing (the arrays read these bytes elsewhere, or they are md's own: metadata, parity)"
	}
	return row
}

// lostFileRow is a file with bytes no copy holds.
type lostFileRow struct {
	FS, Path, Bytes, Ranges string
}

func newLostFileRow(f triage.LostFile) lostFileRow {
	ranges := make([]string, len(f.Ranges))
	for i, r := range f.Ranges {
		ranges[i] = fmt.Sprintf("%d-%d", r.Start, r.End-1)
	}
	return lostFileRow{FS: f.FS, Path: f.Path, Bytes: strconv.FormatInt(f.Bytes, 10), Ranges: strings.Join(ranges, ", ")}
}
