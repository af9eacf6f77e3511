package web

import (
	"html/template"
	"reflect"
	"strconv"
	"strings"
	"time"

	"kehu/internal/i18n"
	"kehu/internal/kehu"
)

// funcs returns the template functions for lang. Formatting lives here, not
// in the domain: money is stored as integer fen and times as UTC, and only
// the page decides to show ¥1,234.56 and Asia/Shanghai wall-clock time.
func (s *server) funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t": func(key string, args ...any) string { return s.i18n.T(lang, key, args...) },
		// label translates a stored code with a catalogue prefix, showing the
		// raw code when the catalogue does not know it (a new feed value).
		"label": func(prefix string, code any) string {
			c := toString(code)
			if m, ok := s.i18n.Lookup(lang, prefix+c); ok {
				return m
			}
			if c == "" {
				return s.i18n.T(lang, "common.none")
			}
			return c
		},
		// local picks the English name of a product or organisation when the
		// page is English and one exists.
		"local": func(zh, en string) string {
			if lang == i18n.English && en != "" {
				return en
			}
			return zh
		},
		"money":     formatMoney,
		"signed":    formatSigned,
		"sign":      signClass,
		"percentBP": func(bp int) string { return strconv.FormatFloat(float64(bp)/100, 'f', 2, 64) + "%" },
		"datetime":  s.datetime,
		"date":      formatDate,
		"asset":     s.static.url,
		"depth":     func(path string) int { return max(strings.Count(path, "/")-2, 0) },
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case nil:
		return ""
	}
	// Codes of a named type (msgtemplate.Channel, a status type) are
	// strings or integers underneath: label them by their value, not as
	// missing.
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.String:
		return r.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(r.Int(), 10)
	}
	return ""
}

// datetime shows a time.Time or *time.Time in Asia/Shanghai, the bank's
// business time zone; storage is UTC.
func (s *server) datetime(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return "—"
	}
	return t.In(s.loc).Format("2006-01-02 15:04")
}

func formatDate(d kehu.Date) string {
	if d.IsZero() {
		return "—"
	}
	return d.String()
}

// formatMoney renders fen as ¥1,234.56 (−¥5.00 for negatives), using integer
// arithmetic so no amount is ever rounded through a float.
func formatMoney(fen int64) string {
	sign := ""
	if fen < 0 {
		sign = "-"
	}
	return sign + "¥" + groupedYuan(fen)
}

// formatSigned renders a movement with an explicit sign: +¥100.00, -¥5.00.
func formatSigned(fen int64) string {
	if fen > 0 {
		return "+¥" + groupedYuan(fen)
	}
	return formatMoney(fen)
}

// groupedYuan is |fen| as yuan with thousands separators and two decimals.
func groupedYuan(fen int64) string {
	u := uint64(fen)
	if fen < 0 {
		u = uint64(-(fen + 1)) + 1 // safe for math.MinInt64
	}
	yuan, cents := u/100, u%100
	digits := strconv.FormatUint(yuan, 10)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	b.WriteByte('.')
	if cents < 10 {
		b.WriteByte('0')
	}
	b.WriteString(strconv.FormatUint(cents, 10))
	return b.String()
}

// signClass is the CSS class colouring a movement: Chinese convention is red
// for inflow/gain and green for outflow/loss.
func signClass(fen int64) string {
	switch {
	case fen > 0:
		return "up"
	case fen < 0:
		return "down"
	}
	return ""
}
