package importer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"kehu/internal/kehu"
)

// Clean is the form every cell takes before a column parses it: full-width
// letters, digits and punctuation (１２３, Ａ, （）, ，) folded to their ASCII
// forms, the ideographic space and non-breaking spaces turned into plain
// spaces, control characters dropped and the ends trimmed. Chinese
// characters are untouched: width folding only maps the compatibility
// forms a Chinese input method types in full-width mode.
func Clean(s string) string {
	if isPlainASCII(s) {
		return strings.TrimSpace(s)
	}
	if needsNarrowing(s) {
		s = width.Narrow.String(s)
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\u00a0' || r == '\u3000' || r == '\u2007' || r == '\u202f':
			return ' '
		case r == '\ufeff' || r == '\u200b':
			return -1
		case unicode.IsControl(r) && r != '\n' && r != '\t':
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// needsNarrowing reports whether s holds a rune width.Narrow may change:
// arrows to geometric shapes, CJK punctuation, kana and Hangul jamo, and
// the fullwidth forms (TestNarrowingRunes checks every other rune is left
// alone). Chinese names and addresses are mostly ideographs, outside these
// blocks, and the transformer costs more than the scan.
func needsNarrowing(s string) bool {
	for _, r := range s {
		if r >= '\u2190' && r <= '\u25ff' || r >= '\u3000' && r <= '\u318f' || r >= '\uff00' && r <= '\uffef' {
			return true
		}
	}
	return false
}

// isPlainASCII reports whether s holds only printable ASCII, the common case
// that needs no folding.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// errAmount explains the amount forms accepted, for reject reasons.
var errAmount = errors.New("is not an amount (use digits with an optional sign, thousands separators, ¥ or 元, 万 or 亿)")

// ParseAmount reads an amount of money in yuan and returns it in fen. It
// accepts what bank extracts and spreadsheets contain: "1234.5", "1,234.50",
// "¥1,234.50", "1234.5元", "RMB 1,234", "-12.3", "(12.30)" (accounting
// negative), "12.5万" (×10,000) and "1.2亿" (×100,000,000). A value that
// needs more precision than a fen, or does not fit, is refused rather than
// rounded: an import must not invent money.
func ParseAmount(s string) (int64, error) {
	v := strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(v, "(") && strings.HasSuffix(v, ")") {
		neg, v = true, strings.TrimSpace(v[1:len(v)-1])
	}
	for _, p := range []string{"RMB", "CNY", "¥", "￥", "元"} {
		v = strings.TrimSpace(strings.TrimPrefix(v, p))
	}
	v = strings.TrimSpace(strings.TrimSuffix(v, "元"))
	for _, p := range []string{"RMB", "CNY"} {
		v = strings.TrimSpace(strings.TrimSuffix(v, p))
	}
	if strings.HasPrefix(v, "-") || strings.HasPrefix(v, "+") {
		neg = neg || v[0] == '-'
		v = strings.TrimSpace(v[1:])
		for _, p := range []string{"¥", "￥"} {
			v = strings.TrimSpace(strings.TrimPrefix(v, p))
		}
	}
	unit := int64(1)
	switch {
	case strings.HasSuffix(v, "亿"):
		unit, v = 100_000_000, strings.TrimSpace(strings.TrimSuffix(v, "亿"))
	case strings.HasSuffix(v, "万"):
		unit, v = 10_000, strings.TrimSpace(strings.TrimSuffix(v, "万"))
	}
	v = strings.ReplaceAll(v, ",", "")
	fen, err := decimalTimes(v, unit*100)
	if err != nil {
		return 0, err
	}
	if neg {
		fen = -fen
	}
	return fen, nil
}

// decimalTimes returns the decimal number v multiplied by factor, exactly,
// or an error when v is not a plain decimal, the product is not a whole
// number or it overflows int64.
func decimalTimes(v string, factor int64) (int64, error) {
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" && frac == "" || !isDigits(whole) && whole != "" || !isDigits(frac) && frac != "" {
		return 0, errAmount
	}
	frac = strings.TrimRight(frac, "0")
	scale := int64(1)
	for range len(frac) {
		if scale > math.MaxInt64/10 {
			return 0, errors.New("has too many decimal places")
		}
		scale *= 10
	}
	if factor%scale != 0 {
		return 0, errors.New("is more precise than a fen")
	}
	mul := factor / scale
	digits := strings.TrimLeft(whole+frac, "0")
	if digits == "" {
		return 0, nil
	}
	if len(digits) > 18 {
		return 0, errors.New("is too large")
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64/mul {
		return 0, errors.New("is too large")
	}
	return n * mul, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// excelEpoch is day 0 of Excel's 1900 date system as Excel counts it after
// its deliberate leap-year bug (1900-02-29, serial 60, does not exist).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// maxExcelSerial is 9999-12-31, the last date Excel represents.
const maxExcelSerial = 2958465

// excelSerial turns an Excel serial date (days since 1899-12-30, a fraction
// being the time of day) into a time. Serials before 61 are shifted by the
// phantom 1900-02-29; 60 itself is refused.
func excelSerial(v string) (time.Time, bool, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 1 || f > maxExcelSerial || math.IsNaN(f) {
		return time.Time{}, false, nil
	}
	days := math.Floor(f)
	if days == 60 {
		return time.Time{}, true, errors.New("is Excel's nonexistent date 1900-02-29")
	}
	if days < 60 {
		days++
	}
	secs := math.Round((f - math.Floor(f)) * 86400)
	return excelEpoch.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second), true, nil
}

// chineseDate and chineseTime turn 2023年7月15日 10时30分 into layouts
// time.Parse knows; built once, since building a Replacer costs more than
// using it and an import parses dates on every row.
var (
	chineseDate = strings.NewReplacer("年", "-", "月", "-", "日", "")
	chineseTime = strings.NewReplacer("年", "-", "月", "-", "日", " ", "时", ":", "分", ":", "秒", "")
)

// dateLayouts are the written date forms accepted, after Chinese year/month/
// day characters are turned into dashes.
var dateLayouts = []string{"2006-1-2", "2006/1/2", "2006.1.2", "20060102"}

// ParseDate reads a calendar date: 2023-07-15, 2023/7/15, 2023.07.15,
// 20230715, 2023年7月15日, or an Excel serial date (45122) as an XLSX cell
// or a CSV saved from Excel holds it. A time of day after the date is
// ignored (a birth date exported as 1990-01-01 00:00:00).
func ParseDate(s string) (kehu.Date, error) {
	v := strings.TrimSpace(s)
	if d, _, ok := strings.Cut(v, " "); ok && len(d) >= 8 {
		v = d
	}
	if d, _, ok := strings.Cut(v, "T"); ok && len(d) == 10 {
		v = d
	}
	v = chineseDate.Replace(v)
	if len(v) == 10 && v[4] == '-' && v[7] == '-' {
		if t, err := time.Parse("2006-01-02", v); err == nil {
			return kehu.DateOf(t), nil // the common form, without trying every layout
		}
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return kehu.DateOf(t), nil
		}
	}
	if len(v) <= 7 {
		if t, ok, err := excelSerial(v); ok {
			if err != nil {
				return kehu.Date{}, err
			}
			return kehu.DateOf(t), nil
		}
	}
	return kehu.Date{}, errors.New("is not a date (use YYYY-MM-DD, YYYY/M/D, YYYYMMDD, YYYY年M月D日 or an Excel date)")
}

// timeLayouts are the date-time forms accepted; the ones without a zone
// are Beijing time, as every Chinese bank extract is.
var timeLayouts = []string{"2006-1-2 15:04:05", "2006-1-2 15:04", "2006/1/2 15:04:05", "2006/1/2 15:04",
	"2006-01-02T15:04:05", "20060102150405", "2006.1.2 15:04:05"}

// ParseTime reads a moment: RFC 3339 with a zone, a date-time without zone
// (Beijing time), a bare date (midnight Beijing time) or an Excel serial
// date-time. The result is UTC.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	v := strings.TrimSpace(s)
	if len(v) == 10 && v[4] == '-' && v[7] == '-' {
		if d, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
			return d.UTC(), nil // a bare date: midnight Beijing time
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	w := chineseTime.Replace(v)
	w = strings.Join(strings.Fields(w), " ")
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, w, loc); err == nil {
			return t.UTC(), nil
		}
	}
	if t, ok, err := excelSerial(v); ok && len(v) >= 5 {
		if err != nil {
			return time.Time{}, err
		}
		y, m, d := t.Date()
		h, mi, sec := t.Clock()
		return time.Date(y, m, d, h, mi, sec, 0, loc).UTC(), nil
	}
	if d, err := ParseDate(v); err == nil {
		return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc).UTC(), nil
	}
	return time.Time{}, errors.New("is not a date and time (use YYYY-MM-DD HH:MM:SS, Beijing time, or RFC 3339)")
}

