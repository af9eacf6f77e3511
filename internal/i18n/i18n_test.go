package i18n_test

import (
	"regexp"
	"slices"
	"testing"

	"kehu/internal/i18n"
)

func load(t *testing.T) *i18n.Bundle {
	t.Helper()
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCataloguesMatch proves every key exists in both languages, with the
// same formatting verbs, and no message is empty.
func TestCataloguesMatch(t *testing.T) {
	b := load(t)
	zh, en := b.Keys(i18n.Chinese), b.Keys(i18n.English)
	if len(zh) < 50 {
		t.Fatalf("only %d keys in zh-CN", len(zh))
	}
	for _, k := range zh {
		if !slices.Contains(en, k) {
			t.Errorf("key %q is in zh-CN but not in en", k)
		}
	}
	for _, k := range en {
		if !slices.Contains(zh, k) {
			t.Errorf("key %q is in en but not in zh-CN", k)
		}
	}
	verbs := regexp.MustCompile(`%(\[\d+\])?[a-z]`)
	for _, k := range zh {
		z, _ := b.Lookup(i18n.Chinese, k)
		e, _ := b.Lookup(i18n.English, k)
		if z == "" || e == "" {
			t.Errorf("key %q has an empty message", k)
		}
		if zv, ev := verbs.FindAllString(z, -1), verbs.FindAllString(e, -1); len(zv) != len(ev) {
			t.Errorf("key %q: zh-CN has verbs %v, en has %v", k, zv, ev)
		}
	}
}

func TestT(t *testing.T) {
	b := load(t)
	if got := b.T(i18n.Chinese, "level.private"); got != "私行" {
		t.Errorf("level.private zh = %q", got)
	}
	if got := b.T(i18n.English, "customers.on_page", 20); got != "20 customers on this page" {
		t.Errorf("formatted = %q", got)
	}
	if got := b.T("fr", "nav.customers"); got != "客户" {
		t.Errorf("unknown language should fall back to zh-CN, got %q", got)
	}
	if got := b.T(i18n.English, "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
}

func TestNegotiate(t *testing.T) {
	b := load(t)
	for _, tt := range []struct{ cookie, accept, want string }{
		{"", "", "zh-CN"},
		{"en", "zh-CN,zh;q=0.9", "en"},
		{"zh-CN", "en-US,en;q=0.9", "zh-CN"},
		{"klingon", "en-GB,en;q=0.8", "en"},
		{"", "en-US,en;q=0.9,zh-CN;q=0.8", "en"},
		{"", "zh-TW,zh-Hant;q=0.9,en;q=0.5", "en"},
		{"", "fr-FR,de;q=0.9", "zh-CN"},
		{"", "de;q=0.9,en;q=0.95", "en"},
		{"", "en;q=0,zh;q=0.1", "zh-CN"},
		{"", "zh-Hans-CN", "zh-CN"},
		{"", "*", "zh-CN"},
		{"", "en;q=abc", "zh-CN"},
	} {
		if got := b.Negotiate(tt.cookie, tt.accept); got != tt.want {
			t.Errorf("Negotiate(%q, %q) = %q, want %q", tt.cookie, tt.accept, got, tt.want)
		}
	}
}
