package privacy

import (
	"fmt"
	"strings"
	"time"

	"kehu/internal/kehu"
)

// ResponseWorkingDays is how long PIPL gives the bank to answer a
// data-subject request: 15 working days (个人信息保护法 and the
// GB/T 35273 practice banks follow).
const ResponseWorkingDays = 15

// Calendar decides which days are working days: Monday to Friday, minus the
// configured public holidays, plus the configured make-up working days
// (调休: the State Council moves weekend days to make holiday bridges, so a
// Saturday can be a working day). China's holidays are announced year by
// year, so they are configuration, not code.
type Calendar struct {
	holidays map[kehu.Date]bool
	workdays map[kehu.Date]bool
}

// NewCalendar returns a calendar with the given public holidays and make-up
// working days.
func NewCalendar(holidays, makeupWorkdays []kehu.Date) Calendar {
	c := Calendar{holidays: map[kehu.Date]bool{}, workdays: map[kehu.Date]bool{}}
	for _, d := range holidays {
		c.holidays[d] = true
	}
	for _, d := range makeupWorkdays {
		c.workdays[d] = true
	}
	return c
}

// WorkingDay reports whether d is a working day.
func (c Calendar) WorkingDay(d kehu.Date) bool {
	if c.workdays[d] {
		return true
	}
	if c.holidays[d] {
		return false
	}
	wd := d.Time().Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkingDays returns the n-th working day after d: the day of receipt
// does not count, as with statutory periods in general.
func (c Calendar) AddWorkingDays(d kehu.Date, n int) kehu.Date {
	t := d.Time()
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if c.WorkingDay(kehu.DateOf(t)) {
			n--
		}
	}
	return kehu.DateOf(t)
}

// Deadline is the last day to answer a request received at t, counted in
// Asia/Shanghai days.
func (c Calendar) Deadline(received time.Time) kehu.Date {
	return c.AddWorkingDays(kehu.DateOf(received.In(shanghai)), ResponseWorkingDays)
}

// shanghai is the bank's business time zone.
var shanghai = kehu.LoadShanghai()

// Today is the business date of now.
func Today(now time.Time) kehu.Date { return kehu.DateOf(now.In(shanghai)) }

// ParseDates reads a comma- or space-separated list of YYYY-MM-DD dates, the
// form the holiday settings take (KEHU_PRIVACY_HOLIDAYS).
func ParseDates(s string) ([]kehu.Date, error) {
	var out []kehu.Date
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		d, err := kehu.ParseDate(f)
		if err != nil {
			return nil, fmt.Errorf("holiday list: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}
