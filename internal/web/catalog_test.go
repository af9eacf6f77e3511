package web

import (
	"fmt"
	"io/fs"
	"regexp"
	"testing"

	"kehu/internal/access"
	"kehu/internal/account"
	"kehu/internal/customer"
	"kehu/internal/i18n"
	"kehu/internal/org"
)

// TestTemplateKeysExist scans every template for {{t "key"}} (and (t "key")
// inside pipelines) and checks both catalogues have the key. Keys built at
// run time from stored codes (levels, roles, …) are listed from the domain's
// own enumerations, so a new level or role without a translation fails here.
func TestTemplateKeysExist(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	literal := regexp.MustCompile(`[{(]-?\s*t\s+"([^"]+)"`)
	keys := map[string]string{}
	err = fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := templateFS.ReadFile(p)
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			keys[m[1]] = p
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 60 {
		t.Fatalf("found only %d literal keys in templates; is the pattern still right?", len(keys))
	}
	for _, n := range navigation {
		keys[n.item.Label] = "nav.go"
	}
	for _, k := range []string{"login.bad_credentials", "login.missing", "customers.title", "customer.profile", "orgs.title",
		"login.title", "error.csrf.title", "error.csrf.body", "error.not_found.title", "error.not_found.body",
		"error.forbidden.title", "error.forbidden.body", "error.bad_request.title", "error.bad_request.body",
		"error.internal.title", "error.internal.body", "error.unavailable.title", "error.unavailable.body"} {
		keys[k] = "Go code"
	}
	add := func(prefix string, codes ...string) {
		for _, c := range codes {
			keys[prefix+c] = "enumeration"
		}
	}
	add("role.", access.Roles...)
	add("level.", customer.Levels...)
	add("ctype.", customer.Individual, customer.Corporate)
	add("idtype.", customer.ResidentID, customer.Passport, customer.HKMacauPermit, customer.TaiwanPermit, customer.USCC)
	add("status.", customer.StatusActive, customer.StatusDormant, customer.StatusClosed)
	add("product.type.", account.ProductTypes...)
	add("orglevel.", org.Levels...)
	add("lang.", b.Languages()...)
	for i := 0; i <= 5; i++ {
		add("risk.", fmt.Sprintf("customer.%d", i), fmt.Sprintf("product.%d", i))
	}
	for _, kind := range []string{"spouse", "parent", "child", "sibling", "legal_representative", "shareholder", "guarantor", "employer"} {
		add("rel.", "out."+kind, "in."+kind)
	}
	add("tag.kind.", "manual", "emotion", "computed")
	for key, where := range keys {
		for _, lang := range b.Languages() {
			if _, ok := b.Lookup(lang, key); !ok {
				t.Errorf("%s uses %q, missing from the %s catalogue", where, key, lang)
			}
		}
	}
}

func TestFormatMoney(t *testing.T) {
	for fen, want := range map[int64]string{0: "¥0.00", 5: "¥0.05", 123456: "¥1,234.56", -99: "-¥0.99",
		100000000: "¥1,000,000.00", -123456789: "-¥1,234,567.89", -9223372036854775808: "-¥92,233,720,368,547,758.08"} {
		if got := formatMoney(fen); got != want {
			t.Errorf("formatMoney(%d) = %q, want %q", fen, got, want)
		}
	}
	if got := formatSigned(1000); got != "+¥10.00" {
		t.Errorf("formatSigned = %q", got)
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{"/customers?q=a": "/customers?q=a", "": "/", "//evil": "/",
		"https://evil/": "/", "/\\evil": "/", "customers": "/", "/a\r\nSet-Cookie:x": "/"} {
		if got := localPath(in, "/"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
