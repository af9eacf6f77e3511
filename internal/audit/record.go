package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Genesis is the prev_hash of the first record ever written.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Record is one stored audit entry: the Entry, who and when, and its place in
// the hash chain.
type Record struct {
	ID         int64
	At         time.Time
	ActorID    int64
	Username   string
	Role       string
	OrgID      int64
	SessionID  int64
	IP         string
	UserAgent  string
	Action     string
	CustomerID int64
	Object     string
	Changes    []Change
	Reason     string
	Count      int
	Outcome    string
	PrevHash   string
	Hash       string
}

// canonical is the hashed form of a Record. Its field order is fixed by the
// struct, encoding/json is deterministic for structs, and every value is one
// that both engines store exactly (times in UTC at microsecond precision, the
// resolution of PostgreSQL), so the same bytes come back from either engine.
type canonical struct {
	V          int      `json:"v"`
	ID         int64    `json:"id"`
	At         string   `json:"at"`
	ActorID    int64    `json:"actor_id"`
	Username   string   `json:"username"`
	Role       string   `json:"role"`
	OrgID      int64    `json:"org_id"`
	SessionID  int64    `json:"session_id"`
	IP         string   `json:"ip"`
	UserAgent  string   `json:"user_agent"`
	Action     string   `json:"action"`
	CustomerID int64    `json:"customer_id"`
	Object     string   `json:"object"`
	Changes    []Change `json:"changes"`
	Reason     string   `json:"reason"`
	Count      int      `json:"count"`
	Outcome    string   `json:"outcome"`
}

// Canonical returns the bytes of r that the chain hashes: everything but the
// two hashes themselves.
func (r Record) Canonical() []byte {
	c := canonical{V: 1, ID: r.ID, At: r.At.UTC().Format("2006-01-02T15:04:05.000000Z"), ActorID: r.ActorID,
		Username: r.Username, Role: r.Role, OrgID: r.OrgID, SessionID: r.SessionID, IP: r.IP,
		UserAgent: r.UserAgent, Action: r.Action, CustomerID: r.CustomerID, Object: r.Object,
		Changes: r.Changes, Reason: r.Reason, Count: r.Count, Outcome: r.Outcome}
	if c.Changes == nil {
		c.Changes = []Change{}
	}
	b, err := json.Marshal(c)
	if err != nil { // cannot happen: only strings and integers
		panic(fmt.Sprintf("audit: canonical form: %v", err))
	}
	return b
}

// ComputeHash returns hex(SHA-256(prev_hash || canonical bytes)), the value
// r.Hash must hold when r follows a record whose hash is r.PrevHash.
func (r Record) ComputeHash() string {
	h := sha256.New()
	h.Write([]byte(r.PrevHash))
	h.Write(r.Canonical())
	return hex.EncodeToString(h.Sum(nil))
}

// EncodeChanges returns the stored JSON form of changes ("[]" when none).
func EncodeChanges(changes []Change) string {
	if len(changes) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(changes)
	return string(b)
}

// DecodeChanges parses stored changes strictly: a member the format does not
// know means the row was edited outside Kehu.
func DecodeChanges(s string) ([]Change, error) {
	if s == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var cs []Change
	if err := dec.Decode(&cs); err != nil {
		return nil, fmt.Errorf("audit changes: %w", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	return cs, nil
}

// DamagedError reports a stored record that cannot even be read back (for
// example its changes are not valid JSON); Verify names it as broken.
type DamagedError struct {
	ID  int64
	Err error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("audit record %d is damaged: %v", e.ID, e.Err)
}

// Unwrap returns the cause.
func (e *DamagedError) Unwrap() error { return e.Err }
