package outbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"kehu/internal/msgtemplate"
)

// Envelope is one message as a gateway sees it: rendered, addressed, with
// the idempotency key every attempt of the message carries.
type Envelope struct {
	MessageID      int64
	IdempotencyKey string
	Channel        Channel
	// To is the mobile (SMS), the e-mail address (e-mail), or for app push
	// and WeChat the bank's customer reference ("customer:<id>"), which the
	// push or WeChat platform maps to a device or an openid.
	To         string
	CustomerID int64
	Subject    string
	Body       string
	Fields     []msgtemplate.Field
	ExternalID string
	// Source is "<kind>:<id>" of what queued the message.
	Source string
}

// SendResult is a gateway's answer for one envelope: the provider's id of
// the message on success, or the error (Permanent, or ErrNotAttempted, or
// any other error for a temporary failure).
type SendResult struct {
	ProviderID string
	Err        error
}

// Gateway delivers envelopes of one or more channels. Send answers one
// result per envelope, in order. A gateway that meets a temporary failure
// (the provider down, a timeout) should stop and answer ErrNotAttempted for
// the envelopes it did not try, so an outage costs one request per backoff
// rather than one per queued message. A gateway must honour the
// idempotency key: an envelope whose key it has delivered is answered with
// success and not delivered again.
type Gateway interface {
	Name() string
	Send(ctx context.Context, batch []Envelope) []SendResult
}

// ErrNotAttempted is the result of an envelope a gateway did not try.
var ErrNotAttempted = errors.New("not attempted: the gateway stopped the batch after a temporary failure")

// permanentError is a failure that retrying cannot fix (a refused address,
// a 4xx from the provider).
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as a permanent failure: the message fails at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Signature headers of requests to HTTP providers and of receipts from them.
const (
	HeaderTimestamp = "X-Kehu-Timestamp"
	HeaderNonce     = "X-Kehu-Nonce"
	HeaderSignature = "X-Kehu-Signature"
)

// Sign returns the hex HMAC-SHA256, under secret, of the timestamp (Unix
// seconds), the nonce and the body, each followed by a newline but the
// last: "ts\nnonce\nbody".
func Sign(secret []byte, timestamp, nonce string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'\n'})
	m.Write([]byte(nonce))
	m.Write([]byte{'\n'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// MaxSkew is how far a signed request's timestamp may be from now.
const MaxSkew = 5 * time.Minute

// Verify checks a signature made by Sign and that the timestamp is within
// MaxSkew of now (a replayed old request is refused).
func Verify(secret []byte, timestamp, nonce, signature string, body []byte, now time.Time) error {
	if len(secret) == 0 {
		return errors.New("no secret is configured for this channel")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("the " + HeaderTimestamp + " header must be Unix seconds")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return errors.New("the timestamp is more than 5 minutes from the server's clock")
	}
	if len(nonce) < 8 || len(nonce) > 128 {
		return errors.New("the " + HeaderNonce + " header must be 8 to 128 characters")
	}
	want := Sign(secret, timestamp, nonce, body)
	if !hmac.Equal([]byte(strings.ToLower(signature)), []byte(want)) {
		return errors.New("the signature does not match")
	}
	return nil
}

var (
	mobileRE = regexp.MustCompile(`(\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}`)
	emailRE  = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
)

// Redact masks mobiles and e-mail addresses in a text bound for a log, an
// error column or the monitor (a provider's error may echo the address).
func Redact(s string) string {
	s = mobileRE.ReplaceAllStringFunc(s, MaskMobile)
	return emailRE.ReplaceAllStringFunc(s, MaskEmail)
}

// MaskMobile shows the first three and last four digits: 138****0001.
func MaskMobile(m string) string {
	var d []rune
	for _, r := range m {
		if r >= '0' && r <= '9' {
			d = append(d, r)
		}
	}
	if len(d) > 11 {
		d = d[len(d)-11:]
	}
	if len(d) < 7 {
		return strings.Repeat("*", len(d))
	}
	return string(d[:3]) + strings.Repeat("*", len(d)-7) + string(d[len(d)-4:])
}

// MaskEmail keeps the first character of the local part and the domain:
// z***@example.cn.
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at < 1 {
		return "***"
	}
	return e[:1] + "***" + e[at:]
}
