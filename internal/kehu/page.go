package kehu

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxPageSize bounds every list so no request can ask for an unbounded page.
const MaxPageSize = 200

// DefaultPageSize is used when a caller does not ask for a size.
const DefaultPageSize = 50

// Cursor is an opaque keyset position: the id of the last row of the previous
// page. It is encoded so clients treat it as a token, not a number to compute.
// Ranked lists (customer search) also carry the rank group and the sort key
// of that row, because their pages are ordered by (rank, key, id).
type Cursor struct {
	AfterID int64
	Rank    int    // 1–9 in ranked lists, 0 otherwise
	Key     string // the sort key of the row AfterID, when ordered by one
}

// Next is the cursor as a JSON page's next_cursor: nil (JSON null) at the
// end of the results.
func (c Cursor) Next() *string {
	if s := c.Encode(); s != "" {
		return &s
	}
	return nil
}

// Encode returns the opaque text of c, or "" for the first page.
func (c Cursor) Encode() string {
	if c.AfterID == 0 {
		return ""
	}
	if c.Rank != 0 || c.Key != "" {
		return base64.RawURLEncoding.EncodeToString([]byte("k2:" + strconv.Itoa(c.Rank) + ":" +
			strconv.FormatInt(c.AfterID, 10) + ":" + c.Key))
	}
	return base64.RawURLEncoding.EncodeToString([]byte("k1:" + strconv.FormatInt(c.AfterID, 10)))
}

// DecodeCursor parses a cursor produced by Encode; anything else is EINVALID.
func DecodeCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := Errorf(EINVALID, "malformed cursor")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	var c Cursor
	rest, ok := strings.CutPrefix(string(raw), "k1:")
	if !ok {
		if rest, ok = strings.CutPrefix(string(raw), "k2:"); !ok {
			return Cursor{}, bad
		}
		var rank string
		rank, rest, _ = strings.Cut(rest, ":")
		rest, c.Key, ok = strings.Cut(rest, ":")
		if c.Rank, err = strconv.Atoi(rank); err != nil || !ok || c.Rank < 1 || c.Rank > 9 || !utf8.ValidString(c.Key) {
			return Cursor{}, bad
		}
	}
	if c.AfterID, err = strconv.ParseInt(rest, 10, 64); err != nil || c.AfterID <= 0 {
		return Cursor{}, bad
	}
	return c, nil
}

// ClampLimit returns a page size within [1, MaxPageSize], DefaultPageSize for 0.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}
