package identity

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Merge statuses.
const (
	MergeDone   = "merged" // the merged customer is a tombstone pointing at the survivor
	MergeUndone = "undone" // everything the merge moved went back
)

// StatusMerged is the status of a merged customer (a tombstone); undo gives
// it back the status it had.
const StatusMerged = "merged"

// Audit actions of the duplicate review. One record per request: a merge
// records the tombstone's and the survivor's changes (old → new) and how
// many rows of each table moved.
const (
	AuditDuplicateList = "duplicate.list"    // the queue was shown; Count is the customers shown
	AuditDuplicateRead = "duplicate.read"    // one pair was shown side by side
	AuditDismiss       = "duplicate.dismiss" // a pair declared two different customers
	AuditMerge         = "customer.merge"    // CustomerID is the survivor
	AuditUnmerge       = "customer.unmerge"  // a merge undone; CustomerID is the survivor
	AuditMergeList     = "merge.list"        // the merge log was shown
)

// MergeFields are the survivor's fields a merge fills from the merged
// customer when the survivor has no value: the survivor's values always win,
// and name and identity document never change. The filled fields' provenance
// goes with them.
var MergeFields = []string{FieldMobile, FieldEmail, FieldAddress, FieldGender, FieldBirthDate, FieldRisk,
	FieldIndustry, FieldRegisteredCapital}

// Merge is one merge of the merge log.
type Merge struct {
	ID          int64  `json:"id"`
	SurvivorID  int64  `json:"survivor_id"`
	MergedID    int64  `json:"merged_id"`
	CandidateID *int64 `json:"candidate_id"`
	Status      string `json:"status"`
	Reason      string `json:"reason"`
	// Fields are the survivor's fields the merge filled (MergeFields).
	Fields []string `json:"fields"`
	// Moved counts the rows the merge moved or created, by table.
	Moved      map[string]int `json:"moved"`
	MergedBy   int64          `json:"merged_by"`
	MergedAt   time.Time      `json:"merged_at"`
	UndoneBy   *int64         `json:"undone_by"`
	UndoneAt   *time.Time     `json:"undone_at"`
	UndoReason string         `json:"undo_reason"`
	// MergedStatus and the update times are what the two customer rows
	// held before the merge; undo puts them back.
	MergedStatus      string    `json:"-"`
	MergedUpdatedAt   time.Time `json:"-"`
	SurvivorUpdatedAt time.Time `json:"-"`
}

// Subject is a customer of a pair as a reviewer compares it: the record in
// clear (masked later, by customer.Present), the survivor it was merged into
// (0 if none) and how many rows of each table it has.
type Subject struct {
	Customer   customer.Customer
	MergedInto int64
	Records    map[string]int
}

// MergeFilter selects merges, newest first, both customers in Scope.
type MergeFilter struct {
	CustomerID int64 // survivor or merged; 0 for any
	Before     int64
	Limit      int
	Scope      customer.ScopeFilter
}

// MergeStore is the storage merges need; writes run in the caller's
// transaction.
type MergeStore interface {
	// Subjects loads customers in clear with their tombstone pointer and
	// row counts; ids that do not exist are absent.
	Subjects(ctx context.Context, ids []int64) (map[int64]Subject, error)
	// DecideDuplicate moves a pair from status from to status to; false
	// when the pair is not in status from.
	DecideDuplicate(ctx context.Context, id int64, from, to string, by int64, at time.Time) (bool, error)
	// MergeCustomers makes m.MergedID a tombstone of m.SurvivorID, moves
	// its rows, fills m.Fields, and records everything in the merge log; it
	// sets m.ID and m.Moved. ECONFLICT when either customer is merged.
	MergeCustomers(ctx context.Context, m *Merge) error
	// UndoMerge moves back what merge m moved and restores both customer
	// rows; ECONFLICT when m is not undoable.
	UndoMerge(ctx context.Context, m *Merge) error
	// GetMerge returns a merge whose two customers lie in scope.
	GetMerge(ctx context.Context, id int64, scope customer.ScopeFilter) (Merge, error)
	// ListMerges returns merges matching f, newest first.
	ListMerges(ctx context.Context, f MergeFilter) ([]Merge, error)
}

