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
func NameKey(name string) string { return walk(name, Initial) }

// NamePinyin returns the full pinyin of a customer's name that full-pinyin
// searches match: every Chinese character's syllable without tone marks, ü
// written v as pinyin keyboards type it, nothing between syllables (张伟 →
// "zhangwei", 吕 → "lv", 尉迟恭 → "yuchigong"); Latin letters and digits
// lower-cased as in NameKey ("IBM中国" → "ibmzhongguo"). The readings are
// NameKey's, surname and place-name exceptions included, so a name's key is
// always the initials of its pinyin.
//
// Writers store it in customers.name_pinyin whenever they write a name.
func NamePinyin(name string) string { return walk(name, Plain) }

// walk writes the key of name with each Chinese character's reading turned
// into syl(reading).
func walk(name string, syl func(string) string) string {
	var b strings.Builder
	b.Grow(len(name))
	rest := strings.TrimSpace(name)
	if readings, n := surnameReadings(rest); n > 0 {
		for _, r := range readings {
			b.WriteString(syl(r))
		}
		rest = rest[n:]
	}
	for rest != "" {
		if readings, n := phraseReadings(rest); n > 0 {
			for _, r := range readings {
				b.WriteString(syl(r))
			}
			rest = rest[n:]
			continue
		}
		r, size := utf8.DecodeRuneInString(rest)
		rest = rest[size:]
		if reading, han := runeReading(r); han {
			b.WriteString(syl(reading))
		} else {
			b.WriteString(reading)
		}
	}
	return b.String()
}

// runeReading is the reading of one character: a Chinese character's most
// common syllable (han true), a folded Latin letter or digit, or "" for
// anything else.
func runeReading(r rune) (string, bool) {
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return string(r), false
	case r >= 'A' && r <= 'Z':
		return string(r + 'a' - 'A'), false
	case r >= 'Ａ' && r <= 'Ｚ': // full-width forms typed with a Chinese IME
		return string(r - 'Ａ' + 'a'), false
	case r >= 'ａ' && r <= 'ｚ':
		return string(r - 'ａ' + 'a'), false
	case r >= '０' && r <= '９':
		return string(r - '０' + '0'), false
	case r < 0x3000 || !unicode.Is(unicode.Han, r) && r != '〇':
		return "", false
	}
	readings, ok := pinyin.PinyinDict[int(r)]
	if !ok {
		return "", false
	}
	first, _, _ := strings.Cut(readings, ",")
	return first, true
}

// Plain returns a pinyin syllable without tone marks, ü as v, in lower
// case: "lǚ" → "lv", "zhāng" → "zhang", "m̀" → "m".
func Plain(syllable string) string {
	var b strings.Builder
	b.Grow(len(syllable))
	for _, r := range syllable {
		if r >= 0x300 && r <= 0x36f { // combining marks (m̀, ê̄)
			continue
		}
		if base, ok := plainLetters[r]; ok {
			r = base
		} else if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// plainLetters maps the letters of tone-marked pinyin to what a keyboard
// types.
var plainLetters = func() map[rune]rune {
	m := map[rune]rune{}
	for base, marked := range map[rune]string{
		'a': "āáǎàĀÁǍÀ", 'e': "ēéěèêềếểễệĒÉĚÈÊ", 'i': "īíǐìĪÍǏÌ", 'o': "ōóǒòŌÓǑÒ",
		'u': "ūúǔùŪÚǓÙ", 'v': "üǖǘǚǜÜǕǗǙǛ", 'm': "ḿḾ", 'n': "ńňǹŃŇǸ",
	} {
		for _, r := range marked {
			m[r] = base
		}
	}
	return m
}()

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
