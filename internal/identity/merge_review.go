package identity

import (
	"context"
	"strconv"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Pair is a suspected-duplicate pair as a reviewer compares it: the queue
// entry and its two customers side by side (customer_id first), masked for
// the reviewer's role.
type Pair struct {
	Candidate
	Subjects [2]Subject
}

// MergeView is a merge of the log with the names of its two customers as
// the reviewer may see them.
type MergeView struct {
	Merge
	SurvivorName string
	MergedName   string
}

// Pairs returns a page of the queue in the reviewer's scope (status ""
// for every status), newest first, and the cursor of the next page (0 at
// the end). One audit record covers the page.
func (m *Merger) Pairs(ctx context.Context, f DuplicateFilter) ([]Pair, int64, error) {
	pairs, next, _, err := m.Review(ctx, f, 0)
	return pairs, next, err
}

// Review is the review page: a page of the queue and the latest merges
// (at most merges of them), with one audit record for everything shown.
func (m *Merger) Review(ctx context.Context, f DuplicateFilter, merges int) ([]Pair, int64, []MergeView, error) {
	switch f.Status {
	case "", DupPending, DupMerged, DupDismissed:
	default:
		return nil, 0, nil, invalid("status", "must be pending, merged or dismissed")
	}
	scope, _, err := m.reviewScope(ctx)
	if err != nil {
		return nil, 0, nil, err
	}
	f.Scope, f.Limit = scope, kehu.ClampLimit(f.Limit)
	want := f.Limit
	f.Limit++
	cands, err := m.d.Duplicates.Duplicates(ctx, f)
	if err != nil {
		return nil, 0, nil, err
	}
	next := int64(0)
	if len(cands) > want {
		cands, next = cands[:want], cands[want-1].ID
	}
	pairs, err := m.pairs(ctx, cands)
	if err != nil {
		return nil, 0, nil, err
	}
	var views []MergeView
	if merges > 0 {
		if views, _, err = m.mergePage(ctx, MergeFilter{Scope: scope, Limit: merges}); err != nil {
			return nil, 0, nil, err
		}
	}
	err = m.d.Audit.Record(ctx, audit.Entry{Action: AuditDuplicateList, Object: "duplicates",
		Count: 2*len(pairs) + 2*len(views)})
	return pairs, next, views, err
}

// Pair returns one pair with both customers in the reviewer's scope.
func (m *Merger) Pair(ctx context.Context, id int64) (Pair, error) {
	scope, _, err := m.reviewScope(ctx)
	if err != nil {
		return Pair{}, err
	}
	c, err := m.d.Duplicates.Duplicate(ctx, id, scope)
	if err != nil {
		return Pair{}, err
	}
	pairs, err := m.pairs(ctx, []Candidate{c})
	if err != nil {
		return Pair{}, err
	}
	err = m.d.Audit.Record(ctx, audit.Entry{Action: AuditDuplicateRead, CustomerID: c.CustomerID,
		Object: "duplicate:" + strconv.FormatInt(id, 10), Count: 2})
	return pairs[0], err
}

// pairs loads and masks the customers of the candidates.
func (m *Merger) pairs(ctx context.Context, cands []Candidate) ([]Pair, error) {
	ids := make([]int64, 0, 2*len(cands))
	for _, c := range cands {
		ids = append(ids, c.CustomerID, c.OtherID)
	}
	subjects, err := m.d.Store.Subjects(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Pair, len(cands))
	for i, c := range cands {
		out[i] = Pair{Candidate: c, Subjects: [2]Subject{presented(ctx, subjects[c.CustomerID]), presented(ctx, subjects[c.OtherID])}}
	}
	return out, nil
}

func presented(ctx context.Context, s Subject) Subject {
	s.Customer = customer.Present(ctx, s.Customer)
	return s
}

// Merges returns a page of the merge log (both customers in the reviewer's
// scope), newest first, and the cursor of the next page.
func (m *Merger) Merges(ctx context.Context, f MergeFilter) ([]MergeView, int64, error) {
	scope, _, err := m.reviewScope(ctx)
	if err != nil {
		return nil, 0, err
	}
	f.Scope = scope
	views, next, err := m.mergePage(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	err = m.d.Audit.Record(ctx, audit.Entry{Action: AuditMergeList, CustomerID: f.CustomerID, Object: "merges",
		Count: 2 * len(views)})
	return views, next, err
}

// mergePage reads a page of the merge log within f.Scope, unaudited.
func (m *Merger) mergePage(ctx context.Context, f MergeFilter) ([]MergeView, int64, error) {
	f.Limit = kehu.ClampLimit(f.Limit)
	want := f.Limit
	f.Limit++
	merges, err := m.d.Store.ListMerges(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	next := int64(0)
	if len(merges) > want {
		merges, next = merges[:want], merges[want-1].ID
	}
	views, err := m.views(ctx, merges)
	return views, next, err
}

// MergeByID returns one merge of the log in the reviewer's scope.
func (m *Merger) MergeByID(ctx context.Context, id int64) (MergeView, error) {
	scope, _, err := m.reviewScope(ctx)
	if err != nil {
		return MergeView{}, err
	}
	mg, err := m.d.Store.GetMerge(ctx, id, scope)
	if err != nil {
		return MergeView{}, err
	}
	views, err := m.views(ctx, []Merge{mg})
	if err != nil {
		return MergeView{}, err
	}
	err = m.d.Audit.Record(ctx, audit.Entry{Action: AuditMergeList, CustomerID: mg.SurvivorID, Object: mergeObject(id), Count: 2})
	return views[0], err
}

func (m *Merger) views(ctx context.Context, merges []Merge) ([]MergeView, error) {
	ids := make([]int64, 0, 2*len(merges))
	for _, mg := range merges {
		ids = append(ids, mg.SurvivorID, mg.MergedID)
	}
	subjects, err := m.d.Store.Subjects(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]MergeView, len(merges))
	for i, mg := range merges {
		out[i] = MergeView{Merge: mg, SurvivorName: presented(ctx, subjects[mg.SurvivorID]).Customer.Name,
			MergedName: presented(ctx, subjects[mg.MergedID]).Customer.Name}
	}
	return out, nil
}
