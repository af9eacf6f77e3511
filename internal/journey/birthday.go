package journey

import (
	"time"

	"github.com/6tail/lunar-go/calendar"

	"kehu/internal/kehu"
)

// LunarOf returns the lunar month and day of a solar date (a leap month is
// given as its regular month: a customer born in 闰四月 celebrates in 四月,
// as is the custom) through github.com/6tail/lunar-go's tables.
func LunarOf(d kehu.Date) (month, day int) {
	l := calendar.NewSolarFromYmd(d.Year, int(d.Month), d.Day).GetLunar()
	m := l.GetMonth()
	if m < 0 {
		m = -m
	}
	return m, l.GetDay()
}

// SolarOfLunar returns the solar date of lunar month and day in lunarYear
// (the regular month). A 30th in a month of 29 days is the month's last
// day, so a customer born on a 30th has a birthday every year.
func SolarOfLunar(lunarYear, month, day int) kehu.Date {
	m := calendar.NewLunarYear(lunarYear).GetMonth(month)
	if n := m.GetDayCount(); day > n {
		day = n
	}
	s := calendar.NewLunarFromYmd(lunarYear, month, day).GetSolar()
	return kehu.Date{Year: s.GetYear(), Month: time.Month(s.GetMonth()), Day: s.GetDay()}
}

// Birthdays returns the customer's birthdays in the solar year: the same
// month and day for a solar calendar (29 February is celebrated on 28
// February in a common year); for a lunar one, the solar dates of the lunar
// birthday in the lunar years year-1 and year that fall in the solar year
// (usually one, rarely two, since a lunar year of 354 days can hold the
// same lunar day at both ends of a solar year).
func Birthdays(birth kehu.Date, lunar bool, year int) []kehu.Date {
	if !lunar {
		d := kehu.Date{Year: year, Month: birth.Month, Day: birth.Day}
		if birth.Month == time.February && birth.Day == 29 && !leap(year) {
			d.Day = 28
		}
		return []kehu.Date{d}
	}
	m, day := LunarOf(birth)
	var out []kehu.Date
	for _, ly := range []int{year - 1, year} {
		if d := SolarOfLunar(ly, m, day); d.Year == year {
			out = append(out, d)
		}
	}
	return out
}

// BirthdayOn reports whether day is one of the customer's birthdays.
func BirthdayOn(birth kehu.Date, lunar bool, day kehu.Date) bool {
	for _, d := range Birthdays(birth, lunar, day.Year) {
		if d == day {
			return true
		}
	}
	return false
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
