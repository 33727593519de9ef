package smart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Health verdicts, from best to worst.
const (
	OK    = "ok"
	Watch = "watch"
	Fail  = "fail"
)

// Info is the severity of evidence that lowers the score without changing
// the health; Watch and Fail double as severities.
const Info = "info"

// severityRank orders healths and severities from best to worst.
var severityRank = map[string]int{Info: 0, OK: 0, Watch: 1, Fail: 2}

// Each health owns a band of scores, so that comparing scores never
// contradicts comparing health.
var scoreBands = map[string][2]int{OK: {80, 100}, Watch: {40, 79}, Fail: {0, 39}}

// Evidence thresholds and weights (README "holmes smart score" explains them).
const (
	failAFR           = 0.20 // observed annual failure rate that means fail
	watchAFR          = 0.05 // ... and watch (the fleet baseline is ~2.5 %)
	maxAFRPenalty     = 60
	staleSelfTestHour = 168 // a self-test older than a week says little about today
	selfTestHourWrap  = 65536
)

// Result is the verdict on one drive.
type Result struct {
	File         string   `json:"file"`
	Model        string   `json:"model"`
	Serial       string   `json:"serial"`
	Protocol     string   `json:"protocol"`
	Health       string   `json:"health"`
	Score        int      `json:"score"`
	Reasons      []Reason `json:"reasons"`
	Format       string   `json:"format"`
	Passed       *bool    `json:"passed"`         // the drive's own verdict, null when absent
	PowerOnHours *int64   `json:"power_on_hours"` // null when absent
}

// Reason is one piece of evidence behind a score.
type Reason struct {
	// Attr names the evidence: an ATA attribute ID ("197") or a log field
	// ("smart_status", "error_log", "self_test", "nvme.media_errors",
	// "scsi.grown_defects", ...).
	Attr     string `json:"attr"`
	Name     string `json:"name"`
	Raw      string `json:"raw"` // the value as the report gives it
	Why      string `json:"why"`
	Severity string `json:"severity"` // info, watch or fail
	Penalty  int    `json:"penalty"`  // points taken off 100
	// Kind is Defect for evidence of damage (a counter above zero, a
	// logged error, a failed test or verdict), Absent for evidence the
	// report does not hold (a missing log), empty for the rest.
	Kind string `json:"kind,omitempty"`
}

// Reason kinds.
const (
	Defect = "defect"
	Absent = "absent"
)

// Weights of what a report lacks and of the least defect: a report that
// lacks both logs loses less than one with the smallest real defect, so a
// missing log never counts as much as damage (docs/smart.md).
const (
	absentLogPenalty = 1
	minDefectPenalty = 3
)

// afrBucket is one row of Backblaze's observed annual failure rates for
// drives whose counter is at most Upto (rows in increasing order).
type afrBucket struct {
	Upto uint64
	AFR  float64
}

// Observed failure-rate buckets (Backblaze drive stats, as tabulated by
// Scrutiny's ObservedThresholds). Gaps between Scrutiny's half-open ranges
// are closed upwards, and a count beyond the last row takes the last row.
var observedAFR = map[int][]afrBucket{
	5: {{0, 0.0252}, {4, 0.0274}, {16, 0.0750}, {70, 0.2359}, {260, 0.3619}, {1100, 0.5677},
		{4500, 1.5028}, {17000, 2.0660}, {math.MaxUint64, 1.7755}},
	187: {{0, 0.0281}, {1, 0.3388}, {3, 0.2406}, {6, 0.5014}, {11, 0.3801}, {20, 0.5346},
		{35, 0.8428}, {65, 1.4429}, {math.MaxUint64, 1.6191}},
	188: {{0, 0}, {100, 0.0249}, {math.MaxUint64, 0.1004}},
	197: {{0, 0.0255}, {2, 0.3420}, {6, 0.6824}, {16, 0.6108}, {40, 0.9565}, {100, 1.6520},
		{250, 2.5138}, {650, 3.3203}, {math.MaxUint64, 3.1330}},
	199: {{1, 0.0407}, {2, 0.1513}, {4, 0.1685}, {8, 0.1539}, {16, 0.1488}, {35, 0.2088}, {70, 0.1374},
		{130, 0.2234}, {math.MaxUint64, 0.1828}},
	198: {{0, 0.0287}, {2, 0.8136}, {4, 1.1173}, {6, 1.3559}, {8, 0.7324}, {10, 0.5777},
		{12, 1.7464}, {14, 2.6449}, {math.MaxUint64, 0.7969}},
}

