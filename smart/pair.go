package smart

import (
	"fmt"
	"strings"
)

// Pair says which half of a mirror to work from.
type Pair struct {
	Members [2]string `json:"members"`
	Trust   *string   `json:"trust"` // the member to trust, null when equally sound or undecided
	Why     string    `json:"why"`
}

// Choose picks the sounder of two scored drives. Damage decides first: the
// drive with less defect evidence (counters above zero, logged errors,
// failed tests or verdicts) is trusted, whatever either report lacks; then
// the better health, the higher score, and the report that lacks less.
// Only drives equal in all of these leave the choice open, and so does a
// drive whose report holds no counters at all against one with defects:
// its defects are unknown, not absent.
func Choose(a, b Result) Pair {
	p := Pair{Members: [2]string{a.File, b.File}}
	da, db := a.defectWeight(), b.defectWeight()
	better, worse := a, b
	var because string
	switch {
	case da != db:
		if db < da {
			better, worse = b, a
		}
		if better.countersUnknown() {
			p.Why = fmt.Sprintf("undecided: %s has defects (%s), but %s's report holds only the drive's verdict, so whether it has any is unknown",
				worse.File, evidence(worse, Defect, better), better.File)
			return p
		}
		because = "defects: " + evidence(worse, Defect, better)
		if better.defectWeight() == 0 {
			because += fmt.Sprintf("; %s shows none", better.File)
		}
	case severityRank[a.Health] != severityRank[b.Health]:
		if severityRank[b.Health] < severityRank[a.Health] {
			better, worse = b, a
		}
		because = evidence(worse, "", better)
	case a.Score != b.Score:
		if b.Score > a.Score {
			better, worse = b, a
		}
		because = evidence(worse, "", better)
	case len(a.reasonsOf(Absent)) != len(b.reasonsOf(Absent)):
		if len(b.reasonsOf(Absent)) < len(a.reasonsOf(Absent)) {
			better, worse = b, a
		}
		because = "its report lacks more: " + evidence(worse, Absent, better)
	default:
		p.Why = fmt.Sprintf("equally sound: both %s, score %d, the same weight of evidence", a.Health, a.Score)
		return p
	}
	trust := better.File
	p.Trust = &trust
	p.Why = fmt.Sprintf("%s is %s (score %d); %s is %s (score %d)", better.File, better.Health, better.Score, worse.File, worse.Health, worse.Score)
	if because != "" {
		p.Why += ": " + because
	}
	if missing := better.reasonsOf(Absent); len(missing) > 0 {
		p.Why += fmt.Sprintf(" (%s's report lacks %s: unknown, not a defect)", better.File, strings.Join(missing, ", "))
	}
	return p
}

// defectWeight sums the penalties of the evidence of damage.
func (r Result) defectWeight() int {
	w := 0
	for _, reason := range r.Reasons {
		if reason.Kind == Defect {
			w += reason.Penalty
		}
	}
	return w
}

// countersUnknown says the report holds no counters at all (smartctl -H):
// no defect in it means nothing.
func (r Result) countersUnknown() bool {
	for _, reason := range r.Reasons {
		if reason.Attr == "smart_status" && reason.Kind == Absent {
			return true
		}
	}
	return false
}

// reasonsOf names the reasons of one kind.
func (r Result) reasonsOf(kind string) []string {
	var names []string
	for _, reason := range r.Reasons {
		if reason.Kind == kind {
			names = append(names, strings.TrimSpace(reason.Name))
		}
	}
	return names
}

// evidence names the heaviest evidence of the given kind (any kind when
// empty) against the weaker drive that the stronger one does not share.
func evidence(worse Result, kind string, better Result) string {
	shared := map[string]bool{}
	for _, r := range better.Reasons {
		shared[r.Attr+"\x00"+r.Why] = true
	}
	var top *Reason
	for i, r := range worse.Reasons {
		if (kind == "" || r.Kind == kind) && !shared[r.Attr+"\x00"+r.Why] && (top == nil || r.Penalty > top.Penalty) {
			top = &worse.Reasons[i]
		}
	}
	if top == nil {
		return "the same evidence, weighed higher"
	}
	name := top.Name
	if top.Attr != "" && top.Attr[0] >= '0' && top.Attr[0] <= '9' {
		name = top.Attr + " " + name
	}
	return strings.TrimSpace(name) + ": " + top.Why
}
