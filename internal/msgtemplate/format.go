package msgtemplate

import (
	"strconv"
	"strings"

	"kehu/internal/kehu"
)

// Money formats an amount in fen the way a zh-CN message writes it:
// ¥1,234.50 (always two decimals, thousands grouped, a leading minus).
func Money(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	yuan, cents := fen/100, fen%100
	s := "¥" + group(strconv.FormatInt(yuan, 10)) + "." + twoDigits(cents)
	if neg {
		return "-" + s
	}
	return s
}

// Wan formats an amount in fen in 万 (10,000 yuan) or 亿 (100,000,000 yuan)
// with at most one decimal, trailing .0 dropped: 123,000 yuan is 12.3万,
// 120,000 yuan 12万, 250,000,000 yuan 2.5亿. Below 10,000 yuan it is the
// plain yuan amount (¥9,999.00 reads better than 1万 rounded up).
func Wan(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	var s string
	switch {
	case fen >= 100_000_000*100:
		s = tenths(fen, 100_000_000*100) + "亿"
	case fen >= 10_000*100:
		s = tenths(fen, 10_000*100) + "万"
	default:
		s = Money(fen)
	}
	if neg {
		return "-" + s
	}
	return s
}

// tenths divides n by unit and rounds half up to one decimal.
func tenths(n, unit int64) string {
	t := (n*10 + unit/2) / unit
	whole, frac := t/10, t%10
	if frac == 0 {
		return group(strconv.FormatInt(whole, 10))
	}
	return group(strconv.FormatInt(whole, 10)) + "." + strconv.FormatInt(frac, 10)
}

// group inserts thousands separators into a string of digits.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	lead := len(digits) % 3
	if lead > 0 {
		b.WriteString(digits[:lead])
	}
	for i := lead; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

func twoDigits(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// ChineseDate writes a date as 2026年12月2日 (no leading zeros).
func ChineseDate(d kehu.Date) string {
	return strconv.Itoa(d.Year) + "年" + strconv.Itoa(int(d.Month)) + "月" + strconv.Itoa(d.Day) + "日"
}

// compoundSurnames are the two-character surnames common enough to matter
// for a salutation (欧阳先生, not 欧先生).
var compoundSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
	"长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "钟离", "澹台", "公冶"}

// Salutation is the polite form of address: the surname and 先生 or 女士 by
// gender ("M"/"F"). Without a gender it is the full name (guessing 先生 for a
// woman is worse than no title); without a name, "" (the caller's fallback).
func Salutation(name, gender string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	var title string
	switch gender {
	case "M":
		title = "先生"
	case "F":
		title = "女士"
	default:
		return name
	}
	// A name in Latin letters (a foreign customer) keeps its last word.
	if !hasHan(name) {
		f := strings.Fields(name)
		return f[len(f)-1] + title
	}
	for _, s := range compoundSurnames {
		if strings.HasPrefix(name, s) && len([]rune(name)) > 2 {
			return s + title
		}
	}
	return string([]rune(name)[:1]) + title
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x3400 && r <= 0x9FFF || r >= 0x20000 && r <= 0x3134F {
			return true
		}
	}
	return false
}