// What each Backblaze attribute counts, for the reasons: one, many.
var countedWhat = map[int][2]string{
	5:   {"reallocated sector", "reallocated sectors"},
	187: {"uncorrectable error reported to the host", "uncorrectable errors reported to the host"},
	188: {"command timeout", "command timeouts"},
	197: {"sector pending reallocation (unreadable now)", "sectors pending reallocation (unreadable now)"},
	198: {"sector found uncorrectable by offline scan", "sectors found uncorrectable by offline scan"},
	199: {"interface CRC error (a transfer that arrived damaged and was retried)", "interface CRC errors (transfers that arrived damaged and were retried)"},
}

// observedRate returns the failure rate observed for count, made monotonic
// (a higher count never reads as safer than a lower one: the raw buckets
// dip where Backblaze had few drives).
func observedRate(attr int, count uint64) float64 {
	rate := 0.0
	for _, b := range observedAFR[attr] {
		rate = max(rate, b.AFR)
		if count <= b.Upto {
			break
		}
	}
	return rate
}

// afrReason turns a counter with a Backblaze bucket into evidence.
func afrReason(attr, name, raw string, table int, count uint64, what [2]string) (Reason, bool) {
	if count == 0 {
		return Reason{}, false
	}
	rate := observedRate(table, count)
	sev := Info
	switch {
	case rate >= failAFR:
		sev = Fail
	case rate >= watchAFR:
		sev = Watch
	}
	return Reason{Attr: attr, Name: name, Raw: raw, Severity: sev, Kind: Defect,
		Penalty: min(maxAFRPenalty, max(1, int(math.Round(rate*100)))),
		Why:     fmt.Sprintf("%d %s; Backblaze observed %.1f%% annual failures at this count", count, what[min(count, 2)-1], rate*100)}, true
}

// Score weighs the evidence of one report.
func Score(r *Report) Result {
	res := Result{File: r.File, Model: r.Model, Serial: r.Serial, Protocol: r.Protocol, Format: r.Format,
		Passed: r.Passed, Reasons: []Reason{}}
	if r.PowerOnHours != Unknown {
		h := r.PowerOnHours
		res.PowerOnHours = &h
	}
	add := func(reason Reason) {
		if reason.Kind == Defect {
			reason.Penalty = max(reason.Penalty, minDefectPenalty)
		}
		res.Reasons = append(res.Reasons, reason)
	}

	if r.Passed != nil && !*r.Passed {
		add(Reason{Attr: "smart_status", Name: "overall-health", Raw: "FAILED", Severity: Fail, Penalty: 60, Kind: Defect,
			Why: "the drive's own health check says FAILED"})
	}
	attrNow, attrPast := scoreAttributes(r, add)
	scoreExitStatus(r, attrNow, attrPast, add)
	if r.Protocol == ATA && r.ErrorLogCount == Unknown && (r.ExitStatus == Unknown || r.ExitStatus&exitErrorLog == 0) {
		add(Reason{Attr: "error_log", Name: "ATA error log", Raw: "absent", Severity: Info, Penalty: absentLogPenalty, Kind: Absent,
			Why: "the report has no error log (smartctl -x shows it): unknown, not a defect"})
	}
	if r.ErrorLogCount > 0 {
		add(Reason{Attr: "error_log", Name: "ATA error log", Raw: strconv.FormatInt(r.ErrorLogCount, 10),
			Severity: Watch, Penalty: 10 + 5*min(2, int(math.Log10(float64(r.ErrorLogCount)))), Kind: Defect,
			Why: fmt.Sprintf("%d commands failed on the drive and were logged", r.ErrorLogCount)})
	}
	scoreSelfTests(r, add)
	if r.Passed != nil && *r.Passed && len(r.Attributes) == 0 && r.NVMe == nil && r.SCSI == nil {
		add(Reason{Attr: "smart_status", Name: "overall-health", Raw: "PASSED", Severity: Info, Penalty: 10, Kind: Absent,
			Why: "the report holds only the drive's own verdict; PASSED alone proves little"})
	}
	if r.NVMe != nil {
		scoreNVMe(r.NVMe, add)
	}
	if r.SCSI != nil {
		scoreSCSI(r.SCSI, add)
	}

	res.Health, res.Score = OK, 100
	for _, reason := range res.Reasons {
		if severityRank[reason.Severity] > severityRank[res.Health] {
			res.Health = reason.Severity
		}
		res.Score -= reason.Penalty
	}
	band := scoreBands[res.Health]
	res.Score = min(band[1], max(band[0], res.Score))
	return res
}

