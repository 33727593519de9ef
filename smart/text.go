package smart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// textSection is the table of smartctl's text output a line belongs to.
type textSection int

const (
	sectionNone textSection = iota
	sectionAttributes
	sectionATAErrorLog
	sectionSelfTests
	sectionSCSIErrorCounters
	sectionNVMeErrorLog
)

// Self-test log rows, one pattern per layout. All capture type, status and
// the power-on hour of the test.
var (
	// "# 1  Extended offline    Completed: read failure       30%     35327         9372939520"
	ataSelfTestRow = regexp.MustCompile(`^#\s*\d+\s+(\S.*?)\s{2,}(\S.*?)\s+\d+%\s+(\d+)\b`)
	// "# 1  Background short  Completed                   -     134                 - [-   -    -]"
	scsiSelfTestRow = regexp.MustCompile(`^#\s*\d+\s+(\S.*?)\s{2,}(\S.*?)\s{2,}\S+\s+(\d+|NOW)\b`)
	// " 0   Extended          Completed without error                8754            -  ..."
	nvmeSelfTestRow = regexp.MustCompile(`^\s*\d+\s+(\S.*?)\s{2,}(\S.*?)\s{2,}(\d+)\b`)
)

// textParser carries the state of one pass over a text report.
type textParser struct {
	r          *Report
	section    textSection
	oldLayout  bool // attribute table with TYPE/UPDATED/WHEN_FAILED columns
	recognised bool // saw something only smartctl prints
	vendor     string
	product    string
	lacksSMART bool
}

func parseText(r *Report, data []byte) error {
	p := &textParser{r: r}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if err := p.line(strings.TrimRight(sc.Text(), " \t\r")); err != nil {
			return fmt.Errorf("line %d: %v", lineNo, err)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !p.recognised {
		return errors.New("not smartctl output (no smartctl banner or SMART section)")
	}
	if p.lacksSMART && !r.hasEvidence() {
		return errors.New("device lacks SMART capability")
	}
	if r.Model == "" {
		r.Model = strings.TrimSpace(p.vendor + " " + p.product)
	}
	if r.Protocol == "" {
		r.Protocol = ATA
		if r.SCSI != nil {
			r.Protocol = SCSI
		}
	}
	return nil
}

func (p *textParser) line(line string) error {
	r := p.r
	trimmed := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(line, "smartctl ") || strings.HasPrefix(line, "=== START OF"):
		p.recognised = true
		p.section = sectionNone
		return nil
	case strings.HasPrefix(line, "ID# ATTRIBUTE_NAME"):
		p.recognised = true
		p.section = sectionAttributes
		p.oldLayout = strings.Contains(line, "WHEN_FAILED")
		return nil
	case strings.HasPrefix(line, "SMART Error Log Version") ||
		strings.HasPrefix(line, "SMART Extended Comprehensive Error Log"):
		p.section = sectionATAErrorLog
		return nil
	case strings.HasPrefix(line, "Error Information (NVMe Log"):
		p.section = sectionNVMeErrorLog
		return nil
	case isSelfTestLogHeading(line):
		p.section = sectionSelfTests
		if r.SelfTests == nil {
			r.SelfTests = []SelfTest{}
		}
		return nil
	case strings.HasPrefix(line, "Error counter log:"):
		p.section = sectionSCSIErrorCounters
		p.scsi()
		return nil
	case trimmed == "No Errors Logged":
		if p.section == sectionATAErrorLog {
			r.ErrorLogCount = max(r.ErrorLogCount, 0)
		}
		return nil
	case trimmed == "No Self-tests have been logged" || trimmed == "No self-tests have been logged.":
		if r.SelfTests == nil {
			r.SelfTests = []SelfTest{}
		}
		return nil
	}

	switch p.section {
	case sectionAttributes:
		if trimmed == "" || !startsWithDigit(trimmed) {
			p.section = sectionNone
			return nil
		}
		return p.attribute(trimmed)
	case sectionSelfTests:
		if trimmed == "" {
			p.section = sectionNone
			return nil
		}
		if p.selfTest(line) {
			return nil
		}
	case sectionSCSIErrorCounters:
		return p.scsiErrorCounter(trimmed)
	}
	return p.keyValue(trimmed)
}

