package importer

import (
	"context"
	"fmt"
	"hash/maphash"
	"strings"

	"kehu/internal/customer"
	"kehu/internal/identity"
	"kehu/internal/kehu"
)

// FeedJobName is the file name of a feed's standing job: the incremental
// feeds (internal/ingest) apply records through the same validation and
// upserts as a file import, and the rows they create need a job for their
// idempotency keys. One such job exists per kind and source system; it is
// done from the start, holds no file and is never resumed.
const FeedJobName = "feed"

// FeedJobKey is the file_sha256 that identifies the standing job of a
// feed's kind and source system.
func FeedJobKey(kind, source string) string { return "feed:" + kind + ":" + source }

// IsFeed reports whether j is a feed's standing job rather than the import
// of one file.
func (j Job) IsFeed() bool {
	return j.FileName == FeedJobName && strings.HasPrefix(j.SHA256, "feed:")
}

// FeedOutcome is what became of one record of a feed batch.
type FeedOutcome struct {
	// Status is identity.OutcomeCreated, OutcomeUpdated, OutcomeUnchanged or
	// OutcomeRejected.
	Status string
	// Merged is true for a customer record linked to a customer that
	// already existed.
	Merged bool
	// Problems say why a record was rejected (column and reason, values
	// masked as in a reject report).
	Problems []Problem
}

// ApplyFeed validates the records of a feed batch exactly as rows of an
// import file of job.Kind (canonical column → cell; an absent column is an
// empty cell) and applies the valid ones in the transaction of ctx, as the
// actor in ctx within scope (nil: the whole bank), under job (the feed's
// standing job). A record repeating the subject of an earlier one of the
// batch is rejected, as in a file. It returns one outcome per record, in
// order, and the customers whose accounts or holdings changed: the caller
// recomputes their AUM and level after commit.
func (e *Engine) ApplyFeed(ctx context.Context, job Job, recs []map[string]string,
	scope *customer.ScopeFilter) ([]FeedOutcome, []int64, error) {
	if job.Kind == KindEvents || !ValidKind(job.Kind) {
		return nil, nil, kehu.Errorf(kehu.EINVALID, "no feed of kind %q through the importer", job.Kind)
	}
	st, header, err := e.feedState(ctx, &job, scope)
	if err != nil {
		return nil, nil, err
	}
	out := make([]FeedOutcome, len(recs))
	var valid []parsed
	index := map[int64]int{} // line → record
	first := map[string]int64{}
	for i, rec := range recs {
		cells := make([]string, len(header))
		for j, col := range header {
			cells[j] = rec[col]
		}
		line := int64(i + 1)
		index[line] = i
		p := st.parser.parse(Row{Line: line, Cells: cells}, st.mapping, st.width)
		if len(p.problems) == 0 && p.key != "" {
			if at, dup := first[p.key]; dup {
				p.problems = []Problem{{Column: duplicateColumn[job.Kind], Reason: fmt.Sprintf(
					"repeats the subject of line %d of this batch (the same key): the first one was kept", at)}}
			} else {
				first[p.key] = line
			}
		}
		if len(p.problems) > 0 {
			out[i] = FeedOutcome{Status: identity.OutcomeRejected, Problems: p.problems}
			continue
		}
		valid = append(valid, p)
	}
	res, err := e.applyKind(ctx, st, valid)
	if err != nil {
		return nil, nil, err
	}
	if err := e.afterApply(ctx, res); err != nil {
		return nil, nil, err
	}
	for _, r := range res.results {
		o := FeedOutcome{Status: r.status, Merged: r.merged}
		if r.status == identity.OutcomeRejected {
			o.Problems = []Problem{{Column: r.column, Reason: r.reason}}
		}
		out[index[r.line]] = o
	}
	return out, res.touched, nil
}

// feedState prepares a run without a file: every canonical column of the
// kind, in order, is the batch's header.
func (e *Engine) feedState(ctx context.Context, job *Job, scope *customer.ScopeFilter) (*runState, []string, error) {
	refs, err := e.store.Refs(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !refs.Sources[job.SourceSystem] {
		return nil, nil, kehu.Errorf(kehu.EINVALID, "unknown source system %q", job.SourceSystem)
	}
	cols := ColumnsOf(job.Kind)
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.Name
	}
	m, err := SuggestMapping(job.Kind, header, nil)
	if err != nil {
		return nil, nil, err
	}
	now := e.clock.Now()
	st := &runState{job: job, mapping: m, width: len(header), scope: scope, seen: map[uint64]int64{},
		seed: maphash.MakeSeed()}
	st.parser = &parser{kind: job.Kind, source: job.SourceSystem, refs: refs, seal: e.seal, loc: kehu.LoadShanghai(),
		now: now, asOf: now, nameKey: e.nameKey}
	if scope != nil && !scope.Unrestricted() {
		s := *scope
		st.parser.orgInScope = func(o OrgRef) bool { return s.Allows(o.ID, o.Path, nil) }
	}
	if job.Kind == KindCustomers {
		if st.rules, err = e.identity.Rules(ctx); err != nil {
			return nil, nil, err
		}
	}
	return st, header, nil
}
