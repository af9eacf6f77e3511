// Package search decides what a customer search box query means — an
// identifier to match exactly, a name prefix, pinyin initials, full pinyin,
// a word of a company name — and computes the pinyin initials and full
// pinyin of names that queries are matched against. It knows no SQL: internal/store turns a Query into index
// lookups, and customer.Service applies the data scope around them.
//
// Identifiers are matched whole and only whole: the columns hold ciphertext
// and are found through blind indexes (keyed hashes of the whole value), so
// the last four digits of a mobile or an ID number cannot be searched.
package search

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Query is a parsed search text. Every non-zero field is one way the text
// may match; a customer matching any of them is a hit. Exact identifier
// fields rank before names.
type Query struct {
	// Text is the query as typed, trimmed.
	Text string

	// CustomerID is a short number taken as a customer number.
	CustomerID int64
	// IDNumber is an identity document number (resident ID, USCC, passport,
	// permit), matched through customers.id_number_bidx.
	IDNumber string
	// Mobile is an 11-digit mainland mobile number (customers.mobile_bidx).
	Mobile string
	// AccountNo is a 16 to 19 digit account or card number
	// (accounts.account_no_bidx).
	AccountNo string

	// NamePrefix matches names that start with it (Chinese characters, or
	// anything that is not an identifier or pinyin).
	NamePrefix string
	// Initials are prefixes of customers.name_key (see NameKey), sorted and
	// disjoint: pinyin initials typed as first letters or as zh/ch/sh.
	Initials []string
	// Pinyin is a prefix of customers.name_pinyin (see NamePinyin): full
	// pinyin typed with or without spaces, the last syllable possibly cut
	// short ("zhangwei", "zhang wei", "zhangw" find 张伟).
	Pinyin string
	// Contains is a word matched anywhere in corporate names, with Grams
	// the two-character pieces the store looks it up by.
	Contains string
	Grams    []string
}

// Exact reports whether q has an identifier to match exactly.
func (q Query) Exact() bool {
	return q.CustomerID != 0 || q.IDNumber != "" || q.Mobile != "" || q.AccountNo != ""
}

// Empty reports whether q matches nothing (a blank query lists everything).
func (q Query) Empty() bool {
	return !q.Exact() && q.NamePrefix == "" && len(q.Initials) == 0 && q.Pinyin == "" && q.Contains == ""
}

// MaxInitials bounds the length of a pinyin-initials query: no name is
// longer.
const MaxInitials = 24

// MaxPinyin bounds the length of a full-pinyin query (a long name's
// syllables typed in full).
const MaxPinyin = 64

// maxCustomerID bounds the numbers taken as customer numbers: ten digits.
const maxCustomerID = 9_999_999_999

// Parse classifies a search text. Invalid UTF-8 and control characters are
// dropped first: no name holds them, and PostgreSQL refuses a NUL in text.
func Parse(text string) Query {
	text = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(text, ""))
	q := Query{Text: strings.TrimSpace(text)}
	if q.Text == "" {
		return q
	}
	compact := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' || r == '\u3000' {
			return -1
		}
		return r
	}, q.Text)
	if rest, ok := strings.CutPrefix(compact, "+86"); ok && len(rest) == 11 && isDigits(rest) {
		compact = rest // a mobile written with the country code
	}
	switch {
	case isDigits(compact):
		q.digits(compact)
	case isAlnum(compact):
		q.alnum(compact)
	case hasHan(q.Text):
		q.NamePrefix = q.Text
		if utf8.RuneCountInString(q.Text) >= 2 && allHan(q.Text) {
			q.Contains, q.Grams = q.Text, grams(q.Text)
		}
	default:
		// Punctuation or other scripts: only a literal name prefix, which
		// is a bound parameter whatever it holds.
		q.NamePrefix = q.Text
	}
	return q
}

// digits classifies an all-digit query by its length.
func (q *Query) digits(d string) {
	switch n := len(d); {
	case n == 11 && d[0] == '1':
		q.Mobile = d
	case n == 18:
		// A resident ID number or an 18-digit account number.
		q.IDNumber, q.AccountNo = d, d
	case n >= 16 && n <= 19:
		q.AccountNo = d
	case n <= 10:
		if id, err := strconv.ParseInt(d, 10, 64); err == nil && id > 0 && id <= maxCustomerID {
			q.CustomerID = id
		}
		// Company names may start with digits (58同城).
		q.NamePrefix = q.Text
	}
}

// alnum classifies a query of Latin letters and digits: a document number
// if it has both (resident ID ending in X, USCC, passport), pinyin initials
// or a Latin name if it has letters.
func (q *Query) alnum(s string) {
	letters, digits := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		} else {
			letters++
		}
	}
	if digits > 0 && letters > 0 && len(s) >= 5 && len(s) <= 20 {
		q.IDNumber = strings.ToUpper(s)
	}
	// Initials have letters; a name key seldom has more than a few digits
	// ("3m"), a document number has many.
	if letters > 0 && digits <= 3 && len(s) <= MaxInitials {
		q.Initials = expandInitials(strings.ToLower(s))
	}
	// Full pinyin has a vowel: a string of consonants ("zw", "zhs") can only
	// be initials, and its pinyin prefix would find the same names again.
	if lower := strings.ToLower(s); letters > 0 && digits <= 3 && len(s) >= 2 && len(s) <= MaxPinyin &&
		strings.ContainsAny(lower, "aeiouv") {
		q.Pinyin = lower
	}
}

// expandInitials lists the name_key prefixes a typed initials string can
// mean. Each character may be typed as its first letter or, for zh/ch/sh,
// as both letters; the last one may be cut short anyway. So a z, c or s
// that is not the last letter stands for itself or for zh, ch, sh: "zs"
// finds 张三 (key "zhs") as well as 邹森 ("zs"). Prefixes covered by a
// shorter one are dropped, so the ranges are disjoint. At most maxExpanded
// letters are expanded (2⁴ prefixes); later ones are taken as typed.
func expandInitials(s string) []string {
	out := []string{""}
	expanded := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var next []string
		for _, p := range out {
			next = append(next, p+string(c))
			if i < len(s)-1 && (c == 'z' || c == 'c' || c == 's') && expanded < maxExpanded {
				next = append(next, p+string(c)+"h")
			}
		}
		if len(next) > len(out) {
			expanded++
		}
		out = next
	}
	sort.Strings(out)
	kept := out[:0]
	for _, p := range out {
		if len(kept) > 0 && strings.HasPrefix(p, kept[len(kept)-1]) {
			continue
		}
		kept = append(kept, p)
	}
	return kept
}

const maxExpanded = 4

// grams returns the distinct two-character pieces of s, in order.
func grams(s string) []string {
	rs := []rune(s)
	seen := map[string]bool{}
	var out []string
	for i := 0; i+1 < len(rs); i++ {
		g := string(rs[i : i+2])
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return s != ""
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func allHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}
