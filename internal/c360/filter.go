package c360

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/kehu"
)

// TxnFilter selects a customer's transactions. Days are Shanghai calendar
// days, both inclusive; amounts are magnitudes in fen, so "over ¥10,000"
// finds large outflows as well as inflows.
type TxnFilter struct {
	From, To             *kehu.Date
	Kind, Channel        string
	MinAmount, MaxAmount *int64
	AccountID            int64
	Limit                int
	// Cursor is the opaque next_cursor of the previous page.
	Cursor string
}

// TxnQuery is a TxnFilter as the store runs it: UTC bounds and a keyset
// position (occurred_at, id) in newest-first order.
type TxnQuery struct {
	From, To             time.Time // From inclusive, To exclusive; zero: unbounded
	Kind, Channel        string
	MinAmount, MaxAmount *int64
	AccountID            int64
	BeforeAt             time.Time
	BeforeID             int64
	Limit                int
}

// DefaultTxnLimit is the transactions a 360 shows at first.
const DefaultTxnLimit = 20

// maxFilterText bounds kind and channel values (codes from the feeds).
const maxFilterText = 32

// Validate checks f, naming each bad query parameter.
func (f TxnFilter) Validate() error {
	var v kehu.Validation
	if f.From != nil && f.To != nil && f.To.Time().Before(f.From.Time()) {
		v.Add("to", "must not be before from")
	}
	if utf8.RuneCountInString(f.Kind) > maxFilterText {
		v.Add("kind", "must have at most 32 characters")
	}
	if utf8.RuneCountInString(f.Channel) > maxFilterText {
		v.Add("channel", "must have at most 32 characters")
	}
	if f.MinAmount != nil && *f.MinAmount < 0 {
		v.Add("min_amount", "must not be negative")
	}
	if f.MaxAmount != nil && *f.MaxAmount < 0 {
		v.Add("max_amount", "must not be negative")
	}
	if f.MinAmount != nil && f.MaxAmount != nil && *f.MaxAmount < *f.MinAmount {
		v.Add("max_amount", "must not be below min_amount")
	}
	if _, _, err := decodeTxnCursor(f.Cursor); err != nil {
		v.Add("cursor", "is not a cursor from a previous page")
	}
	return v.Err()
}

// query turns f into the store's form.
func (f TxnFilter) query(loc *time.Location) TxnQuery {
	q := TxnQuery{Kind: f.Kind, Channel: f.Channel, MinAmount: f.MinAmount, MaxAmount: f.MaxAmount,
		AccountID: f.AccountID, Limit: kehu.ClampLimit(f.Limit)}
	if f.Limit == 0 {
		q.Limit = DefaultTxnLimit
	}
	if f.From != nil {
		q.From = time.Date(f.From.Year, f.From.Month, f.From.Day, 0, 0, 0, 0, loc).UTC()
	}
	if f.To != nil {
		q.To = time.Date(f.To.Year, f.To.Month, f.To.Day, 0, 0, 0, 0, loc).AddDate(0, 0, 1).UTC()
	}
	q.BeforeAt, q.BeforeID, _ = decodeTxnCursor(f.Cursor)
	return q
}

// encodeTxnCursor makes the opaque position after the last row shown.
func encodeTxnCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("t1:" + strconv.FormatInt(at.UnixMicro(), 10) + ":" +
		strconv.FormatInt(id, 10)))
}

func decodeTxnCursor(s string) (time.Time, int64, error) {
	if s == "" {
		return time.Time{}, 0, nil
	}
	bad := kehu.Errorf(kehu.EINVALID, "malformed cursor")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != "t1" {
		return time.Time{}, 0, bad
	}
	us, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return time.Time{}, 0, bad
	}
	return time.UnixMicro(us).UTC(), id, nil
}
