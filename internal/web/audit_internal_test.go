package web

import (
	"testing"

	"kehu/internal/audit"
	"kehu/internal/i18n"
)

// TestAuditActionsTranslated: every action the filter offers, and every
// outcome, has a name in both catalogues, so the select never shows a code.
func TestAuditActionsTranslated(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"audit.outcome.ok", "audit.outcome.denied", "audit.outcome.failed", "audit.outcome.locked"}
	for _, a := range audit.Actions {
		keys = append(keys, "audit.action."+a)
	}
	for _, k := range keys {
		for _, lang := range b.Languages() {
			if _, ok := b.Lookup(lang, k); !ok {
				t.Errorf("%q is missing from the %s catalogue", k, lang)
			}
		}
	}
}
