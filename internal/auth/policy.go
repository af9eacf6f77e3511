package auth

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// PasswordPolicy is the bank's password rule. Zero fields take the defaults
// of DefaultPasswordPolicy, except MaxAge, where zero means passwords never
// expire.
type PasswordPolicy struct {
	// MinLength counts characters (runes), not bytes, so Chinese
	// passphrases are measured as people count them.
	MinLength int
	// MinClasses of the four classes: lower case, upper case, digits, and
	// everything else (symbols, spaces, CJK).
	MinClasses int
	// History refuses the current and this many earlier passwords in all.
	History int
	// MaxAge forces a change at the first sign-in after it passes; 0 is off.
	MaxAge time.Duration
}

// DefaultPasswordPolicy is what a bank's security baseline usually asks for.
// The demo password "Kehu-Demo-2026" and the tests' "Test-pass-2026" (14
// characters, 4 classes) pass it.
var DefaultPasswordPolicy = PasswordPolicy{MinLength: 10, MinClasses: 3, History: 5}

// withDefaults fills zero fields from DefaultPasswordPolicy.
func (p PasswordPolicy) withDefaults() PasswordPolicy {
	if p.MinLength <= 0 {
		p.MinLength = DefaultPasswordPolicy.MinLength
	}
	if p.MinClasses <= 0 {
		p.MinClasses = DefaultPasswordPolicy.MinClasses
	}
	if p.History <= 0 {
		p.History = DefaultPasswordPolicy.History
	}
	return p
}

// maxPasswordLength bounds the work argon2 does on attacker-chosen input.
const maxPasswordLength = 256

// Check returns the reasons pw is not acceptable for username, or none. It
// does not see the history, which needs the store (Service checks it).
func (p PasswordPolicy) Check(username, pw string) []string {
	p = p.withDefaults()
	var reasons []string
	n := len([]rune(pw))
	if n < p.MinLength {
		reasons = append(reasons, fmt.Sprintf("must have at least %d characters", p.MinLength))
	}
	if n > maxPasswordLength {
		reasons = append(reasons, fmt.Sprintf("must have at most %d characters", maxPasswordLength))
	}
	if c := charClasses(pw); c < p.MinClasses {
		reasons = append(reasons, fmt.Sprintf("must mix at least %d of: lower case, upper case, digits, symbols", p.MinClasses))
	}
	if u := strings.ToLower(strings.TrimSpace(username)); u != "" && strings.Contains(strings.ToLower(pw), u) {
		reasons = append(reasons, "must not contain the username")
	}
	return reasons
}

// charClasses counts which of the four character classes pw uses.
func charClasses(pw string) int {
	var lower, upper, digit, other int
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			other = 1
		}
	}
	return lower + upper + digit + other
}

// CheckPolicy returns the first reason pw fails the default policy, or "".
// The CLI and the demo use it before a username is known.
func CheckPolicy(pw string) string {
	if r := DefaultPasswordPolicy.Check("", pw); len(r) > 0 {
		return r[0]
	}
	return ""
}
