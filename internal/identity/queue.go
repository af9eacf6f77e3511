package identity

import (
	"context"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Suspected-duplicate statuses (duplicate_candidates.status).
const (
	DupPending   = "pending"   // waiting for a person to decide
	DupMerged    = "merged"    // the two were merged (internal/identity merge)
	DupDismissed = "dismissed" // two different people: never suggested again
)

// Candidate is a queued pair of customers that may be the same person.
// CustomerID < OtherID. It holds ids and the matching rule, never personal
// values: whoever reviews the pair reads the two customers through
// customer.Service, audited.
type Candidate struct {
	ID         int64      `json:"id"`
	CustomerID int64      `json:"customer_id"`
	OtherID    int64      `json:"other_id"`
	Rule       string     `json:"rule"`
	Score      int        `json:"score"`
	Evidence   []string   `json:"evidence"`
	Status     string     `json:"status"`
	JobID      int64      `json:"job_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	DecidedBy  *int64     `json:"decided_by,omitempty"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
}

// DuplicateFilter selects queued pairs: by status ("" for every status),
// newest first from Before (an id; 0 = from the newest), both customers in
// Scope (set by Queue from the actor).
type DuplicateFilter struct {
	Status string
	Before int64
	Limit  int
	Scope  customer.ScopeFilter
}

// Queue is the read side of the suspected-duplicate queue: the list a
// reviewer works through and one pair. A pair is visible only when both
// customers are in the actor's read scope, so nobody learns of a customer
// they may not see. Merging and dismissing are built on it (merge.go).
type Queue struct {
	store     Store
	customers *customer.Service
}

// NewQueue returns the queue over store, scoped through customers.
func NewQueue(store Store, customers *customer.Service) *Queue {
	return &Queue{store: store, customers: customers}
}

// List returns a page of pairs, newest first, and the cursor (the last id)
// for the next page (0 when there is none).
func (q *Queue) List(ctx context.Context, f DuplicateFilter) ([]Candidate, int64, error) {
	switch f.Status {
	case "", DupPending, DupMerged, DupDismissed:
	default:
		return nil, 0, kehu.Errorf(kehu.EINVALID, "status must be pending, merged or dismissed")
	}
	scope, err := q.customers.ReadScope(ctx)
	if err != nil {
		return nil, 0, err
	}
	f.Scope = scope
	f.Limit = kehu.ClampLimit(f.Limit)
	want := f.Limit
	f.Limit++
	items, err := q.store.Duplicates(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	next := int64(0)
	if len(items) > want {
		items = items[:want]
		next = items[want-1].ID
	}
	return items, next, nil
}

// Get returns one pair, ENOTFOUND unless both customers are in scope.
func (q *Queue) Get(ctx context.Context, id int64) (Candidate, error) {
	scope, err := q.customers.ReadScope(ctx)
	if err != nil {
		return Candidate{}, err
	}
	return q.store.Duplicate(ctx, id, scope)
}
