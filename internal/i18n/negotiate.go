package i18n

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Negotiate picks the language for a request: an explicit choice in the
// kehu_lang cookie wins, then the browser's Accept-Language preferences in
// quality order, then Default. Traditional Chinese (zh-TW, zh-Hant) is not
// offered and so falls through to the next preference.
func (b *Bundle) Negotiate(cookieValue, acceptLanguage string) string {
	if l := b.Supported(cookieValue); l != "" {
		return l
	}
	for _, tag := range parseAcceptLanguage(acceptLanguage) {
		if l := b.Supported(tag); l != "" {
			return l
		}
	}
	return Default
}

// parseAcceptLanguage returns the tags of an Accept-Language header ordered by
// descending quality, ties in header order; q=0 means "not acceptable".
func parseAcceptLanguage(h string) []string {
	type pref struct {
		tag string
		q   float64
	}
	var prefs []pref
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if tag = strings.TrimSpace(tag); tag != "" && tag != "*" && q > 0 {
			prefs = append(prefs, pref{tag, q})
		}
		if len(prefs) >= 16 { // a header is client input: bound the work
			break
		}
	}
	slices.SortStableFunc(prefs, func(a, b pref) int { return cmp.Compare(b.q, a.q) })
	out := make([]string, len(prefs))
	for i, p := range prefs {
		out[i] = p.tag
	}
	return out
}