// ParseInt reads a whole number, allowing thousands separators.
func ParseInt(s string) (int64, error) {
	v := strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(v, 64); ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return int64(f), nil // an integer cell Excel wrote as 12.0
		}
		return 0, errors.New("is not a whole number")
	}
	return n, nil
}

// ParsePercentBP reads a percentage into basis points: "12.5%", "12.5",
// "0.125" is read as a fraction only with the % sign absent and a value at
// most 1 (Excel's percent cells hold fractions).
func ParsePercentBP(s string) (int64, error) {
	v := strings.TrimSpace(s)
	pct := strings.HasSuffix(v, "%")
	v = strings.TrimSpace(strings.TrimSuffix(v, "%"))
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("is not a percentage")
	}
	if !pct && f <= 1 && strings.Contains(v, ".") {
		f *= 100
	}
	return int64(math.Round(f * 100)), nil
}

// numberLooksMangled reports whether Excel has turned a long identifier into
// a floating-point number (3.30106E+17), which loses its last digits.
func numberLooksMangled(s string) bool {
	return strings.ContainsAny(s, "eE") && strings.ContainsAny(s, "+.") && isNumberish(s)
}

func isNumberish(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// truncate shortens s to n runes for messages.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// quoted formats a non-personal value for a reject reason.
func quoted(s string) string { return fmt.Sprintf("%q", truncate(s, 40)) }