// DuplicateReader reads the suspected-duplicate queue (the identity Store).
type DuplicateReader interface {
	Duplicates(ctx context.Context, f DuplicateFilter) ([]Candidate, error)
	Duplicate(ctx context.Context, id int64, scope customer.ScopeFilter) (Candidate, error)
}

// MergerDeps are the collaborators of a Merger.
type MergerDeps struct {
	Store      MergeStore
	Duplicates DuplicateReader
	Customers  *customer.Service
	Tx         kehu.Transactor
	Audit      audit.Recorder
	Clock      kehu.Clock
	// Recompute is told the two customers after a merge or undo commits
	// (the level engine recomputes AUM and level); nil does nothing.
	Recompute func(ctx context.Context, ids []int64) error
}

// Merger is the human side of identity resolution: reviewers list the
// suspected duplicates in their scope, merge a pair into the survivor they
// choose, dismiss a pair as two people, and undo a merge.
type Merger struct{ d MergerDeps }

// NewMerger returns a Merger; every dependency but Recompute is required.
func NewMerger(d MergerDeps) *Merger {
	if d.Store == nil || d.Duplicates == nil || d.Customers == nil || d.Tx == nil || d.Audit == nil {
		panic("identity.NewMerger: Store, Duplicates, Customers, Tx and Audit are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Merger{d: d}
}

// reviewScope is the scope a reviewer merges in: their own data scope, never
// widened by an access grant (a grant is for serving a customer, not for
// rewriting its records). It needs customer.merge.
func (m *Merger) reviewScope(ctx context.Context) (customer.ScopeFilter, kehu.Actor, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return customer.ScopeFilter{}, a, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, access.CustomerMerge) {
		return customer.ScopeFilter{}, a, kehu.Errorf(kehu.EFORBIDDEN, "your role may not review duplicates")
	}
	scope, err := m.d.Customers.ReadScope(ctx)
	scope.GrantedTo, scope.Now = 0, time.Time{}
	return scope, a, err
}

// Merge merges the pair's other customer into survivorID (one of the two),
// recording the merge in the log and the audit trail, and marks the pair
// merged. Both customers must be in the reviewer's scope (ENOTFOUND); a pair
// already decided, or a customer already merged, is ECONFLICT.
func (m *Merger) Merge(ctx context.Context, candidateID, survivorID int64, reason string) (Merge, error) {
	scope, a, err := m.reviewScope(ctx)
	if err != nil {
		return Merge{}, err
	}
	c, err := m.d.Duplicates.Duplicate(ctx, candidateID, scope)
	if err != nil {
		return Merge{}, err
	}
	mergedID := c.OtherID
	switch survivorID {
	case c.CustomerID:
	case c.OtherID:
		mergedID = c.CustomerID
	default:
		return Merge{}, invalid("survivor_id", fmt.Sprintf("must be %d or %d, the two customers of the pair", c.CustomerID, c.OtherID))
	}
	if reason, err = checkReason(reason, false); err != nil {
		return Merge{}, err
	}
	if c.Status != DupPending {
		return Merge{}, kehu.Errorf(kehu.ECONFLICT, "this pair was already %s", c.Status)
	}
	now := m.d.Clock.Now()
	mg := Merge{SurvivorID: survivorID, MergedID: mergedID, CandidateID: &candidateID, Status: MergeDone,
		Reason: reason, MergedBy: a.UserID, MergedAt: now}
	err = m.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		subjects, err := m.d.Store.Subjects(ctx, []int64{survivorID, mergedID})
		if err != nil {
			return err
		}
		survivor, merged := subjects[survivorID], subjects[mergedID]
		for _, s := range []Subject{survivor, merged} {
			if s.MergedInto != 0 {
				return kehu.Errorf(kehu.ECONFLICT, "customer %d was already merged into customer %d", s.Customer.ID, s.MergedInto)
			}
		}
		for _, s := range []Subject{survivor, merged} {
			if s.Customer.Status == customer.StatusErased {
				return kehu.Errorf(kehu.ECONFLICT, "customer %d was erased on a data-subject request: it is not merged",
					s.Customer.ID)
			}
		}
		if survivor.Customer.Type != merged.Customer.Type {
			return invalid("survivor_id", "an individual and a company cannot be merged")
		}
		if ok, err := m.d.Store.DecideDuplicate(ctx, candidateID, DupPending, DupMerged, a.UserID, now); err != nil || !ok {
			return cmpErr(err, kehu.Errorf(kehu.ECONFLICT, "this pair was decided meanwhile"))
		}
		mg.Fields = fillable(survivor.Customer, merged.Customer)
		if err := m.d.Store.MergeCustomers(ctx, &mg); err != nil {
			return err
		}
		return m.d.Audit.Record(ctx, audit.Entry{Action: AuditMerge, CustomerID: survivorID, Object: mergeObject(mg.ID),
			Reason: reason, Changes: mergeChanges(mg, survivor.Customer, merged.Customer)})
	})
	if err != nil {
		return Merge{}, err
	}
	m.recompute(ctx, mg)
	return mg, nil
}

