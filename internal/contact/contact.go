// Package contact keeps how each customer wants to be contacted — the
// preferred channel, the hours and days, the language, whether they may be
// phoned — as the RM was told. The 360 shows them, staff edit them, and the
// campaign contact policy reads them (For, Allows) before a customer is
// called or messaged. Marketing consent per channel is a different thing,
// kept by internal/privacy.
package contact

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/interaction"
	"kehu/internal/kehu"
)

// Contact days.
const (
	AnyDay   = ""
	Weekdays = "weekdays"
	Weekends = "weekends"
)

// Days lists the contact-day choices ("" is any day).
var Days = []string{AnyDay, Weekdays, Weekends}

// Languages a customer may prefer ("" is not told): 普通话, 粤语, English,
// other (a dialect, sign language: the note says which).
var Languages = []string{"", "zh", "yue", "en", "other"}

// MaxNote bounds the note (what else the customer asked, do-not-call
// details).
const MaxNote = 500

// Preferences are one customer's contact preferences. The zero value is
// "nothing told": any channel, any time, any day.
type Preferences struct {
	// PreferredChannel is an interaction channel (branch, phone, app,
	// wechat, sms, email, visit) or "".
	PreferredChannel string `json:"preferred_channel"`
	// ContactFrom and ContactTo are "HH:MM" in Asia/Shanghai, both "" for
	// any time; a window whose end is before its start runs across
	// midnight.
	ContactFrom string `json:"contact_from"`
	ContactTo   string `json:"contact_to"`
	// ContactDays is "", "weekdays" or "weekends".
	ContactDays string `json:"contact_days"`
	// Language is "", "zh", "yue", "en" or "other".
	Language string `json:"language"`
	// DoNotCall: the customer asked not to be phoned.
	DoNotCall bool   `json:"do_not_call"`
	Note      string `json:"note"`
	// BirthdayCalendar is how the customer keeps their birthday: "solar"
	// (the default; "" when nothing is stored) or "lunar" (the lunar date of
	// birth, each year; the birthday journey converts it).
	BirthdayCalendar string     `json:"birthday_calendar"`
	UpdatedAt        *time.Time `json:"updated_at"`
	UpdatedBy        *int64     `json:"updated_by"`
}

// Input is a full replacement of a customer's preferences (PUT).
type Input struct {
	PreferredChannel string `json:"preferred_channel"`
	ContactFrom      string `json:"contact_from"`
	ContactTo        string `json:"contact_to"`
	ContactDays      string `json:"contact_days"`
	Language         string `json:"language"`
	DoNotCall        bool   `json:"do_not_call"`
	Note             string `json:"note"`
	// BirthdayCalendar is "", "solar" or "lunar" ("" is solar).
	BirthdayCalendar string `json:"birthday_calendar"`
}

// normalize trims the text fields.
func (in *Input) normalize() {
	in.PreferredChannel = strings.TrimSpace(in.PreferredChannel)
	in.ContactFrom = strings.TrimSpace(in.ContactFrom)
	in.ContactTo = strings.TrimSpace(in.ContactTo)
	in.ContactDays = strings.TrimSpace(in.ContactDays)
	in.Language = strings.TrimSpace(in.Language)
	in.Note = strings.TrimSpace(in.Note)
	in.BirthdayCalendar = strings.TrimSpace(in.BirthdayCalendar)
}

// Validate checks in, naming every bad field.
func (in Input) Validate() error {
	var v kehu.Validation
	if in.PreferredChannel != "" && !slices.Contains(interaction.Channels, in.PreferredChannel) {
		v.Add("preferred_channel", "must be empty or one of "+strings.Join(interaction.Channels, ", "))
	}
	_, fromErr := clock(in.ContactFrom)
	_, toErr := clock(in.ContactTo)
	switch {
	case in.ContactFrom != "" && fromErr != nil:
		v.Add("contact_from", "must be a time HH:MM")
	case in.ContactTo != "" && toErr != nil:
		v.Add("contact_to", "must be a time HH:MM")
	case (in.ContactFrom == "") != (in.ContactTo == ""):
		v.Add("contact_to", "give both ends of the contact window, or neither")
	case in.ContactFrom != "" && in.ContactFrom == in.ContactTo:
		v.Add("contact_to", "must differ from contact_from")
	}
	if !slices.Contains(Days, in.ContactDays) {
		v.Add("contact_days", "must be empty, weekdays or weekends")
	}
	if !slices.Contains(Languages, in.Language) {
		v.Add("language", "must be empty or one of zh, yue, en, other")
	}
	if !slices.Contains(Calendars, in.BirthdayCalendar) {
		v.Add("birthday_calendar", "must be empty, solar or lunar")
	}
	if utf8.RuneCountInString(in.Note) > MaxNote {
		v.Add("note", fmt.Sprintf("must have at most %d characters", MaxNote))
	}
	return v.Err()
}

// clock parses "HH:MM" into minutes after midnight.
func clock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("not HH:MM")
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Allows reports whether contacting the customer on channel at t respects
// their preferences: not by phone when they asked not to be called, and
// inside their days and hours (Asia/Shanghai, loc). The preferred channel
// is a preference, not a ban: other channels are allowed. The campaign
// contact policy asks this before each call or message; consent is checked
// separately (internal/privacy).
func (p Preferences) Allows(channel string, t time.Time, loc *time.Location) bool {
	if p.DoNotCall && channel == "phone" {
		return false
	}
	local := t.In(loc)
	weekend := local.Weekday() == time.Saturday || local.Weekday() == time.Sunday
	switch p.ContactDays {
	case Weekdays:
		if weekend {
			return false
		}
	case Weekends:
		if !weekend {
			return false
		}
	}
	from, err1 := clock(p.ContactFrom)
	to, err2 := clock(p.ContactTo)
	if err1 != nil || err2 != nil {
		return true // no window
	}
	m := local.Hour()*60 + local.Minute()
	if from < to {
		return m >= from && m < to
	}
	return m >= from || m < to // across midnight
}

// apply returns in as stored preferences.
func (in Input) apply() Preferences {
	return Preferences{PreferredChannel: in.PreferredChannel, ContactFrom: in.ContactFrom, ContactTo: in.ContactTo,
		ContactDays: in.ContactDays, Language: in.Language, DoNotCall: in.DoNotCall, Note: in.Note,
		BirthdayCalendar: cmp.Or(in.BirthdayCalendar, Solar)}
}

// Birthday calendars.
const (
	Solar = "solar"
	Lunar = "lunar"
)

// Calendars are the values of Input.BirthdayCalendar ("" is solar).
var Calendars = []string{"", Solar, Lunar}
