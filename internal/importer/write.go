package importer

import (
	"context"
	"errors"

	"kehu/internal/identity"
	"kehu/internal/kehu"
)

// result is what became of one valid row when its batch was applied.
type result struct {
	line      int64
	status    string // identity.Outcome* values
	merged    bool
	suspected int
	customer  int64 // the customer a customers row resolved to (0: rejected)
	column    string
	reason    string
}

// applied is the outcome of applying rows: one result per row, and the
// customers whose AUM may have changed.
type applied struct {
	results []result
	touched []int64
}

// write applies one chunk: validation rejects and in-file repeats are
// reported, the valid rows applied, and the rejects, counts and checkpoint
// stored — all in one transaction, so the checkpoint never runs ahead of
// the data (nor behind it).
func (e *Engine) write(ctx context.Context, st *runState, c *chunk) error {
	delta := Counts{Total: int64(len(c.rows))}
	var rejects []Reject
	var valid []parsed
	inBatch := map[string]int64{}
	for _, p := range c.out {
		if len(p.problems) > 0 {
			for _, pr := range p.problems {
				rejects = append(rejects, Reject{Line: p.line, Column: pr.Column, Reason: pr.Reason})
			}
			delta.Rejected++
			continue
		}
		if p.key != "" {
			line, dup := st.seenAt(p.key)
			if !dup {
				line, dup = inBatch[p.key]
			}
			if dup {
				rejects = append(rejects, Reject{Line: p.line, Column: duplicateColumn[st.job.Kind], Reason: duplicateReason(line)})
				delta.Rejected++
				continue
			}
			inBatch[p.key] = p.line
		}
		valid = append(valid, p)
	}
	last := c.rows[len(c.rows)-1].Line
	res, err := e.commit(ctx, st, valid, delta, rejects, last)
	if err != nil && ctx.Err() == nil {
		if st.initial != nil {
			st.initial.off = true // something unforeseen: from here on, look every key up
		}
		res, err = e.oneByOne(ctx, st, valid, delta, rejects, last)
	}
	if err != nil {
		return err
	}
	if l := st.initial; l != nil && !l.off {
		recs, ids := make([]identity.Incoming, 0, len(valid)), make([]int64, 0, len(valid))
		for i, p := range valid {
			recs, ids = append(recs, p.rec.(identity.Incoming)), append(ids, res.results[i].customer)
		}
		l.committed(recs, ids)
	}
	for i, r := range res.results {
		if r.status != identity.OutcomeRejected {
			st.remember(valid[i].key, r.line)
		}
	}
	st.job.CheckpointLine, st.counts = last, st.pending
	if e.recompute != nil && len(res.touched) > 0 {
		if err := e.recompute(ctx, res.touched); err != nil {
			// The rows are committed; the nightly recompute repairs a level
			// this one failed to set.
			e.log.WarnContext(ctx, "import: recompute after batch", "job", st.job.ID, "err", err)
		}
	}
	return nil
}

// commit applies valid rows and stores the batch's progress in one
// transaction.
func (e *Engine) commit(ctx context.Context, st *runState, valid []parsed, delta Counts, rejects []Reject,
	last int64) (applied, error) {
	var res applied
	err := e.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if res, err = e.applyKind(ctx, st, valid); err != nil {
			return err
		}
		if err := e.afterApply(ctx, res); err != nil {
			return err
		}
		return e.saveProgress(ctx, st, res, delta, rejects, last)
	})
	return res, err
}

// afterApply recomputes AUM and level in the batch's transaction when no
// recompute hook is configured.
func (e *Engine) afterApply(ctx context.Context, res applied) error {
	if e.recompute != nil || len(res.touched) == 0 {
		return nil
	}
	return e.store.RecomputeAUM(ctx, res.touched, e.levelOf)
}

