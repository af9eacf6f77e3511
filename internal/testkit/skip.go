// Package testkit gives tests what they share: a migrated database per test
// on SQLite or PostgreSQL, a fake clock, builders for a small bank, and the
// rule that with KEHU_TEST_STRICT=1 nothing may skip.
package testkit

import (
	"os"
	"testing"
)

// Strict reports whether skipping is forbidden (CI sets KEHU_TEST_STRICT=1).
func Strict() bool { return os.Getenv("KEHU_TEST_STRICT") == "1" }

// Skip skips the test with a visible reason, or fails it in strict mode, where
// every dependency must be present.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if Strict() {
		t.Fatalf("KEHU_TEST_STRICT=1 but the test would skip: %s", reason)
	}
	t.Skip("SKIP: " + reason)
}
