package main

import (
	"flag"
	"fmt"
	"strings"

	"kehu/internal/privacy"
)

// privacyConfig is the data-subject-rights part of `kehu serve`: the bulk
// export threshold and the working-day calendar of statutory deadlines
// (docs/PRIVACY.md). Holidays are configuration because the State Council
// announces them year by year.
type privacyConfig struct {
	bulkThreshold int64
	holidays      string
	workdays      string
}

// privacyFlags declares the flags on fs (each also KEHU_* in the
// environment; a long holiday list can come from KEHU_PRIVACY_HOLIDAYS_FILE).
func privacyFlags(fs *flag.FlagSet) *privacyConfig {
	c := &privacyConfig{}
	fs.Int64Var(&c.bulkThreshold, "bulk-threshold", privacy.DefaultBulkThreshold,
		"most customers one user may export (per request, and per day counting list pages) without an approved bulk-export request")
	fs.StringVar(&c.holidays, "privacy-holidays", "",
		"public holidays skipped by the 15-working-day deadline of data-subject requests: YYYY-MM-DD dates separated by commas, spaces or lines (# starts a comment)")
	fs.StringVar(&c.workdays, "privacy-workdays", "",
		"make-up working days (调休 Saturdays or Sundays) counted by the deadline, same format as --privacy-holidays")
	return c
}

// config validates the flags and returns the privacy service's settings, so
// a mistyped date fails the start instead of silently moving deadlines.
func (c *privacyConfig) config() (privacy.Config, error) {
	if c.bulkThreshold < 1 {
		return privacy.Config{}, usageError{"serve: --bulk-threshold must be at least 1"}
	}
	holidays, err := privacy.ParseDates(stripComments(c.holidays))
	if err != nil {
		return privacy.Config{}, usageError{fmt.Sprintf("serve: --privacy-holidays: %v", err)}
	}
	workdays, err := privacy.ParseDates(stripComments(c.workdays))
	if err != nil {
		return privacy.Config{}, usageError{fmt.Sprintf("serve: --privacy-workdays: %v", err)}
	}
	return privacy.Config{BulkThreshold: c.bulkThreshold, Calendar: privacy.NewCalendar(holidays, workdays)}, nil
}

// stripComments drops "# …" to the end of each line and carriage returns,
// so a holiday file can name each date (2026-10-01 # 国庆节) and be edited
// on Windows.
func stripComments(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r", ""), "\n")
	for i, l := range lines {
		if j := strings.IndexByte(l, '#'); j >= 0 {
			lines[i] = l[:j]
		}
	}
	return strings.Join(lines, "\n")
}