func isSelfTestLogHeading(line string) bool {
	return strings.HasPrefix(line, "SMART Self-test log") || // ATA -a, SCSI
		strings.HasPrefix(line, "SMART Extended Self-test Log") || // ATA -x
		strings.HasPrefix(line, "Self-test Log (NVMe Log") // NVMe, smartctl 7.3+
}

// attribute parses one row of the ATA attribute table, in either layout:
//
//	ID# ATTRIBUTE_NAME  FLAG   VALUE WORST THRESH TYPE     UPDATED WHEN_FAILED RAW_VALUE
//	ID# ATTRIBUTE_NAME  FLAGS  VALUE WORST THRESH FAIL RAW_VALUE        (-f brief, -x)
func (p *textParser) attribute(row string) error {
	f := strings.Fields(row)
	rawAt, whenAt := 7, 6
	if p.oldLayout {
		rawAt, whenAt = 9, 8
	}
	if len(f) <= rawAt {
		return fmt.Errorf("attribute row with %d columns, want at least %d: %q", len(f), rawAt+1, row)
	}
	id, err := strconv.Atoi(f[0])
	if err != nil || id < 1 || id > 255 {
		return fmt.Errorf("attribute id %q", f[0])
	}
	a := Attribute{ID: id, Name: f[1], Thresh: Unknown, RawString: strings.Join(f[rawAt:], " ")}
	if a.Value, err = strconv.Atoi(f[3]); err != nil {
		return fmt.Errorf("attribute %d: value %q", id, f[3])
	}
	if a.Worst, err = strconv.Atoi(f[4]); err != nil {
		return fmt.Errorf("attribute %d: worst %q", id, f[4])
	}
	if t, err := strconv.Atoi(f[5]); err == nil {
		a.Thresh = t // "---": the drive reports no threshold
	}
	if p.oldLayout {
		a.Prefail = f[6] == "Pre-fail"
	} else {
		a.Prefail = strings.HasPrefix(f[2], "P")
	}
	switch f[whenAt] {
	case "FAILING_NOW", "NOW":
		a.WhenFailed = "now"
	case "In_the_past", "Past":
		a.WhenFailed = "past"
	}
	a.Raw = rawFromText(a.RawString)
	p.r.Attributes = append(p.r.Attributes, a)
	return nil
}

// selfTest parses a self-test log row; false when line is not one.
func (p *textParser) selfTest(line string) bool {
	pattern := ataSelfTestRow
	switch p.r.Protocol {
	case NVMe:
		pattern = nvmeSelfTestRow
	case SCSI:
		pattern = scsiSelfTestRow
	}
	m := pattern.FindStringSubmatch(line)
	if m == nil {
		return false // headings, "Self-test status: ...", continuation lines
	}
	st := SelfTest{Type: m[1], Status: m[2], Outcome: textSelfTestOutcome(m[2]), LifetimeHours: Unknown}
	if h, err := strconv.ParseInt(m[3], 10, 64); err == nil {
		st.LifetimeHours = h
	}
	p.r.SelfTests = append(p.r.SelfTests, st)
	return true
}

// textSelfTestOutcome classifies a self-test status as smartctl words it.
func textSelfTestOutcome(status string) string {
	s := strings.ToLower(status)
	switch {
	case s == "completed" || strings.HasPrefix(s, "completed without error"):
		return "passed"
	case strings.Contains(s, "fail") || strings.Contains(s, "fatal") || strings.Contains(s, "error"):
		return "failed"
	}
	return "" // aborted, interrupted, in progress
}

// scsiErrorCounter parses "read:  0  34  0  34  238396  38280,029  0": the
// last column is the total of uncorrected errors.
func (p *textParser) scsiErrorCounter(row string) error {
	dir, rest, ok := strings.Cut(row, ":")
	if !ok || strings.Contains(dir, " ") {
		if row == "" || strings.HasPrefix(row, "Non-medium") {
			p.section = sectionNone
			return p.keyValue(row)
		}
		return nil // column headings
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return nil
	}
	n, err := parseCount(f[len(f)-1])
	if err != nil {
		return fmt.Errorf("error counter log %s: %v", dir, err)
	}
	p.scsi().Uncorrected[dir] = n
	return nil
}

