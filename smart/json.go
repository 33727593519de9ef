package smart

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// smartctl exit status bits (smartctl(8), RETURN VALUES).
const (
	exitCommandLine   = 1 << 0 // command line did not parse
	exitOpenFailed    = 1 << 1 // device open failed, or not supported
	exitCommandFailed = 1 << 2 // some SMART command failed, or bad checksum
	exitDiskFailing   = 1 << 3 // health status: DISK FAILING
	exitPrefailNow    = 1 << 4 // prefail attribute at or below threshold
	exitAttrPast      = 1 << 5 // some attribute was at or below threshold
	exitErrorLog      = 1 << 6 // the error log has entries
	exitSelfTestLog   = 1 << 7 // the self-test log has failed tests
)

// jsonReport is the part of smartctl's JSON (-j, json_format_version 0.x
// and 1.x) that scoring uses. Pointers tell "absent" from zero.
type jsonReport struct {
	Smartctl *struct {
		ExitStatus *int `json:"exit_status"`
		Messages   []struct {
			String   string `json:"string"`
			Severity string `json:"severity"`
		} `json:"messages"`
	} `json:"smartctl"`
	Device *struct {
		Protocol string `json:"protocol"`
	} `json:"device"`
	ModelName     string `json:"model_name"`
	ModelFamily   string `json:"model_family"`
	SerialNumber  string `json:"serial_number"`
	ScsiModelName string `json:"scsi_model_name"`
	Vendor        string `json:"vendor"`      // SCSI, json_format_version 0.x
	Product       string `json:"product"`     // SCSI, json_format_version 0.x
	ScsiVendor    string `json:"scsi_vendor"` // SCSI, 1.x
	ScsiProduct   string `json:"scsi_product"`
	SmartSupport  *struct {
		Available *bool `json:"available"`
	} `json:"smart_support"`
	SmartStatus *struct {
		Passed *bool `json:"passed"`
	} `json:"smart_status"`
	PowerOnTime *struct {
		Hours *int64 `json:"hours"`
	} `json:"power_on_time"`
	AtaSmartAttributes *struct {
		Table []struct {
			ID         int    `json:"id"`
			Name       string `json:"name"`
			Value      int    `json:"value"`
			Worst      int    `json:"worst"`
			Thresh     *int   `json:"thresh"`
			WhenFailed string `json:"when_failed"`
			Flags      struct {
				Prefailure bool `json:"prefailure"`
			} `json:"flags"`
			Raw struct {
				Value  uint64 `json:"value"`
				String string `json:"string"`
			} `json:"raw"`
		} `json:"table"`
	} `json:"ata_smart_attributes"`
	AtaSmartErrorLog *struct {
		Summary  *struct{ Count *int64 } `json:"summary"`
		Extended *struct{ Count *int64 } `json:"extended"`
	} `json:"ata_smart_error_log"`
	AtaSmartSelfTestLog *struct {
		Standard *jsonATASelfTests `json:"standard"`
		Extended *jsonATASelfTests `json:"extended"`
	} `json:"ata_smart_self_test_log"`
	NVMeHealth *struct {
		CriticalWarning         int64  `json:"critical_warning"`
		AvailableSpare          int64  `json:"available_spare"`
		AvailableSpareThreshold int64  `json:"available_spare_threshold"`
		PercentageUsed          int64  `json:"percentage_used"`
		MediaErrors             int64  `json:"media_errors"`
		NumErrLogEntries        int64  `json:"num_err_log_entries"`
		PowerOnHours            *int64 `json:"power_on_hours"`
	} `json:"nvme_smart_health_information_log"`
	NVMeSelfTestLog *struct {
		Table *[]struct {
			SelfTestCode   jsonCode `json:"self_test_code"`
			SelfTestResult jsonCode `json:"self_test_result"`
			PowerOnHours   *int64   `json:"power_on_hours"`
		} `json:"table"`
	} `json:"nvme_self_test_log"`
	ScsiGrownDefectList *int64 `json:"scsi_grown_defect_list"`
	ScsiErrorCounterLog map[string]struct {
		TotalUncorrectedErrors *int64 `json:"total_uncorrected_errors"`
	} `json:"scsi_error_counter_log"`
	ScsiPercentageUsed *int64 `json:"scsi_percentage_used_endurance_indicator"`
}

type jsonCode struct {
	Value  int    `json:"value"`
	String string `json:"string"`
}

type jsonATASelfTests struct {
	Table []struct {
		Type   jsonCode `json:"type"`
		Status struct {
			Value  int    `json:"value"`
			String string `json:"string"`
			Passed *bool  `json:"passed"`
		} `json:"status"`
		LifetimeHours *int64 `json:"lifetime_hours"`
	} `json:"table"`
}

