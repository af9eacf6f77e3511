package audit

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"kehu/internal/access"
	"kehu/internal/kehu"
)

// Actions about the trail itself: reading the trail is as sensitive as the
// data it describes, so it is recorded too.
const (
	AuditSearch = "audit.search"
	AuditExport = "audit.export"
	AuditPurge  = "audit.purge"
)

// MaxExport bounds one export so a single request cannot stream the whole
// trail; narrow the filter (a date range) for more.
const MaxExport = 100000

// Filter selects records. Zero values match everything.
type Filter struct {
	CustomerID int64
	Actor      string // username, exact
	Action     string
	From       time.Time // inclusive
	To         time.Time // exclusive
	Limit      int
	After      kehu.Cursor // page after this record (pages run newest first)
}

// describe renders f for the audit record of a search, without the paging.
func (f Filter) describe() string {
	v := url.Values{}
	if f.CustomerID != 0 {
		v.Set("customer_id", strconv.FormatInt(f.CustomerID, 10))
	}
	if f.Actor != "" {
		v.Set("actor", f.Actor)
	}
	if f.Action != "" {
		v.Set("action", f.Action)
	}
	if !f.From.IsZero() {
		v.Set("from", f.From.UTC().Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		v.Set("to", f.To.UTC().Format(time.RFC3339))
	}
	return "audit?" + v.Encode()
}

// Page is one page of search results, newest first.
type Page struct {
	Items      []Record
	NextCursor kehu.Cursor
}

// authorise refuses actors without audit.read, recording a refused attempt
// as action with outcome "denied": probing the trail is itself worth review.
func (l *Log) authorise(ctx context.Context, action string, f Filter) error {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, access.AuditRead) {
		if err := l.Record(ctx, Entry{Action: action, Object: f.describe(), Outcome: "denied"}); err != nil {
			return err
		}
		return kehu.Errorf(kehu.EFORBIDDEN, "your role may not read the audit trail")
	}
	return nil
}

// Search returns a page of records matching f. Only auditors and admins may
// search, and each search is itself recorded.
func (l *Log) Search(ctx context.Context, f Filter) (Page, error) {
	if err := l.authorise(ctx, AuditSearch, f); err != nil {
		return Page{}, err
	}
	limit := kehu.ClampLimit(f.Limit)
	rs, err := l.store.SearchRecords(ctx, f, limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("search audit: %w", err)
	}
	p := Page{Items: rs}
	if len(rs) > limit {
		p.Items = rs[:limit]
		p.NextCursor = kehu.Cursor{AfterID: p.Items[limit-1].ID}
	}
	if err := l.Record(ctx, Entry{Action: AuditSearch, CustomerID: f.CustomerID, Object: f.describe(),
		Count: len(p.Items)}); err != nil {
		return Page{}, err
	}
	return p, nil
}

// Export calls fn for every record matching f (newest first, at most
// MaxExport) and records the export with its row count. fn typically writes
// CSV; the record is written after the rows, so it says what was sent.
func (l *Log) Export(ctx context.Context, f Filter, fn func(Record) error) error {
	if err := l.authorise(ctx, AuditExport, f); err != nil {
		return err
	}
	n := 0
	for n < MaxExport {
		rs, err := l.store.SearchRecords(ctx, f, kehu.MaxPageSize)
		if err != nil {
			return fmt.Errorf("export audit: %w", err)
		}
		for _, r := range rs {
			if n == MaxExport {
				break
			}
			if err := fn(r); err != nil {
				return err
			}
			n++
		}
		if len(rs) < kehu.MaxPageSize {
			break
		}
		f.After = kehu.Cursor{AfterID: rs[len(rs)-1].ID}
	}
	return l.Record(ctx, Entry{Action: AuditExport, CustomerID: f.CustomerID, Object: f.describe(), Count: n})
}
