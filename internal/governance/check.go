package governance

import (
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"kehu/internal/cnid"
	"kehu/internal/kehu"
	"kehu/internal/region"
)

// value is a column value as the measurement sees it, the same on both
// engines whatever type the driver returned.
type value struct {
	null bool
	text string
	num  int64
	at   time.Time
	isAt bool
}

// normalise turns a driver value into a value for a column of type typ.
func normalise(v any, typ string) value {
	switch x := v.(type) {
	case nil:
		return value{null: true}
	case int64:
		return value{num: x, text: strconv.FormatInt(x, 10)}
	case float64:
		return value{num: int64(x), text: strconv.FormatFloat(x, 'f', -1, 64)}
	case bool:
		if x {
			return value{num: 1, text: "true"}
		}
		return value{text: "false"}
	case time.Time:
		return value{at: x.UTC(), isAt: true, text: x.UTC().Format(time.RFC3339)}
	case []byte:
		return normalise(string(x), typ)
	case string:
		out := value{text: x}
		switch typ {
		case TypeDate, TypeTimestamp:
			if t, ok := parseTime(x); ok {
				out.at, out.isAt = t, true
			}
		case TypeInteger, TypeMoney, TypeID:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				out.num = n
			}
		}
		return out
	}
	return value{text: "?"}
}

// parseTime reads the text forms SQLite stores dates and times in.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// filled reports whether v holds a value for e (an empty string, a NULL or,
// where zero means unknown, a zero is missing).
func filled(e Entry, v value) bool {
	switch {
	case v.null:
		return false
	case e.Type == TypeInteger || e.Type == TypeMoney || e.Type == TypeID:
		return !(e.ZeroIsEmpty && v.num == 0)
	case e.Type == TypeDate || e.Type == TypeTimestamp:
		return v.isAt && !v.at.IsZero() || strings.TrimSpace(v.text) != ""
	}
	return strings.TrimSpace(v.text) != ""
}

// Reasons a present value is invalid, stored with the examples.
const (
	ReasonFormat    = "format"
	ReasonEnum      = "enum"
	ReasonRange     = "range"
	ReasonFuture    = "future"
	ReasonReference = "reference"
	ReasonStale     = "stale"
	ReasonMismatch  = "id_mismatch"
)

// refs are the ids a reference check looks up.
type refs map[string]map[int64]bool

// rowView lets a check read other columns of the same row (the ID type and
// number decide what an ID number or a birth date must look like).
type rowView struct {
	cols   map[string]int
	values []any
	types  map[string]string
}

func (r rowView) get(column string) (value, bool) {
	i, ok := r.cols[column]
	if !ok {
		return value{}, false
	}
	return normalise(r.values[i], r.types[column]), true
}

// resident returns the parsed resident ID of the row, if it has a valid one.
func (r rowView) resident() (cnid.Resident, bool) {
	t, ok1 := r.get("id_type")
	n, ok2 := r.get("id_number")
	if !ok1 || !ok2 || t.text != "resident_id" {
		return cnid.Resident{}, false
	}
	res, err := cnid.ParseResident(n.text)
	return res, err == nil
}

// invalid returns why a present value v of e breaks the rule, "" when valid.
// now is the measurement time and today its Shanghai calendar date.
func invalid(e Entry, v value, row rowView, rf refs, now time.Time, today kehu.Date) string {
	r := e.Rule
	if r.Format != "" {
		if reason := badFormat(r, v, row); reason != "" {
			return reason
		}
	}
	if r.Min != nil && v.num < *r.Min || r.Max != nil && v.num > *r.Max {
		return ReasonRange
	}
	if v.isAt {
		if r.MinDate != "" {
			if min, err := kehu.ParseDate(r.MinDate); err == nil && v.at.Before(min.Time()) {
				return ReasonRange
			}
		}
		if r.NotFuture && future(e, v.at, now, today) {
			return ReasonFuture
		}
		if r.FreshDays > 0 && now.Sub(v.at) > time.Duration(r.FreshDays)*24*time.Hour {
			return ReasonStale
		}
	} else if (e.Type == TypeDate || e.Type == TypeTimestamp) && (r.MinDate != "" || r.NotFuture || r.FreshDays > 0) {
		return ReasonFormat
	}
	if r.Reference != "" && !rf[r.Reference][v.num] {
		return ReasonReference
	}
	if r.MatchesID && !matchesID(e.Column, v, row) {
		return ReasonMismatch
	}
	return ""
}

// future reports whether t lies after the measurement: a date after today's
// Shanghai date, a time after now.
func future(e Entry, t, now time.Time, today kehu.Date) bool {
	if e.Type == TypeDate {
		return t.After(today.Time())
	}
	return t.After(now)
}

func badFormat(r QualityRule, v value, row rowView) string {
	s := strings.TrimSpace(v.text)
	switch r.Format {
	case "enum":
		if !slices.Contains(r.Values, s) {
			return ReasonEnum
		}
		return ""
	case "id_document":
		return idDocument(s, row)
	case "mobile":
		if cnid.ValidMobile(s) != nil {
			return ReasonFormat
		}
	case "email":
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
			return ReasonFormat
		}
	case "name":
		if utf8.RuneCountInString(s) > 100 || strings.ContainsAny(s, "<>") || strings.ContainsFunc(s, unicode.IsControl) {
			return ReasonFormat
		}
	case "region_code":
		if !region.Exists(s) {
			return ReasonFormat
		}
	case "account_no":
		if len(s) < 12 || len(s) > 19 || strings.ContainsFunc(s, func(c rune) bool { return c < '0' || c > '9' }) {
			return ReasonFormat
		}
	}
	return ""
}

// idDocument checks an identity number by the row's document type: the
// GB 11643 check digit and birth date of a resident ID, the GB 32100 check
// character of a USCC, 5 to 20 letters and digits for passports and permits.
func idDocument(s string, row rowView) string {
	t, _ := row.get("id_type")
	switch t.text {
	case "resident_id":
		if _, err := cnid.ParseResident(s); err != nil {
			return ReasonFormat
		}
	case "uscc":
		if cnid.ValidUSCC(s) != nil {
			return ReasonFormat
		}
	case "passport", "hk_macau_permit", "taiwan_permit":
		if len(s) < 5 || len(s) > 20 || strings.ContainsFunc(s, func(c rune) bool {
			return !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')
		}) {
			return ReasonFormat
		}
	default:
		return ReasonFormat
	}
	return ""
}

// matchesID reports whether an individual's birth date or gender
// agrees with a valid resident ID number; rows without one pass (the ID
// number's own rule reports a bad number).
func matchesID(column string, v value, row rowView) bool {
	res, ok := row.resident()
	if !ok {
		return true
	}
	switch column {
	case "birth_date":
		return v.isAt && kehu.DateOf(v.at) == kehu.DateOf(res.BirthDate)
	case "gender":
		return (v.text == "M") == res.Male
	}
	return true
}
