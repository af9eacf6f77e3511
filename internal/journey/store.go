package journey

import (
	"context"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Sources the engine reads by id, each with its cursor.
const (
	SourceTransactions = "transactions"
	SourceEvents       = "channel_events"
	SourceLevels       = "level_changes"
)

// Txn is a stored transaction as the engine reads it.
type Txn struct {
	ID           int64
	CustomerID   int64
	OccurredAt   time.Time
	Amount       int64 // fen, credit positive
	Kind         string
	Description  string
	Counterparty string
}

// Event is a stored branch visit as the engine reads it.
type Event struct {
	ID         int64
	CustomerID int64
	Kind       string
	OccurredAt time.Time
	// OutletOrgID is the organisation of the detail's "outlet" code (0
	// when the event names none Kehu knows).
	OutletOrgID int64
}

// LevelChangeRow is one row of the level-change history.
type LevelChangeRow struct {
	ID         int64
	CustomerID int64
	From, To   string
	ChangedAt  time.Time
}

// Holding is a time deposit or a wealth, fund or insurance holding maturing
// soon.
type Holding struct {
	// Ref names it: "account:<id>" (a time deposit) or "holding:<id>".
	Ref         string
	CustomerID  int64
	ProductID   int64
	ProductName string
	Amount      int64
	MaturesOn   kehu.Date
}

// Birth is a customer's birth date and birthday calendar.
type Birth struct {
	CustomerID int64
	BirthDate  kehu.Date
	Lunar      bool
}

// Who is what a task or lead needs of a customer.
type Who struct {
	OwnerID int64 // 0 for none
	OrgID   int64
}

// FiringFilter narrows the firings list.
type FiringFilter struct {
	JourneyID int64
	Scope     customer.ScopeFilter
	Before    int64 // keyset: firings with a smaller id (newest first)
	Limit     int
}

// Store keeps journeys, firings and cursors, and reads what triggers need.
type Store interface {
	ListJourneys(ctx context.Context) ([]Journey, error)
	// GetJourney returns ENOTFOUND for an unknown id.
	GetJourney(ctx context.Context, id int64) (Journey, error)
	// CreateJourney inserts the journey and its version 1; ECONFLICT when
	// the name is taken.
	CreateJourney(ctx context.Context, j Journey) (Journey, error)
	// UpdateJourney stores j (its Version already incremented) and the new
	// version row.
	UpdateJourney(ctx context.Context, j Journey) error
	SetStatus(ctx context.Context, id int64, status string, by int64, at time.Time) error
	Versions(ctx context.Context, id int64) ([]Version, error)
	ListFirings(ctx context.Context, f FiringFilter) ([]Firing, error)
	// ResultCounts counts a journey's firings, actions, messages and
	// conversions (ResultsQuery says which).
	ResultCounts(ctx context.Context, q ResultsQuery) (Counts, error)

	// Cursor returns a source's position, false when none is stored.
	Cursor(ctx context.Context, source string) (int64, bool, error)
	SetCursor(ctx context.Context, source string, pos int64, at time.Time) error
	MaxID(ctx context.Context, source string) (int64, error)
	// TransactionsIn returns the credits with after < id <= upto.
	TransactionsIn(ctx context.Context, after, upto int64) ([]Txn, error)
	// BranchVisitsIn returns the branch visits with after < id <= upto.
	BranchVisitsIn(ctx context.Context, after, upto int64) ([]Event, error)
	LevelChangesIn(ctx context.Context, after, upto int64) ([]LevelChangeRow, error)
	// InflowBetween sums the customer's credits from since to until
	// (inclusive) with an id up to uptoID.
	InflowBetween(ctx context.Context, customerID int64, since, until time.Time, uptoID int64) (int64, error)
	// ViewedNotBought returns the products the customer viewed at or after
	// since and before before and acquired no holding of since the view.
	ViewedNotBought(ctx context.Context, customerID int64, since, before time.Time) ([]int64, error)
	// LastFiring returns the customer's latest firing of a journey.
	LastFiring(ctx context.Context, journeyID, customerID int64) (time.Time, bool, error)
	// FiredRefs returns the refs the journey already fired on for these
	// customers, keyed "<customer id> <ref>".
	FiredRefs(ctx context.Context, journeyID int64, customerIDs []int64) (map[string]bool, error)
	// InsertFiring stores f unless (journey, customer, ref) is stored;
	// false for a replay. It sets f.ID.
	InsertFiring(ctx context.Context, f *Firing) (bool, error)
	// SaveOutcomes stores the outcomes of a firing.
	SaveOutcomes(ctx context.Context, f Firing) error
	Who(ctx context.Context, customerID int64) (Who, error)
	ProductName(ctx context.Context, id int64) (string, error)

	// MaturingHoldings returns the open time deposits (accounts) and the
	// holdings of the product types with a positive amount maturing from
	// from to to (Shanghai dates, inclusive), of active customers.
	MaturingHoldings(ctx context.Context, from, to kehu.Date, types []string) ([]Holding, error)
	// Births returns active customers with a birth date, after the id
	// after, up to limit.
	Births(ctx context.Context, after int64, limit int) ([]Birth, error)
	// Dormant returns active customers created before since with no login
	// event and no transaction at or after since, after the id after.
	Dormant(ctx context.Context, since time.Time, after int64, limit int) ([]int64, error)
}
