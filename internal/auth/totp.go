package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"time"
)

// TOTP parameters (RFC 6238 with the defaults every authenticator app
// supports): HMAC-SHA-1, 6 digits, 30-second steps. A code of the previous
// or next step is accepted too, for clock drift and typing time.
const (
	totpDigits = 6
	totpPeriod = 30
	totpSkew   = 1
	// totpSecretBytes is 160 bits, the HMAC-SHA-1 block RFC 4226 recommends.
	totpSecretBytes = 20
)

// b32 is the encoding authenticator apps expect: RFC 4648 base32, no padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTOTPSecret returns a random secret in base32.
func newTOTPSecret() (string, error) {
	b := make([]byte, totpSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return b32.EncodeToString(b), nil
}

// totpStep is the RFC 6238 time step counter of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// hotp is RFC 4226's HOTP value of key at counter, with digits digits.
func hotp(key []byte, counter int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

// TOTPCode returns the 6-digit code of the base32 secret at t, as an
// authenticator app shows it. Tests use it to sign in.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := b32.DecodeString(secret)
	if err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return hotp(key, totpStep(t), totpDigits), nil
}

// matchTOTP returns the step whose code equals code within the skew window
// around now and after lastStep, or 0. Refusing steps at or before lastStep
// makes each code usable once.
func matchTOTP(key []byte, code string, now time.Time, lastStep int64) int64 {
	if len(code) != totpDigits {
		return 0
	}
	cur := totpStep(now)
	var found int64
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		// Compare every candidate, in constant time, so timing does not tell
		// which step matched.
		if subtle.ConstantTimeCompare([]byte(hotp(key, s, totpDigits)), []byte(code)) == 1 && s > lastStep && found == 0 {
			found = s
		}
	}
	return found
}

// totpURI is the otpauth:// URI authenticator apps import (the Key Uri
// Format of Google Authenticator, understood by all common apps).
func totpURI(issuer, account, secret string) string {
	label := url.PathEscape(issuer + ":" + account)
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(totpPeriod))
	return "otpauth://totp/" + label + "?" + q.Encode()
}