// Undo moves back everything merge id moved and restores both customers and
// the pair (pending again, for a new decision). An undone merge, or one whose
// survivor has been merged since, is ECONFLICT.
func (m *Merger) Undo(ctx context.Context, id int64, reason string) (Merge, error) {
	scope, a, err := m.reviewScope(ctx)
	if err != nil {
		return Merge{}, err
	}
	if reason, err = checkReason(reason, true); err != nil {
		return Merge{}, err
	}
	var mg Merge
	err = m.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if mg, err = m.d.Store.GetMerge(ctx, id, scope); err != nil {
			return err
		}
		if mg.Status == MergeUndone {
			return kehu.Errorf(kehu.ECONFLICT, "merge %d was already undone", id)
		}
		now := m.d.Clock.Now()
		mg.Status, mg.UndoneBy, mg.UndoneAt, mg.UndoReason = MergeUndone, &a.UserID, &now, reason
		if err := m.d.Store.UndoMerge(ctx, &mg); err != nil {
			return err
		}
		if mg.CandidateID != nil {
			if _, err := m.d.Store.DecideDuplicate(ctx, *mg.CandidateID, DupMerged, DupPending, a.UserID, now); err != nil {
				return err
			}
		}
		return m.d.Audit.Record(ctx, audit.Entry{Action: AuditUnmerge, CustomerID: mg.SurvivorID, Object: mergeObject(mg.ID),
			Reason: reason, Changes: unmergeChanges(mg)})
	})
	if err != nil {
		return Merge{}, err
	}
	m.recompute(ctx, mg)
	return mg, nil
}

// Dismiss records that the pair are two different customers: the pair is
// never suggested again (the queue keeps it, dismissed).
func (m *Merger) Dismiss(ctx context.Context, candidateID int64, reason string) (Candidate, error) {
	scope, a, err := m.reviewScope(ctx)
	if err != nil {
		return Candidate{}, err
	}
	c, err := m.d.Duplicates.Duplicate(ctx, candidateID, scope)
	if err != nil {
		return Candidate{}, err
	}
	if reason, err = checkReason(reason, true); err != nil {
		return Candidate{}, err
	}
	if c.Status != DupPending {
		return Candidate{}, kehu.Errorf(kehu.ECONFLICT, "this pair was already %s", c.Status)
	}
	now := m.d.Clock.Now()
	err = m.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		if ok, err := m.d.Store.DecideDuplicate(ctx, candidateID, DupPending, DupDismissed, a.UserID, now); err != nil || !ok {
			return cmpErr(err, kehu.Errorf(kehu.ECONFLICT, "this pair was decided meanwhile"))
		}
		return m.d.Audit.Record(ctx, audit.Entry{Action: AuditDismiss, CustomerID: c.CustomerID,
			Object: "duplicate:" + strconv.FormatInt(c.ID, 10), Reason: reason,
			Changes: []audit.Change{{Field: "status", Old: DupPending, New: DupDismissed},
				{Field: "customers", New: fmt.Sprintf("%d,%d", c.CustomerID, c.OtherID)}}})
	})
	if err != nil {
		return Candidate{}, err
	}
	c.Status, c.DecidedBy, c.DecidedAt = DupDismissed, &a.UserID, &now
	return c, nil
}