// scoreAttributes weighs the ATA attribute table and reports whether any
// attribute is failing now or failed in the past.
func scoreAttributes(r *Report, add func(Reason)) (now, past bool) {
	seagate := isSeagate(r)
	for _, a := range r.Attributes {
		id := strconv.Itoa(a.ID)
		switch a.ID {
		case 5, 187, 188, 197, 198, 199:
			if reason, ok := afrReason(id, a.Name, a.RawString, a.ID, attributeCount(a), countedWhat[a.ID]); ok {
				if a.ID == 199 && reason.Severity == Fail {
					// Damaged transfers are detected and retried: usually the
					// cable or backplane, not the media. Never fail alone.
					reason.Severity = Watch
				}
				add(reason)
			}
		case 196:
			if n := attributeCount(a); n > 0 {
				add(Reason{Attr: id, Name: a.Name, Raw: a.RawString, Severity: Info, Penalty: 2, Kind: Defect,
					Why: fmt.Sprintf("%d reallocation events (follows attribute 5, which carries the weight)", n)})
			}
		case 1, 7, 195, 200:
			if n, ok := errorRateCount(a, seagate); ok && n > 0 {
				add(Reason{Attr: id, Name: a.Name, Raw: a.RawString, Severity: Info, Penalty: 1,
					Why: fmt.Sprintf("%d errors counted (%s); Backblaze found this attribute does not predict failure", n, rateEncoding(seagate))})
			}
		}
		failingNow := a.WhenFailed == "now" || (a.Thresh > 0 && a.Value <= a.Thresh)
		switch {
		case failingNow && a.Prefail:
			now = true
			add(Reason{Attr: id, Name: a.Name, Raw: a.RawString, Severity: Fail, Penalty: 50, Kind: Defect,
				Why: fmt.Sprintf("pre-failure attribute at its threshold now (value %d, threshold %d): the vendor predicts failure", a.Value, a.Thresh)})
		case failingNow:
			now = true
			add(Reason{Attr: id, Name: a.Name, Raw: a.RawString, Severity: Watch, Penalty: 15, Kind: Defect,
				Why: fmt.Sprintf("old-age attribute at its threshold now (value %d, threshold %d)", a.Value, a.Thresh)})
		case a.WhenFailed == "past":
			past = true
			sev, penalty, kind := Info, 2, ""
			if a.Prefail {
				sev, penalty, kind = Watch, 10, Defect
			}
			add(Reason{Attr: id, Name: a.Name, Raw: a.RawString, Severity: sev, Penalty: penalty, Kind: kind,
				Why: fmt.Sprintf("was at its threshold in the past (worst %d, threshold %d)", a.Worst, a.Thresh)})
		}
	}
	return now, past
}