// keyValue handles the "Key: value" lines of the information, health and
// NVMe SMART/Health sections.
func (p *textParser) keyValue(line string) error {
	r := p.r
	key, value, ok := strings.Cut(line, ":")
	if !ok {
		return p.scsiVendorLine(line)
	}
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	var err error
	switch key {
	case "Device Model", "Model Number":
		r.Model = value
	case "Model Family":
		r.Family = value
	case "Vendor":
		p.vendor = value
	case "Product":
		p.product = value
	case "Serial Number", "Serial number":
		r.Serial = value
	case "Transport protocol":
		r.Protocol = SCSI
	case "SMART support is":
		p.recognised = true
		p.lacksSMART = p.lacksSMART || strings.HasPrefix(value, "Unavailable")
	case "SMART overall-health self-assessment test result":
		p.recognised = true
		// PASSED or FAILED!; anything else (UNKNOWN!) decides nothing.
		if passed, failed := value == "PASSED", strings.HasPrefix(value, "FAILED"); passed || failed {
			r.Passed = &passed
		}
	case "SMART Health Status":
		p.recognised = true
		r.Protocol = SCSI
		passed := value == "OK" || strings.HasPrefix(value, "OK ")
		r.Passed = &passed
	case "ATA Error Count", "Device Error Count":
		n, cerr := parseCount(firstField(value))
		r.ErrorLogCount, err = max(r.ErrorLogCount, n), cerr
	case "Elements in grown defect list":
		p.scsi().GrownDefects, err = parseCount(value)
	case "Percentage used endurance indicator":
		p.scsi().PercentageUsed, err = parseCount(value)
	case "Critical Warning":
		p.nvme().CriticalWarning, err = parseCount(value)
	case "Available Spare":
		p.nvme().AvailableSpare, err = parseCount(value)
	case "Available Spare Threshold":
		p.nvme().AvailableSpareThreshold, err = parseCount(value)
	case "Percentage Used":
		p.nvme().PercentageUsed, err = parseCount(value)
	case "Media and Data Integrity Errors":
		p.nvme().MediaErrors, err = parseCount(value)
	case "Error Information Log Entries":
		p.nvme().ErrorLogEntries, err = parseCount(value)
	case "Power On Hours":
		r.PowerOnHours, err = parseCount(value)
	case "Accumulated power on time, hours":
		// "Accumulated power on time, hours:minutes 146:02 [8762 minutes]"
		if f := strings.Fields(value); len(f) > 1 {
			hours, _, _ := strings.Cut(f[1], ":")
			r.PowerOnHours, err = parseCount(hours)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %v", key, err)
	}
	return nil
}

// scsiVendorLine reads the "key = value" lines of SCSI vendor pages that
// matter: "number of hours powered up = 7127.12".
func (p *textParser) scsiVendorLine(line string) error {
	key, value, ok := strings.Cut(line, "=")
	if !ok || strings.TrimSpace(key) != "number of hours powered up" || p.r.PowerOnHours != Unknown {
		return nil
	}
	whole, _, _ := strings.Cut(strings.TrimSpace(value), ".")
	h, err := parseCount(whole)
	if err != nil {
		return fmt.Errorf("hours powered up: %v", err)
	}
	p.r.PowerOnHours = h
	return nil
}

func (p *textParser) nvme() *NVMeHealth {
	p.recognised = true
	p.r.Protocol = NVMe
	if p.r.NVMe == nil {
		p.r.NVMe = &NVMeHealth{}
	}
	return p.r.NVMe
}

func (p *textParser) scsi() *SCSIHealth {
	p.recognised = true
	p.r.Protocol = SCSI
	if p.r.SCSI == nil {
		p.r.SCSI = &SCSIHealth{GrownDefects: Unknown, PercentageUsed: Unknown, Uncorrected: map[string]int64{}}
	}
	return p.r.SCSI
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}
