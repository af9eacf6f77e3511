package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"
)

// NameKey returns the pinyin key of a customer's name that pinyin-initial
// searches match: for every Chinese character its initial consonant (声母),
// written as zh, ch or sh where the syllable has one and as the first letter
// otherwise (张三 → "zhs", 欧阳娜娜 → "oynn"); Latin letters and digits
// lower-cased as they are ("IBM中国" → "ibmzhg"); everything else (spaces, dots, brackets, characters without a
// reading) is left out.
//
// Writers store it in customers.name_key whenever they write a name. The
// reading of a character is its most common one, except for the surname at
// the start of a name (单 shan, 曾 zeng, 尉迟 yuchi) and a few place names
// that open company names (重庆 chongqing, 长沙 changsha, 厦门 xiamen).
func NameKey(name string) string {
	var b strings.Builder
	b.Grow(len(name) / 2)
	rest := strings.TrimSpace(name)
	if key, n := surnameKey(rest); n > 0 {
		b.WriteString(key)
		rest = rest[n:]
	}
	for rest != "" {
		if key, n := phraseKey(rest); n > 0 {
			b.WriteString(key)
			rest = rest[n:]
			continue
		}
		r, size := utf8.DecodeRuneInString(rest)
		rest = rest[size:]
		b.WriteString(runeKey(r))
	}
	return b.String()
}

// runeKey is the key of one character: its initial consonant, a folded
// Latin letter or digit, or "" for anything else.
func runeKey(r rune) string {
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return string(r)
	case r >= 'A' && r <= 'Z':
		return string(r + 'a' - 'A')
	case r >= 'Ａ' && r <= 'Ｚ': // full-width forms typed with a Chinese IME
		return string(r - 'Ａ' + 'a')
	case r >= 'ａ' && r <= 'ｚ':
		return string(r - 'ａ' + 'a')
	case r >= '０' && r <= '９':
		return string(r - '０' + '0')
	case r < 0x3000 || !unicode.Is(unicode.Han, r) && r != '〇':
		return ""
	}
	readings, ok := pinyin.PinyinDict[int(r)]
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(readings, ",")
	return Initial(first)
}

// Initial returns the initial consonant of a pinyin syllable, tone marks
// allowed: "zhāng" → "zh", "sān" → "s", "ān" → "a", "ǹg" → "n".
func Initial(syllable string) string {
	if len(syllable) >= 2 && syllable[1] == 'h' && strings.IndexByte("zcs", syllable[0]) >= 0 {
		return syllable[:2]
	}
	r, _ := utf8.DecodeRuneInString(syllable)
	if r >= 'a' && r <= 'z' {
		return string(r)
	}
	for base, marked := range toneMarked {
		if strings.ContainsRune(marked, r) {
			return string(base)
		}
	}
	return ""
}

// toneMarked lists the tone-marked vowels (and the syllabic m and n) a
// syllable can start with, by their plain letter.
var toneMarked = map[rune]string{
	'a': "āáǎàÀÁ", 'e': "ēéěèêềếÉÈ", 'o': "ōóǒòÓÒ", 'm': "ḿm̀", 'n': "ńňǹ",
}