// scsiSelfTest is one scsi_self_test_N member (smartctl prints the SCSI
// self-test log as numbered top-level keys).
type scsiSelfTest struct {
	Code        jsonCode `json:"code"`
	Result      jsonCode `json:"result"`
	PowerOnTime *struct {
		Hours *int64 `json:"hours"`
	} `json:"power_on_time"`
}

func parseJSON(r *Report, data []byte) error {
	var j jsonReport
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("malformed smartctl JSON: %v", err)
	}
	if j.Smartctl == nil && j.Device == nil {
		return errors.New("JSON without smartctl's \"smartctl\" or \"device\" members: not a smartctl -j report")
	}
	if j.Smartctl != nil && j.Smartctl.ExitStatus != nil {
		if e := *j.Smartctl.ExitStatus; e < 0 || e > 255 {
			return fmt.Errorf("smartctl exit_status %d: an exit status is 0..255", e)
		}
		r.ExitStatus = *j.Smartctl.ExitStatus
		if r.ExitStatus&(exitCommandLine|exitOpenFailed) != 0 {
			return fmt.Errorf("smartctl exit status %d: %s", r.ExitStatus, smartctlFailure(r.ExitStatus, j))
		}
	}
	if j.SmartSupport != nil && j.SmartSupport.Available != nil && !*j.SmartSupport.Available {
		return errors.New("device lacks SMART capability")
	}
	r.Model = firstNonEmpty(j.ModelName, j.ScsiModelName, strings.TrimSpace(firstNonEmpty(j.ScsiVendor, j.Vendor)+" "+firstNonEmpty(j.ScsiProduct, j.Product)))
	r.Serial = j.SerialNumber
	r.Family = j.ModelFamily
	if j.Device != nil {
		r.Protocol = normalizeProtocol(j.Device.Protocol)
	}
	if j.SmartStatus != nil && j.SmartStatus.Passed != nil {
		r.Passed = j.SmartStatus.Passed
	}
	if j.PowerOnTime != nil && j.PowerOnTime.Hours != nil {
		r.PowerOnHours = *j.PowerOnTime.Hours
	}

	if a := j.AtaSmartAttributes; a != nil {
		for _, t := range a.Table {
			attr := Attribute{ID: t.ID, Name: t.Name, Value: t.Value, Worst: t.Worst, Thresh: Unknown,
				Prefail: t.Flags.Prefailure, WhenFailed: t.WhenFailed, Raw: t.Raw.Value, RawString: t.Raw.String}
			if t.Thresh != nil {
				attr.Thresh = *t.Thresh
			}
			if attr.RawString == "" {
				attr.RawString = strconv.FormatUint(t.Raw.Value, 10)
			}
			r.Attributes = append(r.Attributes, attr)
		}
	}
	if e := j.AtaSmartErrorLog; e != nil {
		// The extended (-x) log counts more than the summary log keeps.
		for _, c := range []*struct{ Count *int64 }{e.Summary, e.Extended} {
			if c != nil && c.Count != nil {
				r.ErrorLogCount = max(r.ErrorLogCount, *c.Count)
			}
		}
	}
	if s := j.AtaSmartSelfTestLog; s != nil {
		log := s.Extended // -x: the extended log holds the newest entries
		if log == nil {
			log = s.Standard
		}
		if log != nil {
			r.SelfTests = []SelfTest{}
			for _, t := range log.Table {
				st := SelfTest{Type: t.Type.String, Status: t.Status.String, LifetimeHours: Unknown}
				if t.Status.Passed != nil {
					st.Outcome = map[bool]string{true: "passed", false: "failed"}[*t.Status.Passed]
				}
				if t.LifetimeHours != nil {
					st.LifetimeHours = *t.LifetimeHours
				}
				r.SelfTests = append(r.SelfTests, st)
			}
		}
	}

	if n := j.NVMeHealth; n != nil {
		r.Protocol = NVMe
		r.NVMe = &NVMeHealth{CriticalWarning: n.CriticalWarning, AvailableSpare: n.AvailableSpare,
			AvailableSpareThreshold: n.AvailableSpareThreshold, PercentageUsed: n.PercentageUsed,
			MediaErrors: n.MediaErrors, ErrorLogEntries: n.NumErrLogEntries}
		if r.PowerOnHours == Unknown && n.PowerOnHours != nil {
			r.PowerOnHours = *n.PowerOnHours
		}
	}
	if l := j.NVMeSelfTestLog; l != nil && l.Table != nil {
		r.SelfTests = []SelfTest{}
		for _, t := range *l.Table {
			st := SelfTest{Type: t.SelfTestCode.String, Status: t.SelfTestResult.String, LifetimeHours: Unknown,
				Outcome: nvmeSelfTestOutcome(t.SelfTestResult.Value)}
			if t.PowerOnHours != nil {
				st.LifetimeHours = *t.PowerOnHours
			}
			r.SelfTests = append(r.SelfTests, st)
		}
	}

	if j.ScsiGrownDefectList != nil || len(j.ScsiErrorCounterLog) > 0 || j.ScsiPercentageUsed != nil {
		r.Protocol = SCSI
		h := &SCSIHealth{GrownDefects: Unknown, PercentageUsed: Unknown, Uncorrected: map[string]int64{}}
		if j.ScsiGrownDefectList != nil {
			h.GrownDefects = *j.ScsiGrownDefectList
		}
		for dir, c := range j.ScsiErrorCounterLog {
			if c.TotalUncorrectedErrors != nil {
				h.Uncorrected[dir] = *c.TotalUncorrectedErrors
			}
		}
		if j.ScsiPercentageUsed != nil {
			h.PercentageUsed = *j.ScsiPercentageUsed
		}
		r.SCSI = h
	}
	if tests, err := scsiSelfTests(data); err != nil {
		return err
	} else if tests != nil {
		r.SelfTests = tests
	}
	return checkHours(r, &j)
}