// recompute tells the level engine after commit; a failure there does not
// undo the merge (the nightly run recomputes anyway).
func (m *Merger) recompute(ctx context.Context, mg Merge) {
	if m.d.Recompute != nil {
		_ = m.d.Recompute(context.WithoutCancel(ctx), []int64{mg.SurvivorID, mg.MergedID})
	}
}

func mergeObject(id int64) string { return "merge:" + strconv.FormatInt(id, 10) }

// checkReason trims a reviewer's reason: at most 500 characters, and
// present when required (undoing a merge and dismissing a pair need one; a
// merge may rest on the evidence shown).
func checkReason(reason string, required bool) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case required && reason == "":
		return "", invalid("reason", "is required")
	case len([]rune(reason)) > 500:
		return "", invalid("reason", "must have at most 500 characters")
	}
	return reason, nil
}

func invalid(field, reason string) error {
	return &kehu.Error{Code: kehu.EINVALID, Message: "validation failed", Fields: []kehu.FieldError{{Field: field, Reason: reason}}}
}

// cmpErr returns err, or alt when err is nil.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// fillable lists the MergeFields the survivor lacks and the merged customer
// has.
func fillable(survivor, merged customer.Customer) []string {
	var out []string
	for _, f := range MergeFields {
		if fieldText(survivor, f) == "" && fieldText(merged, f) != "" {
			out = append(out, f)
		}
	}
	return out
}

// filled returns survivor with the fields copied from merged, as the merge
// fills them; only the clear values matter here (the audit record's diff),
// so the sealed forms are left out.
func filled(survivor, merged customer.Customer, fields []string) customer.Customer {
	out := survivor
	for _, f := range fields {
		setField(&out, &Sealed{}, merged, Sealed{}, f)
	}
	return out
}

// mergeChanges describes a merge for its audit record: the tombstone, the
// survivor's filled fields (old → new, masked by the audit log) and the rows
// moved per table.
func mergeChanges(mg Merge, survivor, merged customer.Customer) []audit.Change {
	changes := []audit.Change{
		{Field: "merged_customer", New: strconv.FormatInt(mg.MergedID, 10)},
		{Field: "merged_into", New: strconv.FormatInt(mg.SurvivorID, 10)},
		{Field: "merged_status", Old: merged.Status, New: StatusMerged},
	}
	changes = append(changes, customer.DiffChanges(survivor, filled(survivor, merged, mg.Fields))...)
	return append(changes, movedChanges(mg.Moved)...)
}

func unmergeChanges(mg Merge) []audit.Change {
	changes := []audit.Change{
		{Field: "merged_customer", New: strconv.FormatInt(mg.MergedID, 10)},
		{Field: "merged_into", Old: strconv.FormatInt(mg.SurvivorID, 10)},
		{Field: "merged_status", Old: StatusMerged, New: mg.MergedStatus},
	}
	if len(mg.Fields) > 0 {
		changes = append(changes, audit.Change{Field: "unfilled_fields", New: strings.Join(mg.Fields, ",")})
	}
	return append(changes, movedChanges(mg.Moved)...)
}

// movedChanges lists per table how many rows moved, tables in name order.
func movedChanges(moved map[string]int) []audit.Change {
	tables := make([]string, 0, len(moved))
	for t := range moved {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	out := make([]audit.Change, 0, len(tables))
	for _, t := range tables {
		out = append(out, audit.Change{Field: "moved." + t, New: strconv.Itoa(moved[t])})
	}
	return out
}