// saveProgress tallies the results and stores counts, rejects and the
// checkpoint; st.counts moves only when the transaction commits (the caller
// sets it from the returned job state).
func (e *Engine) saveProgress(ctx context.Context, st *runState, res applied, delta Counts, rejects []Reject, last int64) error {
	for _, r := range res.results {
		switch r.status {
		case identity.OutcomeRejected:
			delta.Rejected++
			rejects = append(rejects, Reject{Line: r.line, Column: r.column, Reason: r.reason})
			continue
		case identity.OutcomeCreated:
			delta.Created++
		case identity.OutcomeUpdated:
			delta.Updated++
		default:
			delta.Unchanged++
		}
		delta.Accepted++
		if r.merged {
			delta.Merged++
		}
		delta.Suspected += int64(r.suspected)
	}
	total := st.counts
	total.add(delta)
	if err := e.store.SaveProgress(ctx, st.job.ID, Progress{Counts: total, Checkpoint: last, Rejects: rejects,
		At: e.clock.Now()}); err != nil {
		return err
	}
	st.pending = total
	return nil
}

// oneByOne is the fallback when a batch fails as a whole (a constraint a
// concurrent writer tripped, a row the database refuses): each row is
// applied in its own transaction, a row that fails becomes a reject with a
// safe reason, and the batch's progress is stored at the end. Failures
// that are not about a row (the database is gone) stop the job.
func (e *Engine) oneByOne(ctx context.Context, st *runState, valid []parsed, delta Counts, rejects []Reject,
	last int64) (applied, error) {
	var all applied
	internal := 0
	for _, p := range valid {
		var res applied
		err := e.tx.WithTx(ctx, func(ctx context.Context) error {
			var err error
			if res, err = e.applyKind(ctx, st, []parsed{p}); err != nil {
				return err
			}
			return e.afterApply(ctx, res)
		})
		switch {
		case err == nil:
			all.results = append(all.results, res.results...)
			all.touched = append(all.touched, res.touched...)
			internal = 0
			continue
		case ctx.Err() != nil:
			return all, ctx.Err()
		case kehu.ErrorCode(err) == kehu.EINTERNAL || kehu.ErrorCode(err) == kehu.EUNAVAILABLE:
			if internal++; internal >= 3 {
				return all, err
			}
		}
		e.log.WarnContext(ctx, "import: row refused", "job", st.job.ID, "line", p.line, "err", err)
		reason := "could not be stored: " + safeReason(kehu.ErrorMessage(err))
		if kehu.ErrorCode(err) == kehu.EINTERNAL {
			reason = "could not be stored: the database refused the row (see the server log)"
		}
		all.results = append(all.results, result{line: p.line, status: identity.OutcomeRejected, reason: reason})
	}
	err := e.tx.WithTx(ctx, func(ctx context.Context) error {
		return e.saveProgress(ctx, st, all, delta, rejects, last)
	})
	if err != nil {
		return all, err
	}
	return all, nil
}

// applyKind applies valid rows of the job's kind.
func (e *Engine) applyKind(ctx context.Context, st *runState, rows []parsed) (applied, error) {
	if len(rows) == 0 {
		return applied{}, nil
	}
	switch st.job.Kind {
	case KindCustomers:
		return e.applyCustomers(ctx, st, rows)
	case KindAccounts:
		return e.applyAccounts(ctx, st, rows)
	case KindHoldings:
		return e.applyHoldings(ctx, st, rows)
	case KindTransactions:
		return e.applyTransactions(ctx, st, rows)
	case KindRelationships:
		return e.applyRelationships(ctx, st, rows)
	case KindEvents:
		return e.applyEvents(ctx, st, rows)
	}
	return applied{}, errors.New("importer: unknown kind " + st.job.Kind)
}

// applyCustomers resolves customer records through identity.
func (e *Engine) applyCustomers(ctx context.Context, st *runState, rows []parsed) (applied, error) {
	recs := make([]identity.Incoming, len(rows))
	for i, p := range rows {
		recs[i] = p.rec.(identity.Incoming)
	}
	known, err := e.known(ctx, st)
	if err != nil {
		return applied{}, err
	}
	outcomes, err := e.identity.Apply(ctx, identity.Batch{JobID: st.job.ID, SourceSystem: st.job.SourceSystem,
		Records: recs, InScope: st.inScope, Now: e.clock.Now(), Known: known}, st.rules)
	if err != nil {
		return applied{}, err
	}
	if err := e.marked(ctx, st); err != nil {
		return applied{}, err
	}
	res := applied{results: make([]result, len(outcomes))}
	for i, o := range outcomes {
		res.results[i] = result{line: o.Line, status: o.Status, merged: o.Merged, suspected: o.Suspected,
			column: o.Column, reason: o.Reason, customer: o.CustomerID}
	}
	return res, nil
}
