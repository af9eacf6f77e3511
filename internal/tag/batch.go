package tag

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kehu/internal/kehu"
)

// Run statuses of a bank-wide recompute (a kehu batch run).
const (
	RunRunning = kehu.RunRunning
	RunDone    = kehu.RunDone
	RunFailed  = kehu.RunFailed
)

// Run is one bank-wide recompute of the computed tags. Each batch commits
// its tag changes together with AfterID (the last customer done) and the
// counts, so a run that died — killed, the machine restarted, Ctrl-C —
// resumes after its last committed batch. AsOf is the moment the rules are
// evaluated at; a resumed run keeps it, so the whole bank is judged at one
// instant.
type Run struct {
	ID          int64      `json:"id"`
	Status      string     `json:"status"`
	Trigger     string     `json:"trigger"`
	StartedAt   time.Time  `json:"started_at"`
	HeartbeatAt time.Time  `json:"heartbeat_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	AsOf        time.Time  `json:"as_of"`
	AfterID     int64      `json:"after_id"`
	Customers   int64      `json:"customers"`
	Added       int64      `json:"added"`
	Removed     int64      `json:"removed"`
	Changed     int64      `json:"changed"`
	Error       string     `json:"error"`
	// Resumed tells the caller this call continued an earlier run.
	Resumed bool `json:"resumed"`
}

// Windows are how far the active rules look, so a batch reads no more
// than they need: salary credits since Salary, card purchases since Card
// (zero: no such rule), maturities up to MaturesBy (zero: none), and the
// last activity only when a dormancy rule is active.
type Windows struct {
	Salary, Card time.Time
	MaturesBy    kehu.Date
	Activity     bool
}

// Batch is what a bank-wide recompute reads for one batch of customers.
type Batch struct {
	// Facts of the batch's customers (not erased), in id order.
	Facts []Facts
	// Carried are the rule-computed tags they carry: customer → tag → reason.
	Carried map[int64]map[int64]string
}

// Change is one customer's tag change in a batch.
type Change struct {
	CustomerID int64
	Put        []CustomerTag // added or with a new reason
	Delete     []int64       // tag ids taken off
}

// BatchStore is the storage of bank-wide recomputes.
type BatchStore interface {
	// LoadBatch reads up to limit customers with ids above after, with
	// set-based queries bounded by w.
	LoadBatch(ctx context.Context, after int64, limit int, now time.Time, w Windows) (Batch, error)
	// ClaimRun calls start in a transaction in which no other process can
	// claim a run, after refusing (ECONFLICT) while a run is alive: running,
	// with a heartbeat at or after staleBefore (zero: none counts as alive).
	ClaimRun(ctx context.Context, staleBefore time.Time, start func(ctx context.Context) error) error
	// LatestRun returns the newest run, false when there is none.
	LatestRun(ctx context.Context) (Run, bool, error)
	// CreateRun inserts a run and returns it with its id.
	CreateRun(ctx context.Context, r Run) (Run, error)
	// SaveRun writes a run's progress and status.
	SaveRun(ctx context.Context, r Run) error
}

// Defaults of a bank-wide recompute.
const (
	DefaultBatch = 2000
	// resumeWithin: a run older than this is not resumed but started
	// afresh: judging the rest of the bank at yesterday's moment would be
	// wrong.
	resumeWithin = 12 * time.Hour
)

// RunOptions adjust RecomputeBank.
type RunOptions struct {
	Trigger   string // "cli", "nightly"; default "cli"
	Restart   bool   // start afresh even when an unfinished run could resume
	BatchSize int    // customers per batch; default DefaultBatch
}

// RecomputeBank evaluates the computed tags of every customer, batch by
// batch, resuming an unfinished run when there is one (unless o.Restart).
// A batch is read with a handful of set-based queries (not one read per
// customer), evaluated by the same Rule.Eval as the 360 view, and its
// changes are written with the run's progress in one transaction. progress,
// when set, is called after each batch. Only changes are written; running
// it again is harmless. A run whose heartbeat is fresh is another process
// at work: ECONFLICT.
func (s *Service) RecomputeBank(ctx context.Context, o RunOptions, progress func(Run)) (Run, error) {
	bs := s.store
	if o.Trigger == "" {
		o.Trigger = "cli"
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatch
	}
	if _, err := s.EnsureDefaults(ctx); err != nil {
		return Run{}, err
	}
	rules, err := s.rules(ctx)
	if err != nil {
		return Run{}, fmt.Errorf("recompute tags: %w", err)
	}
	run, err := s.startRun(ctx, bs, o)
	if err != nil {
		return run, err
	}
	w := windows(rules, run.AsOf, s.loc)
	for {
		if err := ctx.Err(); err != nil {
			return s.failRun(bs, run, err)
		}
		b, err := bs.LoadBatch(ctx, run.AfterID, o.BatchSize, run.AsOf, w)
		if err != nil {
			return s.failRun(bs, run, err)
		}
		if len(b.Facts) == 0 {
			now := s.clock.Now().UTC()
			run.Status, run.FinishedAt, run.HeartbeatAt = RunDone, &now, now
			if err := bs.SaveRun(context.WithoutCancel(ctx), run); err != nil {
				return run, fmt.Errorf("recompute tags: %w", err)
			}
			return run, nil
		}
		var changes []Change
		for _, f := range b.Facts {
			ch, r := s.diff(rules, f, b.Carried[f.CustomerID], run.AsOf)
			run.Added += int64(r.Added)
			run.Removed += int64(r.Removed)
			run.Changed += int64(r.Changed)
			if len(ch.Put)+len(ch.Delete) > 0 {
				changes = append(changes, ch)
			}
		}
		run.Customers += int64(len(b.Facts))
		run.AfterID = b.Facts[len(b.Facts)-1].CustomerID
		run.HeartbeatAt = s.clock.Now().UTC()
		err = s.tx.WithTx(ctx, func(ctx context.Context) error {
			if err := s.write(ctx, changes); err != nil {
				return err
			}
			return bs.SaveRun(ctx, run)
		})
		if err != nil {
			return s.failRun(bs, run, err)
		}
		if progress != nil {
			progress(run)
		}
	}
}

// startRun claims the run in the store: while another process's run is
// alive it is refused (ECONFLICT), except that o.Restart takes over from it;
// otherwise it resumes the newest unfinished run or creates one.
func (s *Service) startRun(ctx context.Context, bs BatchStore, o RunOptions) (Run, error) {
	now := s.clock.Now().UTC()
	staleBefore := now.Add(-kehu.RunStaleAfter)
	if o.Restart {
		staleBefore = time.Time{}
	}
	var run Run
	err := bs.ClaimRun(ctx, staleBefore, func(ctx context.Context) error {
		var err error
		run, err = s.resumeOrCreate(ctx, bs, o, now)
		return err
	})
	return run, err
}

// resumeOrCreate runs inside the claim: no run is alive, or o.Restart
// takes over.
func (s *Service) resumeOrCreate(ctx context.Context, bs BatchStore, o RunOptions, now time.Time) (Run, error) {
	last, ok, err := bs.LatestRun(ctx)
	if err != nil {
		return Run{}, fmt.Errorf("recompute tags: %w", err)
	}
	if ok && last.Status != RunDone {
		switch {
		case !o.Restart && now.Sub(last.AsOf) < resumeWithin:
			last.Status, last.HeartbeatAt, last.Error, last.Resumed = RunRunning, now, "", true
			if err := bs.SaveRun(ctx, last); err != nil {
				return Run{}, fmt.Errorf("recompute tags: %w", err)
			}
			return last, nil
		default: // superseded: it stays failed, with what it had done
			last.Status, last.Error = RunFailed, "superseded by a new run"
			if err := bs.SaveRun(ctx, last); err != nil {
				return Run{}, fmt.Errorf("recompute tags: %w", err)
			}
		}
	}
	run, err := bs.CreateRun(ctx, Run{Status: RunRunning, Trigger: o.Trigger, StartedAt: now, HeartbeatAt: now,
		AsOf: now.Truncate(time.Microsecond)})
	if err != nil {
		return Run{}, fmt.Errorf("recompute tags: %w", err)
	}
	return run, nil
}

// failRun marks the run failed (resumable) with the error, even when ctx
// was cancelled.
func (s *Service) failRun(bs BatchStore, run Run, cause error) (Run, error) {
	run.Status, run.Error, run.HeartbeatAt = RunFailed, cause.Error(), s.clock.Now().UTC()
	if len(run.Error) > 500 {
		run.Error = run.Error[:500]
	}
	if err := bs.SaveRun(context.Background(), run); err != nil {
		return run, errors.Join(fmt.Errorf("recompute tags: %w", cause), err)
	}
	return run, fmt.Errorf("recompute tags (run %d stopped after customer %d; run again to resume): %w",
		run.ID, run.AfterID, cause)
}

// windows bounds a batch's reads by what the rules look at.
func windows(rules []Tag, now time.Time, loc *time.Location) Windows {
	var w Windows
	for _, t := range rules {
		r := t.Rule
		switch r.Kind {
		case RuleSalaryCredits:
			if since := now.AddDate(0, -r.Months, 0); w.Salary.IsZero() || since.Before(w.Salary) {
				w.Salary = since
			}
		case RuleCardActive:
			if since := now.AddDate(0, 0, -r.Days); w.Card.IsZero() || since.Before(w.Card) {
				w.Card = since
			}
		case RuleMaturing:
			last := kehu.DateOf(kehu.DateOf(now.In(loc)).Time().AddDate(0, 0, r.Days))
			if w.MaturesBy.IsZero() || w.MaturesBy.Time().Before(last.Time()) {
				w.MaturesBy = last
			}
		case RuleDormant:
			w.Activity = true
		}
	}
	return w
}
