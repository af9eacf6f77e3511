// Package kehu holds the vocabulary every Kehu module shares: error codes,
// the acting user carried in a context, the clock, dates and pages of results.
// It imports nothing from the rest of the project so every layer can use it.
package kehu

import (
	"errors"
	"fmt"
)

// Error codes are stable and machine-readable; the HTTP layer maps them to
// status codes and problem types, the CLI to exit messages.
const (
	EINVALID      = "invalid"      // the request is malformed or fails validation
	ENOTFOUND     = "not_found"    // the thing does not exist or is outside the actor's scope
	ECONFLICT     = "conflict"     // a uniqueness or version conflict
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // authenticated but not permitted
	ELOCKED       = "locked"       // the account is locked
	EUNAVAILABLE  = "unavailable"  // a dependency (the database) cannot serve now
	EINTERNAL     = "internal"     // a bug or an unexpected failure; details are logged, never shown
)

// FieldError names one invalid input field and why, so an API client or a form
// can point at the exact place to fix.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is the application error: a code for programs, a message safe to show
// to a user, and optional per-field details. Internal causes are wrapped with
// fmt.Errorf around it and never reach the client.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s %v", e.Code, e.Message, e.Fields)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL
// for any other non-nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err; internal errors get a
// generic message so no SQL or stack detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorFields returns the per-field details of err, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Validation collects field errors while checking an input, so a caller
// reports every problem at once instead of one per round trip.
type Validation struct {
	fields []FieldError
}

// Add records that field is invalid for reason.
func (v *Validation) Add(field, reason string) {
	v.fields = append(v.fields, FieldError{Field: field, Reason: reason})
}

// Err returns an EINVALID *Error listing every recorded field, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "validation failed", Fields: v.fields}
}
