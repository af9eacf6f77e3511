package auth

import (
	"time"

	"kehu/internal/kehu"
)

// LockedError is returned while an account is locked. It unwraps to a
// kehu.Error with code ELOCKED; Until lets the HTTP layer send Retry-After.
type LockedError struct {
	Until time.Time
	// RetryAfter is Until less the service clock's now, for Retry-After.
	RetryAfter time.Duration
}

func (e *LockedError) Error() string { return "locked: account locked after repeated failures" }

// Unwrap makes kehu.ErrorCode report ELOCKED.
func (e *LockedError) Unwrap() error {
	return kehu.Errorf(kehu.ELOCKED, "the account is locked after repeated failed sign-ins; try again later")
}

// TOTPRequiredError is returned when the password was right and the user has
// a second factor but sent no code. Challenge lets the UI ask for the code
// without the password again (CompleteSignIn); it unwraps to EUNAUTHORIZED
// so a caller that does not know about TOTP simply sees a refused login.
type TOTPRequiredError struct {
	Challenge string
}

func (e *TOTPRequiredError) Error() string { return "unauthorized: a TOTP code is required" }

// Unwrap makes kehu.ErrorCode report EUNAUTHORIZED.
func (e *TOTPRequiredError) Unwrap() error {
	return kehu.Errorf(kehu.EUNAUTHORIZED, "this account needs the code from its authenticator app")
}

// RestrictedError is returned for anything but lifting the restriction while
// a session must first change its password or enrol TOTP.
type RestrictedError struct {
	Restriction string
}

func (e *RestrictedError) Error() string { return "forbidden: session restricted to " + e.Restriction }

// Unwrap makes kehu.ErrorCode report EFORBIDDEN.
func (e *RestrictedError) Unwrap() error {
	if e.Restriction == RestrictPasswordChange {
		return kehu.Errorf(kehu.EFORBIDDEN, "your password has expired: change it first (POST /api/v1/me/password)")
	}
	return kehu.Errorf(kehu.EFORBIDDEN, "your role needs a second factor: enrol TOTP first (POST /api/v1/me/totp)")
}
