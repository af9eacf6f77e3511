// Package i18n holds the user-interface message catalogues (Simplified
// Chinese, the default, and English) and picks a language for a request. Every
// string a page shows comes from here, so a translation is one file to edit
// and a test can prove both languages cover the same keys.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Languages the UI offers, as BCP 47 tags.
const (
	Chinese = "zh-CN"
	English = "en"
)

// Default is the language used when a request expresses no usable preference:
// the bank's staff work in Simplified Chinese.
const Default = Chinese

// CookieName is the cookie holding an explicit language choice. It is not a
// secret, so it is readable by the language switch on every page.
const CookieName = "kehu_lang"

//go:embed catalog/*.json
var catalogFS embed.FS

// Bundle is the set of loaded catalogues. It is immutable after Load, so one
// Bundle serves every request concurrently.
type Bundle struct {
	catalogs map[string]map[string]string
}

// Load reads the embedded catalogues. A language's catalogue may be split
// over several files — catalog/zh-CN.json plus catalog/<module>.zh-CN.json —
// so each module owns its strings; a key defined twice is an error. Load
// fails if a file is malformed or a language has no file, which a test
// catches before any release.
func Load() (*Bundle, error) {
	b := &Bundle{catalogs: map[string]map[string]string{}}
	files, err := catalogFS.ReadDir("catalog")
	if err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	for _, f := range files {
		stem := strings.TrimSuffix(f.Name(), ".json")
		lang := stem[strings.LastIndex(stem, ".")+1:]
		if lang != Chinese && lang != English {
			return nil, fmt.Errorf("i18n: catalogue %s: unknown language %q", f.Name(), lang)
		}
		raw, err := catalogFS.ReadFile("catalog/" + f.Name())
		if err != nil {
			return nil, fmt.Errorf("i18n: catalogue %s: %w", f.Name(), err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("i18n: catalogue %s: %w", f.Name(), err)
		}
		if b.catalogs[lang] == nil {
			b.catalogs[lang] = map[string]string{}
		}
		for k, v := range m {
			if _, dup := b.catalogs[lang][k]; dup {
				return nil, fmt.Errorf("i18n: catalogue %s: key %q is defined in another %s file too", f.Name(), k, lang)
			}
			b.catalogs[lang][k] = v
		}
	}
	for _, lang := range []string{Chinese, English} {
		if len(b.catalogs[lang]) == 0 {
			return nil, fmt.Errorf("i18n: no catalogue for %s", lang)
		}
	}
	return b, nil
}

// Languages returns the languages of the bundle, default first.
func (b *Bundle) Languages() []string { return []string{Chinese, English} }

// Keys returns the sorted keys of lang's catalogue.
func (b *Bundle) Keys(lang string) []string { return slices.Sorted(maps.Keys(b.catalogs[lang])) }

// Lookup returns the message for key in lang and whether it exists, for
// values whose translation is optional (a transaction channel invented by a
// feeding system is shown as it came).
func (b *Bundle) Lookup(lang, key string) (string, bool) {
	m, ok := b.catalogs[lang]
	if !ok {
		m = b.catalogs[Default]
	}
	s, ok := m[key]
	return s, ok
}

// T returns the message for key in lang, formatted with args by fmt rules
// (use %[1]s, %[2]d to reorder arguments between languages). A missing key is
// returned as the key itself so the gap is visible, never an empty string;
// the catalogue tests keep this from reaching users.
func (b *Bundle) T(lang, key string, args ...any) string {
	s, ok := b.Lookup(lang, key)
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Supported returns the bundle language matching tag ("en-GB" → "en",
// "zh-Hans-CN" → "zh-CN"), or "" if there is none.
func (b *Bundle) Supported(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	switch {
	case tag == "":
		return ""
	case tag == "zh" || strings.HasPrefix(tag, "zh-cn") || strings.HasPrefix(tag, "zh-hans") || strings.HasPrefix(tag, "zh-sg"):
		return Chinese
	case tag == "en" || strings.HasPrefix(tag, "en-"):
		return English
	}
	return ""
}
