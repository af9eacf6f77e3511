package level

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// Run statuses (a recompute is a kehu batch run).
const (
	RunRunning = kehu.RunRunning
	RunDone    = kehu.RunDone
	RunFailed  = kehu.RunFailed
)

// Run is one batch recompute of every customer.
type Run struct {
	ID          int64      `json:"id"`
	Trigger     string     `json:"trigger"`
	Status      string     `json:"status"`
	RuleVersion int        `json:"rule_version"`
	StartedBy   *int64     `json:"started_by"`
	StartedAt   time.Time  `json:"started_at"`
	HeartbeatAt time.Time  `json:"heartbeat_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	Customers   int64      `json:"customers"`
	Changed     int64      `json:"changed"`
	Error       string     `json:"error"`
}

// Result is what a recompute of some customers did.
type Result struct {
	Customers int `json:"customers"`
	Changed   int `json:"changed"`
}

// RecomputeCustomers evaluates the given customers now under the active rule
// and saves their metrics, level and reasons, recording each level change.
// Callers that changed what a level depends on (imports, feeds, accounts,
// the demo) call it after their change commits; it checks no permission,
// because it only derives data from data already written. Unknown ids are
// skipped.
func (s *Service) RecomputeCustomers(ctx context.Context, ids []int64) (Result, error) {
	var res Result
	if len(ids) == 0 {
		return res, nil
	}
	active, err := s.store.ActiveVersion(ctx)
	if err != nil {
		return res, fmt.Errorf("recompute levels: %w", err)
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	w := NewWindow(s.clock.Now(), s.loc)
	for chunk := range slices.Chunk(ids, min(s.batchSize, 500)) {
		n, changed, err := s.recomputeBatch(ctx, active, Selection{IDs: chunk}, w, TriggerChange)
		if err != nil {
			return res, err
		}
		res.Customers += n
		res.Changed += changed
	}
	return res, nil
}

// recomputeBatch loads, evaluates and saves one batch.
func (s *Service) recomputeBatch(ctx context.Context, active Version, sel Selection, w Window, trigger string) (int, int, error) {
	b, err := s.store.LoadBatch(ctx, sel, w.Since)
	if err != nil {
		return 0, 0, fmt.Errorf("recompute levels: %w", err)
	}
	return s.applyBatch(ctx, active, b, w, trigger, nil)
}

// applyBatch evaluates a loaded batch and saves it in one transaction;
// within, if set, runs in that transaction too (a run's progress), so a
// batch costs one commit.
func (s *Service) applyBatch(ctx context.Context, active Version, b Batch, w Window, trigger string,
	within func(ctx context.Context, customers, changed int) error) (int, int, error) {
	if len(b.Subjects) == 0 {
		return 0, 0, nil
	}
	metrics := b.Metrics(w)
	outs := make([]Outcome, 0, len(b.Subjects))
	for _, subj := range b.Subjects {
		m := metrics[subj.ID]
		lvl, reasons := active.Rule.Evaluate(subj.Type, m)
		outs = append(outs, Outcome{Subject: subj, Level: lvl, RuleVersion: active.Version, Metrics: m,
			Contribution: m.Contribution(active.Rule.Contribution), Reasons: reasons})
	}
	var changed int
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if changed, err = s.store.SaveOutcomes(ctx, outs, trigger, w.Now); err != nil || within == nil {
			return err
		}
		return within(ctx, len(outs), changed)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("recompute levels: save: %w", err)
	}
	return len(outs), changed, nil
}

// RecomputeAll evaluates every customer under the active rule, in batches of
// consecutive ids, and records the run. It is the nightly job and what
// `kehu levels recompute` runs; a second run while one is alive is refused
// (ECONFLICT), on any server sharing the database.
func (s *Service) RecomputeAll(ctx context.Context, trigger string) (Run, error) {
	run, err := s.beginRun(ctx, trigger)
	if err != nil {
		return Run{}, err
	}
	return s.execute(ctx, run)
}

// StartRecompute starts RecomputeAll in the background for an administrator
// and returns the running run at once; GET the run to follow it. The run
// lives as long as the server (Deps.Background), not the request.
func (s *Service) StartRecompute(ctx context.Context) (Run, error) {
	if _, err := access.ActorWith(ctx, access.LevelManage); err != nil {
		return Run{}, err
	}
	run, err := s.beginRun(ctx, TriggerManual)
	if err != nil {
		return Run{}, err
	}
	a, _ := kehu.ActorFrom(ctx)
	bg := kehu.WithActor(s.background, a)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if _, err := s.execute(bg, run); err != nil {
			s.log.Error("level recompute failed", "run", run.ID, "err", err)
		}
	}()
	return run, nil
}

func (s *Service) beginRun(ctx context.Context, trigger string) (Run, error) {
	active, err := s.store.ActiveVersion(ctx)
	if err != nil {
		return Run{}, fmt.Errorf("recompute levels: %w", err)
	}
	now := s.clock.Now()
	r := Run{Trigger: trigger, Status: RunRunning, RuleVersion: active.Version, StartedBy: kehu.RunStarter(ctx),
		StartedAt: now, HeartbeatAt: now}
	return s.store.StartRun(ctx, r, now.Add(-kehu.RunStaleAfter))
}

// execute runs the batches of run and records how it ended, also when ctx
// is cancelled (the server stopping): the end is written without ctx's
// cancellation so the run does not stay "running".
func (s *Service) execute(ctx context.Context, run Run) (Run, error) {
	active, err := s.store.Version(ctx, run.RuleVersion)
	if err == nil {
		err = s.allBatches(ctx, active, &run)
	}
	end := context.WithoutCancel(ctx)
	now := s.clock.Now()
	run.FinishedAt = &now
	run.Status, run.Error = kehu.RunOutcome(err)
	ferr := s.store.FinishRun(end, run.ID, run.Status, now, run.Customers, run.Changed, run.Error)
	entry := audit.Entry{Action: ActionRecompute, Object: fmt.Sprintf("level_run:%d", run.ID), Count: int(run.Changed),
		Reason: run.Trigger}
	if err != nil {
		entry.Outcome = "failed"
	}
	rerr := s.audit.Record(end, entry)
	if err != nil {
		return run, err
	}
	return run, errors.Join(ferr, rerr)
}

// allBatches walks the customer ids in windows of batchSize, reading the
// next windows while one is evaluated and saved.
func (s *Service) allBatches(ctx context.Context, active Version, run *Run) error {
	lo, hi, err := s.store.CustomerIDBounds(ctx)
	if err != nil || hi == 0 {
		return err
	}
	w := NewWindow(s.clock.Now(), s.loc)
	size := int64(s.batchSize)
	windows := int((hi-lo)/size) + 1
	load := func(ctx context.Context, i int) (Batch, error) {
		from := lo + int64(i)*size
		b, err := s.store.LoadBatch(ctx, Selection{From: from, To: from + size}, w.Since)
		if err != nil {
			return b, fmt.Errorf("recompute levels: %w", err)
		}
		return b, nil
	}
	return inOrder(ctx, windows, loaders, load, func(_ int, b Batch) error {
		_, _, err := s.applyBatch(ctx, active, b, w, run.Trigger, func(ctx context.Context, n, changed int) error {
			run.Customers += int64(n)
			run.Changed += int64(changed)
			return s.store.ProgressRun(ctx, run.ID, s.clock.Now(), run.Customers, run.Changed)
		})
		return err
	})
}

// Runs lists recent recompute runs, newest first, for rule managers.
func (s *Service) Runs(ctx context.Context, limit int) ([]Run, error) {
	if _, err := access.ActorWith(ctx, access.LevelManage); err != nil {
		return nil, err
	}
	return s.store.Runs(ctx, kehu.ClampLimit(limit))
}

// GetRun returns one run, for rule managers.
func (s *Service) GetRun(ctx context.Context, id int64) (Run, error) {
	if _, err := access.ActorWith(ctx, access.LevelManage); err != nil {
		return Run{}, err
	}
	return s.store.Run(ctx, id)
}