// checkHours refuses negative power-on hours, in the report and in its
// self-tests: Unknown (-1) is how absence is kept, so a negative number
// from the file would read as absent or skew the scoring.
func checkHours(r *Report, j *jsonReport) error {
	var given []*int64
	if j.PowerOnTime != nil {
		given = append(given, j.PowerOnTime.Hours)
	}
	if j.NVMeHealth != nil {
		given = append(given, j.NVMeHealth.PowerOnHours)
	}
	for _, h := range given {
		if h != nil && *h < 0 {
			return fmt.Errorf("power-on hours %d: negative", *h)
		}
	}
	for i, t := range r.SelfTests {
		if t.LifetimeHours < Unknown {
			return fmt.Errorf("self-test %d: lifetime hours %d: negative", i, t.LifetimeHours)
		}
	}
	return nil
}

// scsiSelfTests collects scsi_self_test_0, _1, ... in order (0 is newest).
func scsiSelfTests(data []byte) ([]SelfTest, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, fmt.Errorf("malformed smartctl JSON: %v", err)
	}
	type numbered struct {
		n int
		t SelfTest
	}
	var found []numbered
	for k, v := range all {
		num, ok := strings.CutPrefix(k, "scsi_self_test_")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			continue
		}
		var s scsiSelfTest
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		st := SelfTest{Type: s.Code.String, Status: s.Result.String, LifetimeHours: Unknown,
			Outcome: scsiSelfTestOutcome(s.Result.Value)}
		if s.PowerOnTime != nil && s.PowerOnTime.Hours != nil {
			st.LifetimeHours = *s.PowerOnTime.Hours
		}
		found = append(found, numbered{n, st})
	}
	if found == nil {
		return nil, nil
	}
	sort.Slice(found, func(a, b int) bool { return found[a].n < found[b].n })
	tests := make([]SelfTest, len(found))
	for i, f := range found {
		tests[i] = f.t
	}
	return tests, nil
}

// nvmeSelfTestOutcome maps the NVMe self-test result code (low nibble of
// the status byte): 0 completed, 5 fatal error, 6-7 failed segments; the
// rest are aborts.
func nvmeSelfTestOutcome(v int) string {
	switch v & 0xf {
	case 0:
		return "passed"
	case 5, 6, 7:
		return "failed"
	}
	return ""
}

// scsiSelfTestOutcome maps the SCSI self-test results value (SPC):
// 0 completed, 1-2 aborted, 3-7 failed, 15 in progress.
func scsiSelfTestOutcome(v int) string {
	switch {
	case v == 0:
		return "passed"
	case v >= 3 && v <= 7:
		return "failed"
	}
	return ""
}

// smartctlFailure words why smartctl produced no report.
func smartctlFailure(status int, j jsonReport) string {
	for _, m := range j.Smartctl.Messages {
		if m.Severity == "error" {
			return m.String
		}
	}
	if status&exitCommandLine != 0 {
		return "smartctl's command line did not parse"
	}
	return "device open failed or device not supported"
}

func normalizeProtocol(p string) string {
	switch strings.ToUpper(p) {
	case "ATA":
		return ATA
	case "NVME":
		return NVMe
	case "SCSI":
		return SCSI
	}
	return p
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