// attributeCount decodes the count of a counter attribute. Command_Timeout
// (188) on Seagate drives packs three 16-bit counters into the 48-bit raw
// value (smartctl shows "0 0 2"); the low word is the total count. Other
// counters are the number smartctl's raw column starts with: its drive
// database knows which vendors pack more words above the count
// ("2111 (12437 0)").
func attributeCount(a Attribute) uint64 {
	if a.ID == 188 {
		return a.Raw & 0xffff
	}
	if n, ok := leadingNumber(a.RawString); ok {
		return n
	}
	return a.Raw & 0xffffffff
}

// errorRateCount decodes the error count of a rate attribute. Seagate packs
// 1 (read), 7 (seek) and 195 (ECC) as a 16-bit error count above a 32-bit
// operation count: the huge raw numbers of a healthy Seagate are operations,
// not errors. For other vendors the raw value of 1, 7 and 200 is the count;
// 195 is corrected errors, which says nothing of loss.
func errorRateCount(a Attribute, seagate bool) (uint64, bool) {
	switch {
	case seagate && a.ID != 200:
		return a.Raw >> 32 & 0xffff, a.ID != 195
	case a.ID == 195:
		return 0, false
	}
	return a.Raw & 0xffffffff, true
}

func rateEncoding(seagate bool) string {
	if seagate {
		return "Seagate encoding: the error count in bits 32-47 of the raw value"
	}
	return "raw value as the count"
}

// isSeagate says whether the drive uses Seagate's raw encodings: by name,
// or, for reports without one (smartctl -A), by the three-word raw value
// smartctl's drive database gives Seagate's Command_Timeout.
func isSeagate(r *Report) bool {
	m := strings.ToUpper(r.Model)
	if strings.Contains(strings.ToUpper(r.Family), "SEAGATE") || strings.HasPrefix(m, "SEAGATE") ||
		(len(m) > 2 && strings.HasPrefix(m, "ST") && m[2] >= '0' && m[2] <= '9') {
		return true
	}
	a := r.Attribute(188)
	return r.Model == "" && a != nil && len(strings.Fields(a.RawString)) == 3
}

// scoreExitStatus uses smartctl's exit status bits for what the report's
// sections did not already show.
func scoreExitStatus(r *Report, attrNow, attrPast bool, add func(Reason)) {
	if r.ExitStatus == Unknown {
		return
	}
	raw := strconv.Itoa(r.ExitStatus)
	bit := func(b int) bool { return r.ExitStatus&b != 0 }
	if bit(exitDiskFailing) && (r.Passed == nil || *r.Passed) {
		add(Reason{Attr: "exit_status", Name: "smartctl exit status", Raw: raw, Severity: Fail, Penalty: 60, Kind: Defect,
			Why: "smartctl found the disk failing (exit status bit 3)"})
	}
	if bit(exitPrefailNow) && !attrNow {
		add(Reason{Attr: "exit_status", Name: "smartctl exit status", Raw: raw, Severity: Fail, Penalty: 50, Kind: Defect,
			Why: "smartctl found pre-failure attributes at their threshold (exit status bit 4)"})
	}
	if bit(exitAttrPast) && !attrPast {
		add(Reason{Attr: "exit_status", Name: "smartctl exit status", Raw: raw, Severity: Watch, Penalty: 10,
			Why: "smartctl found attributes that were at their threshold in the past (exit status bit 5)"})
	}
	if bit(exitErrorLog) && r.ErrorLogCount == Unknown {
		add(Reason{Attr: "exit_status", Name: "smartctl exit status", Raw: raw, Severity: Watch, Penalty: 10, Kind: Defect,
			Why: "smartctl found errors in the device error log (exit status bit 6)"})
	}
	if bit(exitSelfTestLog) && r.SelfTests == nil {
		add(Reason{Attr: "exit_status", Name: "smartctl exit status", Raw: raw, Severity: Watch, Penalty: 15, Kind: Defect,
			Why: "smartctl found failed self-tests (exit status bit 7)"})
	}
	if bit(exitCommandFailed) {
		add(Reason{Attr: "exit_status", Name: "smartctl exit status", Raw: raw, Severity: Info, Penalty: 0,
			Why: "a SMART command failed or a checksum was bad (exit status bit 2): the report may be incomplete"})
	}
}

