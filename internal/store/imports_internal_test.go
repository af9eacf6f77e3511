package store

import (
	"strings"
	"testing"
)

// TestFingerprintIsTheKeyedDigestsPrefix pins the fingerprint to what
// customer_sources.prints already hold: the first fingerprintLen characters
// of the field's keyed digest. A fingerprint computed another way would make
// every stored record look changed at the next import.
func TestFingerprintIsTheKeyedDigestsPrefix(t *testing.T) {
	s := &ImportSealer{printKey: []byte("a key of this bank")}
	for _, v := range []string{"", "张伟", "13800138000", strings.Repeat("地址", 100)} {
		got, want := s.Fingerprint("mobile", v), s.keyed("mobile", v)[:fingerprintLen]
		if got != want {
			t.Errorf("Fingerprint(%q) = %q, want %q", v, got, want)
		}
	}
	if s.Fingerprint("mobile", "1") == s.Fingerprint("email", "1") {
		t.Error("the field is not part of the fingerprint")
	}
}
