// Package smart reads smartctl reports (text from -a/-x/-H -A, or JSON from
// -j, for ATA/SATA, NVMe and SCSI/SAS devices, from any smartctl version)
// and scores how far each drive can be trusted, from the evidence that
// predicts failure rather than from the drive's own PASSED/FAILED verdict.
package smart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"holmes/blockdev"
)

// Protocols a report can describe.
const (
	ATA  = "ATA"
	NVMe = "NVMe"
	SCSI = "SCSI"
)

// Unknown marks a count or hour figure the report does not carry.
const Unknown = -1

// maxReportSize bounds what is read from a report file: real smartctl -x
// output is well under a megabyte.
const maxReportSize = 16 << 20

// Report is what one smartctl output says about one drive. Counters the
// report does not contain are Unknown, so that "not reported" is never
// mistaken for "zero".
type Report struct {
	File     string // where the report came from
	Format   string // "json" or "text"
	Model    string
	Serial   string
	Family   string // ATA model family, when smartctl knows it
	Protocol string // ATA, NVMe or SCSI

	// Passed is the drive's overall self-assessment; nil when the report
	// has no health section.
	Passed *bool
	// ExitStatus is smartctl's exit status bit mask (JSON reports only),
	// or Unknown.
	ExitStatus   int
	PowerOnHours int64

	Attributes []Attribute // ATA SMART attributes, in report order
	// ErrorLogCount is the ATA error log's error count (the device's
	// lifetime count, not only the entries kept), or Unknown.
	ErrorLogCount int64
	// SelfTests is the self-test log, most recent first; nil when the
	// report has no self-test log, empty when the log has no entries.
	SelfTests []SelfTest

	NVMe *NVMeHealth // NVMe SMART/Health log, when present
	SCSI *SCSIHealth // SCSI/SAS counters, when present
}

// Attribute is one row of the ATA SMART attribute table.
type Attribute struct {
	ID     int
	Name   string
	Value  int // normalized current value
	Worst  int
	Thresh int // Unknown when the drive reports none ("---")
	// Prefail is the attribute's pre-failure flag: a value at or below
	// the threshold means the vendor predicts failure.
	Prefail bool
	// WhenFailed is "now", "past" or "".
	WhenFailed string
	// Raw is the 48-bit raw value as an integer (as smartctl's JSON
	// raw.value, or the leading number of the text column).
	Raw uint64
	// RawString is the raw column as smartctl printed it ("0 0 2",
	// "12523h+17m+08.635s", "0/0", "45 (Min/Max 20/33)").
	RawString string
}

// SelfTest is one entry of a self-test log.
type SelfTest struct {
	Type   string // "Short offline", "Extended", "Background long"...
	Status string // as smartctl words it
	// Outcome is "passed", "failed" or "" (aborted, interrupted, running:
	// says nothing about the media).
	Outcome string
	// LifetimeHours is the power-on hour the test ran at, or Unknown.
	// ATA logs keep it in 16 bits, so it wraps at 65536.
	LifetimeHours int64
}

// NVMeHealth is the NVMe SMART/Health Information log (log page 2).
type NVMeHealth struct {
	CriticalWarning         int64
	AvailableSpare          int64 // percent
	AvailableSpareThreshold int64 // percent
	PercentageUsed          int64 // percent of rated endurance, may exceed 100
	MediaErrors             int64 // unrecovered data integrity errors
	ErrorLogEntries         int64 // lifetime error information log entries
}

// SCSIHealth is what a SCSI/SAS drive's log pages say about its media.
type SCSIHealth struct {
	GrownDefects int64 // elements in the grown defect list, or Unknown
	// Uncorrected holds the total uncorrected errors of the error counter
	// log by direction ("read", "write", "verify").
	Uncorrected    map[string]int64
	PercentageUsed int64 // endurance indicator (SSDs), or Unknown
}

// ParseError says which report could not be read, and why.
type ParseError struct {
	File string
	Err  error
}

func (e *ParseError) Error() string { return "smart: " + e.File + ": " + e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// ReadFile reads and parses one smartctl report file, opened read-only.
func ReadFile(path string) (*Report, error) {
	dev, err := blockdev.OpenFile(path)
	if err != nil {
		return nil, &ParseError{path, withoutPath(err, path)}
	}
	defer dev.Close()
	if dev.Size() > maxReportSize {
		return nil, &ParseError{path, fmt.Errorf("%d bytes is too large for a smartctl report", dev.Size())}
	}
	data, err := io.ReadAll(io.NewSectionReader(dev, 0, dev.Size()))
	if err != nil {
		return nil, &ParseError{path, err}
	}
	return Parse(path, data)
}

// withoutPath drops the file name an open error repeats, since ParseError
// names the file already.
func withoutPath(err error, path string) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	if msg, ok := strings.CutPrefix(err.Error(), path+": "); ok {
		return errors.New(msg)
	}
	return err
}

// Parse reads one smartctl report: JSON when it starts with '{', text
// otherwise. name is used in the report and in errors.
func Parse(name string, data []byte) (*Report, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &ParseError{name, errors.New("empty file, not a smartctl report")}
	}
	r := &Report{File: name, ExitStatus: Unknown, PowerOnHours: Unknown, ErrorLogCount: Unknown}
	var err error
	if trimmed[0] == '{' {
		r.Format = "json"
		err = parseJSON(r, trimmed)
	} else {
		r.Format = "text"
		err = parseText(r, data)
	}
	if err == nil && r.PowerOnHours == Unknown {
		// Text reports of ATA drives carry the hours only in attribute 9
		// ("Power_On_Hours", "Power_On_Hours_and_Msec": "7963h+07m+54.620s").
		if a := r.Attribute(9); a != nil && strings.Contains(a.Name, "Hours") {
			r.PowerOnHours = int64(rawFromText(a.RawString) & 0xffffffff)
		}
	}
	if err == nil && !r.hasEvidence() {
		err = errors.New("no SMART health data in the report (device without SMART, RAID volume or failed query?)")
	}
	if err != nil {
		return nil, &ParseError{name, err}
	}
	return r, nil
}

// hasEvidence says whether the report carries anything a score can rest on.
func (r *Report) hasEvidence() bool {
	return r.Passed != nil || len(r.Attributes) > 0 || r.NVMe != nil ||
		(r.SCSI != nil && (r.SCSI.GrownDefects != Unknown || len(r.SCSI.Uncorrected) > 0))
}

// Attribute returns the ATA attribute with the given ID, or nil.
func (r *Report) Attribute(id int) *Attribute {
	for i := range r.Attributes {
		if r.Attributes[i].ID == id {
			return &r.Attributes[i]
		}
	}
	return nil
}