// scoreSelfTests weighs the self-test log: the newest conclusive test, any
// older failure, and how long ago the drive last proved itself.
func scoreSelfTests(r *Report, add func(Reason)) {
	if r.SelfTests == nil {
		// Unknown weighs like stale, so that a report that shows less
		// does not outscore one that shows more.
		add(Reason{Attr: "self_test", Name: "self-test log", Raw: "absent", Severity: Info, Penalty: absentLogPenalty, Kind: Absent,
			Why: "the report has no self-test log (smartctl -x shows it): unknown, not a defect"})
		return
	}
	var newest *SelfTest
	olderFailure := false
	for i := range r.SelfTests {
		t := &r.SelfTests[i]
		switch {
		case t.Outcome == "":
			continue
		case newest == nil:
			newest = t
		case t.Outcome == "failed":
			olderFailure = true
		}
	}
	if newest == nil {
		add(Reason{Attr: "self_test", Name: "self-test log", Raw: "none", Severity: Info, Penalty: absentLogPenalty, Kind: Absent,
			Why: "no completed self-test in the log"})
		return
	}
	raw := newest.Type + ": " + newest.Status
	if newest.Outcome == "failed" {
		add(Reason{Attr: "self_test", Name: "self-test log", Raw: raw, Severity: Fail, Penalty: 40, Kind: Defect,
			Why: hoursAgo("the most recent self-test failed", r, newest)})
		return
	}
	if olderFailure {
		add(Reason{Attr: "self_test", Name: "self-test log", Raw: "failed earlier", Severity: Watch, Penalty: 10, Kind: Defect,
			Why: "an earlier self-test failed; the most recent passed"})
	}
	if age, ok := selfTestAge(r, newest); ok && age > staleSelfTestHour {
		add(Reason{Attr: "self_test", Name: "self-test log", Raw: raw, Severity: Info, Penalty: absentLogPenalty,
			Why: hoursAgo("the last passing self-test is stale", r, newest)})
	}
}

// selfTestAge is how many power-on hours ago a test ran. ATA and SCSI logs
// keep the hour in 16 bits, so past 65535 hours it is compared modulo 65536.
func selfTestAge(r *Report, t *SelfTest) (int64, bool) {
	if r.PowerOnHours == Unknown || t.LifetimeHours == Unknown {
		return 0, false
	}
	age := r.PowerOnHours - t.LifetimeHours
	if r.Protocol != NVMe && r.PowerOnHours >= selfTestHourWrap {
		age = ((r.PowerOnHours-t.LifetimeHours)%selfTestHourWrap + selfTestHourWrap) % selfTestHourWrap
	}
	return age, age >= 0
}

func hoursAgo(what string, r *Report, t *SelfTest) string {
	if age, ok := selfTestAge(r, t); ok {
		return fmt.Sprintf("%s (%d power-on hours ago, at hour %d)", what, age, t.LifetimeHours)
	}
	return what
}

// NVMe critical warning bits (NVMe base specification, SMART/Health log).
var nvmeWarnings = []struct {
	bit     int64
	what    string
	sev     string
	penalty int
}{
	{0x01, "available spare below threshold", Fail, 60},
	{0x02, "temperature outside its limits", Watch, 10},
	{0x04, "NVM subsystem reliability degraded by media or internal errors", Fail, 60},
	{0x08, "media placed in read-only mode", Fail, 60},
	{0x10, "volatile memory backup device failed", Fail, 60},
	{0x20, "persistent memory region unreliable", Fail, 60},
}

