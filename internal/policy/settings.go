package policy

import (
	"fmt"
	"strings"
	"time"

	"kehu/internal/audit"
	"kehu/internal/kehu"
	"kehu/internal/suitability"
)

// Settings are the bank's contact policy, stored versioned (the newest
// version is in force). The zero value is not valid: Defaults fills it.
type Settings struct {
	// Version is assigned on save; 0 for the built-in defaults.
	Version int64 `json:"version"`
	// MaxMarketing marketing contacts per customer within PeriodDays, across
	// every campaign, journey, manual contact and channel.
	MaxMarketing int `json:"max_marketing"`
	PeriodDays   int `json:"period_days"`
	// MaxPerChannelDay marketing contacts per customer, channel and
	// Asia/Shanghai calendar day.
	MaxPerChannelDay int `json:"max_per_channel_day"`
	// QuietFrom and QuietTo are the bank-wide quiet hours, "HH:MM" in
	// Asia/Shanghai (both "" for none); a window whose end is before its
	// start runs across midnight. Contacts inside are deferred.
	QuietFrom string `json:"quiet_from"`
	QuietTo   string `json:"quiet_to"`
	// QuietPeriodDays: a product the customer declined is not offered again
	// within this many days (default: interaction's pitch quiet period).
	QuietPeriodDays int `json:"quiet_period_days"`
	// AssessmentValidityMonths is how long a risk assessment holds for
	// suitability.
	AssessmentValidityMonths int        `json:"assessment_validity_months"`
	UpdatedAt                *time.Time `json:"updated_at"`
	UpdatedBy                *int64     `json:"updated_by"`
}

// Defaults are the settings before anyone saved a version: at most 2
// marketing contacts per 7 days and 1 per channel per day, no contact
// 21:00–08:00 Shanghai time, quietDays after a refusal, 12-month
// assessments.
func Defaults(quietDays int) Settings {
	if quietDays <= 0 {
		quietDays = 30
	}
	return Settings{MaxMarketing: 2, PeriodDays: 7, MaxPerChannelDay: 1, QuietFrom: "21:00", QuietTo: "08:00",
		QuietPeriodDays: quietDays, AssessmentValidityMonths: suitability.DefaultValidityMonths}
}

// Input is a full replacement of the settings (PUT).
type Input struct {
	MaxMarketing             int    `json:"max_marketing"`
	PeriodDays               int    `json:"period_days"`
	MaxPerChannelDay         int    `json:"max_per_channel_day"`
	QuietFrom                string `json:"quiet_from"`
	QuietTo                  string `json:"quiet_to"`
	QuietPeriodDays          int    `json:"quiet_period_days"`
	AssessmentValidityMonths int    `json:"assessment_validity_months"`
	// BaseVersion is the version the edit started from (the version of the
	// settings the editor read). Given, a save on top of another version is
	// refused as a conflict, so two editors do not silently overwrite each
	// other; left out, the save replaces whatever is in force.
	BaseVersion *int64 `json:"base_version,omitempty"`
}

// Validate checks in, naming every bad field.
func (in *Input) Validate() error {
	in.QuietFrom, in.QuietTo = strings.TrimSpace(in.QuietFrom), strings.TrimSpace(in.QuietTo)
	var v kehu.Validation
	between := func(field string, x, lo, hi int) {
		if x < lo || x > hi {
			v.Add(field, fmt.Sprintf("must be between %d and %d", lo, hi))
		}
	}
	between("max_marketing", in.MaxMarketing, 1, 100)
	between("period_days", in.PeriodDays, 1, 90)
	between("max_per_channel_day", in.MaxPerChannelDay, 1, 20)
	_, fromErr := clock(in.QuietFrom)
	_, toErr := clock(in.QuietTo)
	switch {
	case in.QuietFrom != "" && fromErr != nil:
		v.Add("quiet_from", "must be a time HH:MM")
	case in.QuietTo != "" && toErr != nil:
		v.Add("quiet_to", "must be a time HH:MM")
	case (in.QuietFrom == "") != (in.QuietTo == ""):
		v.Add("quiet_to", "give both ends of the quiet hours, or neither")
	case in.QuietFrom != "" && in.QuietFrom == in.QuietTo:
		v.Add("quiet_to", "must differ from quiet_from")
	}
	between("quiet_period_days", in.QuietPeriodDays, 0, 365)
	// Beyond two years an assessment would outlive any questionnaire
	// practice; below one month the rule would force constant re-assessment.
	between("assessment_validity_months", in.AssessmentValidityMonths, 1, 24)
	if in.BaseVersion != nil && *in.BaseVersion < 0 {
		v.Add("base_version", "must be a version number (0 for the built-in defaults)")
	}
	return v.Err()
}

func (in Input) settings() Settings {
	return Settings{MaxMarketing: in.MaxMarketing, PeriodDays: in.PeriodDays, MaxPerChannelDay: in.MaxPerChannelDay,
		QuietFrom: in.QuietFrom, QuietTo: in.QuietTo, QuietPeriodDays: in.QuietPeriodDays,
		AssessmentValidityMonths: in.AssessmentValidityMonths}
}

// InputOf returns s as an input, for forms.
func InputOf(s Settings) Input {
	return Input{MaxMarketing: s.MaxMarketing, PeriodDays: s.PeriodDays, MaxPerChannelDay: s.MaxPerChannelDay,
		QuietFrom: s.QuietFrom, QuietTo: s.QuietTo, QuietPeriodDays: s.QuietPeriodDays,
		AssessmentValidityMonths: s.AssessmentValidityMonths}
}

// changes lists the fields that differ, old → new, for the audit record.
func changes(old, cur Settings) []audit.Change {
	var out []audit.Change
	num := func(field string, o, n int) {
		if o != n {
			out = append(out, audit.Change{Field: field, Old: fmt.Sprint(o), New: fmt.Sprint(n)})
		}
	}
	str := func(field, o, n string) {
		if o != n {
			out = append(out, audit.Change{Field: field, Old: o, New: n})
		}
	}
	num("max_marketing", old.MaxMarketing, cur.MaxMarketing)
	num("period_days", old.PeriodDays, cur.PeriodDays)
	num("max_per_channel_day", old.MaxPerChannelDay, cur.MaxPerChannelDay)
	str("quiet_from", old.QuietFrom, cur.QuietFrom)
	str("quiet_to", old.QuietTo, cur.QuietTo)
	num("quiet_period_days", old.QuietPeriodDays, cur.QuietPeriodDays)
	num("assessment_validity_months", old.AssessmentValidityMonths, cur.AssessmentValidityMonths)
	return out
}

// clock parses "HH:MM" into minutes after midnight.
func clock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("not HH:MM")
	}
	return t.Hour()*60 + t.Minute(), nil
}
