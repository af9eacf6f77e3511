package vault

import (
	"strings"
	"unicode/utf8"
)

// Mask returns value masked by rule. corporate matters only to RuleName:
// a company's name is public registration data and is never masked.
func Mask(rule Rule, value string, corporate bool) string {
	if value == "" {
		return ""
	}
	switch rule {
	case RuleName:
		if corporate {
			return value
		}
		return MaskName(value)
	case RuleIDNumber:
		return MaskIDNumber(value)
	case RuleMobile:
		return MaskMobile(value)
	case RuleEmail:
		return MaskEmail(value)
	case RuleAddress:
		return MaskAddress(value)
	case RuleAccountNo:
		return MaskAccountNo(value)
	case RuleWithhold:
		return ""
	}
	return value
}

// keepEnds shows the first head and last tail runes of s and stars the rest.
// When s is too short to hide anything that way, everything but the last
// rune is starred.
func keepEnds(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= head+tail+1 {
		if len(r) <= 1 {
			return "*"
		}
		return strings.Repeat("*", len(r)-1) + string(r[len(r)-1])
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}

// MaskMobile shows the carrier prefix and the last four digits: 138****5678.
func MaskMobile(m string) string {
	if len(m) == 11 {
		return m[:3] + "****" + m[7:]
	}
	return keepEnds(m, 3, 4)
}

// MaskIDNumber shows the first three and last four characters of an
// identity number, 110***********1234, hiding region detail and birth
// date. Short numbers (passports, permits) keep one leading and two
// trailing characters.
func MaskIDNumber(id string) string {
	if utf8.RuneCountInString(id) >= 12 {
		return keepEnds(id, 3, 4)
	}
	return keepEnds(id, 1, 2)
}

// compoundSurnames are two-character surnames kept whole when masking.
var compoundSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
	"长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "闻人", "澹台",
	"公羊", "申屠", "太叔", "钟离", "赫连", "拓跋", "第五", "东郭", "司空", "濮阳", "淳于", "单于", "公冶"}

// MaskName keeps a person's surname and stars the given name: 张*, 张**,
// 欧阳**. A name in Latin letters keeps its first letter and the spaces.
func MaskName(name string) string {
	keep := 1
	for _, s := range compoundSurnames {
		if strings.HasPrefix(name, s) && utf8.RuneCountInString(name) > 2 {
			keep = 2
			break
		}
	}
	r := []rune(name)
	if len(r) == 1 {
		return "*"
	}
	out := []rune(string(r[:keep]))
	for _, c := range r[keep:] {
		if c == ' ' || c == '·' {
			out = append(out, c)
		} else {
			out = append(out, '*')
		}
	}
	return string(out)
}

// MaskEmail keeps the first character of the mailbox and the domain:
// a***@example.com.
func MaskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" {
		return "***"
	}
	first, _ := utf8.DecodeRuneInString(local)
	return string(first) + "***@" + domain
}

// MaskAddress keeps an address down to its county-level district (区, 县,
// 旗 or a county-level 市) and hides the street and number:
// 浙江省杭州市西湖区****. Province-level 自治区 and 特别行政区 are not a
// district. Without a recognisable district the first six characters stay.
func MaskAddress(a string) string {
	r := []rune(a)
	cut := -1
	for i, c := range r {
		if i < 2 {
			continue
		}
		if c == '区' && (r[i-1] == '治' || r[i-1] == '政') {
			continue
		}
		if c == '区' || c == '县' || c == '旗' {
			cut = i + 1
			break
		}
	}
	if cut < 0 {
		// The last 市 among the first twelve characters, as in
		// 广东省东莞市 or 浙江省义乌市.
		for i := 2; i < len(r) && i < 12; i++ {
			if r[i] == '市' {
				cut = i + 1
			}
		}
	}
	if cut < 0 {
		cut = min(6, len(r)-1)
	}
	if cut >= len(r) {
		return a
	}
	return string(r[:cut]) + "****"
}

// MaskAccountNo shows the first and last four digits in groups, the way
// a card is printed on a receipt: 6222 **** **** 1234.
func MaskAccountNo(n string) string {
	n = strings.ReplaceAll(n, " ", "")
	if len(n) < 12 {
		return keepEnds(n, 0, 4)
	}
	return n[:4] + " **** **** " + n[len(n)-4:]
}