func scoreNVMe(n *NVMeHealth, add func(Reason)) {
	raw := fmt.Sprintf("0x%02x", n.CriticalWarning)
	for _, w := range nvmeWarnings {
		if n.CriticalWarning&w.bit != 0 {
			kind := Defect
			if w.sev != Fail {
				kind = "" // temperature: the room, not the media
			}
			add(Reason{Attr: "nvme.critical_warning", Name: "Critical Warning", Raw: raw, Severity: w.sev,
				Penalty: w.penalty, Kind: kind, Why: "critical warning: " + w.what})
		}
	}
	if n.AvailableSpare < n.AvailableSpareThreshold && n.CriticalWarning&0x01 == 0 {
		add(Reason{Attr: "nvme.available_spare", Name: "Available Spare", Raw: fmt.Sprintf("%d%%", n.AvailableSpare),
			Severity: Fail, Penalty: 60, Kind: Defect,
			Why: fmt.Sprintf("available spare %d%% is below the %d%% threshold", n.AvailableSpare, n.AvailableSpareThreshold)})
	}
	if n.MediaErrors > 0 {
		add(Reason{Attr: "nvme.media_errors", Name: "Media and Data Integrity Errors", Raw: strconv.FormatInt(n.MediaErrors, 10),
			Severity: Fail, Penalty: 40, Kind: Defect,
			Why: fmt.Sprintf("%d unrecovered data integrity errors: the drive has lost data", n.MediaErrors)})
	}
	scoreEndurance("nvme.percentage_used", "Percentage Used", n.PercentageUsed, add)
	if n.ErrorLogEntries > 0 {
		add(Reason{Attr: "nvme.error_log_entries", Name: "Error Information Log Entries", Raw: strconv.FormatInt(n.ErrorLogEntries, 10),
			Severity: Info, Penalty: 0,
			Why: "error log entries are mostly commands the host got wrong, not media faults (media errors count those)"})
	}
}

func scoreSCSI(s *SCSIHealth, add func(Reason)) {
	if s.GrownDefects > 0 {
		// A grown defect is a sector the drive remapped in the field: the
		// SCSI counterpart of ATA attribute 5, weighed with its buckets.
		if reason, ok := afrReason("scsi.grown_defects", "Elements in grown defect list",
			strconv.FormatInt(s.GrownDefects, 10), 5, uint64(s.GrownDefects),
			[2]string{"grown defect (remapped sector)", "grown defects (remapped sectors)"}); ok {
			add(reason)
		}
	}
	for _, dir := range []string{"read", "write", "verify"} {
		n := s.Uncorrected[dir]
		if n <= 0 {
			continue
		}
		sev, penalty := Watch, 15
		if n >= 10 {
			sev, penalty = Fail, 40
		}
		add(Reason{Attr: "scsi.uncorrected_" + dir, Name: "Total uncorrected " + dir + " errors", Raw: strconv.FormatInt(n, 10),
			Severity: sev, Penalty: penalty, Kind: Defect, Why: fmt.Sprintf("%d %s errors the drive could not correct", n, dir)})
	}
	if s.PercentageUsed != Unknown {
		scoreEndurance("scsi.percentage_used", "Percentage used endurance indicator", s.PercentageUsed, add)
	}
}

// scoreEndurance weighs an SSD's own estimate of its used endurance.
func scoreEndurance(attr, name string, used int64, add func(Reason)) {
	raw := fmt.Sprintf("%d%%", used)
	switch {
	case used >= 100:
		add(Reason{Attr: attr, Name: name, Raw: raw, Severity: Watch, Penalty: 20,
			Why: "rated write endurance is used up"})
	case used >= 90:
		add(Reason{Attr: attr, Name: name, Raw: raw, Severity: Info, Penalty: 5,
			Why: "rated write endurance is nearly used up"})
	}
}
