package smart

import (
	"fmt"
	"strings"
)

// Pair says which half of a mirror to work from.
type Pair struct {
	Members [2]string `json:"members"`
	Trust   *string   `json:"trust"` // the member to trust, null when equally sound
	Why     string    `json:"why"`
}

// Choose picks the sounder of two scored drives: better health first, then
// the higher score. Equal health and score leave the choice open.
func Choose(a, b Result) Pair {
	p := Pair{Members: [2]string{a.File, b.File}}
	better, worse := a, b
	switch {
	case severityRank[a.Health] != severityRank[b.Health]:
		if severityRank[b.Health] < severityRank[a.Health] {
			better, worse = b, a
		}
	case a.Score != b.Score:
		if b.Score > a.Score {
			better, worse = b, a
		}
	default:
		p.Why = fmt.Sprintf("equally sound: both %s, score %d", a.Health, a.Score)
		return p
	}
	trust := better.File
	p.Trust = &trust
	p.Why = fmt.Sprintf("%s is %s (score %d); %s is %s (score %d)%s",
		better.File, better.Health, better.Score, worse.File, worse.Health, worse.Score, worstEvidence(worse, better))
	return p
}

// worstEvidence names the heaviest evidence against the weaker drive that
// the stronger one does not share.
func worstEvidence(worse, better Result) string {
	shared := map[string]bool{}
	for _, r := range better.Reasons {
		shared[r.Attr+"\x00"+r.Why] = true
	}
	var top *Reason
	for i, r := range worse.Reasons {
		if !shared[r.Attr+"\x00"+r.Why] && (top == nil || r.Penalty > top.Penalty) {
			top = &worse.Reasons[i]
		}
	}
	if top == nil {
		return ""
	}
	name := top.Name
	if top.Attr != "" && top.Attr[0] >= '0' && top.Attr[0] <= '9' {
		name = top.Attr + " " + name
	}
	return ": " + strings.TrimSpace(name) + ": " + top.Why
}
