package auth

import (
	"testing"
	"time"
)

// TestTOTPVectors checks the SHA-1 rows of RFC 6238 appendix B (8 digits,
// the RFC's seed "12345678901234567890").
func TestTOTPVectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		if got := hotp(key, totpStep(time.Unix(v.unix, 0)), 8); got != v.want {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.want)
		}
	}
	// RFC 4226 appendix D: the 6-digit HOTP values of counters 0 and 9.
	if got := hotp(key, 0, 6); got != "755224" {
		t.Errorf("HOTP(0) = %s", got)
	}
	if got := hotp(key, 9, 6); got != "520489" {
		t.Errorf("HOTP(9) = %s", got)
	}
}

func TestMatchTOTP(t *testing.T) {
	key := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	cur := totpStep(now)
	for _, c := range []struct {
		name     string
		step     int64
		lastStep int64
		want     int64
	}{
		{"current", cur, 0, cur},
		{"previous step (drift)", cur - 1, 0, cur - 1},
		{"next step (drift)", cur + 1, 0, cur + 1},
		{"two steps old", cur - 2, 0, 0},
		{"replayed", cur, cur, 0},
		{"older than the last used", cur - 1, cur, 0},
	} {
		if got := matchTOTP(key, hotp(key, c.step, 6), now, c.lastStep); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if matchTOTP(key, "12345", now, 0) != 0 || matchTOTP(key, "", now, 0) != 0 {
		t.Error("a short code matched")
	}
}

func TestTOTPURI(t *testing.T) {
	got := totpURI("Kehu", "rm_a", "JBSWY3DPEHPK3PXP")
	want := "otpauth://totp/Kehu:rm_a?algorithm=SHA1&digits=6&issuer=Kehu&period=30&secret=JBSWY3DPEHPK3PXP"
	if got != want {
		t.Errorf("uri %s", got)
	}
}
