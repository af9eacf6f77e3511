package importer

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"kehu/internal/access"
	"kehu/internal/kehu"
)

// Runner runs queued import jobs in the server process, one at a time (the
// database has one writer on SQLite; on PostgreSQL one import at a time
// keeps interactive work responsive). It is owned by `kehu serve`: Start
// with the server's context, Wait on shutdown. A job interrupted by a
// shutdown keeps its checkpoint and is resumed on request.
type Runner struct {
	svc   *Service
	log   *slog.Logger
	queue chan int64
	ctx   context.Context

	mu      sync.Mutex
	running map[int64]context.CancelCauseFunc
	wg      sync.WaitGroup
}

// NewRunner returns the runner of svc's jobs; svc queues into it.
func NewRunner(svc *Service, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{svc: svc, log: logger, queue: make(chan int64, 1024), running: map[int64]context.CancelCauseFunc{}}
	svc.runner = r
	return r
}

// Start runs jobs until ctx ends: first those left queued when the server
// last stopped, then each one queued.
func (r *Runner) Start(ctx context.Context) {
	r.ctx = ctx
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.svc.cleanPending(r.svc.clock.Now())
		if jobs, err := r.svc.store.Jobs(ctx, JobFilter{Status: StatusQueued, Limit: kehu.MaxPageSize}); err == nil {
			for i := len(jobs) - 1; i >= 0; i-- {
				r.Enqueue(jobs[i].ID)
			}
		} else if ctx.Err() == nil {
			r.log.WarnContext(ctx, "import runner: list queued jobs", "err", err)
		}
		tidy := time.NewTicker(time.Hour)
		defer tidy.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case id := <-r.queue:
				r.run(ctx, id)
			case now := <-tidy.C:
				r.svc.cleanPending(now)
			}
		}
	}()
}

// Wait blocks until the runner has stopped (after its context ended).
func (r *Runner) Wait() { r.wg.Wait() }

// Enqueue asks for job id to run.
func (r *Runner) Enqueue(id int64) {
	select {
	case r.queue <- id:
	default:
		go func() { r.queue <- id }() // a burst of uploads: wait for room
	}
}

// cancel stops job id if this runner is running it.
func (r *Runner) cancel(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	stop, ok := r.running[id]
	if ok {
		stop(ErrCancelled)
	}
	return ok
}

// run runs one job as the user who started it, within that user's current
// scope; a user who may no longer import fails the job.
func (r *Runner) run(ctx context.Context, id int64) {
	j, err := r.svc.store.Job(ctx, id)
	if err != nil {
		r.log.WarnContext(ctx, "import runner: read job", "job", id, "err", err)
		return
	}
	now := r.svc.clock.Now()
	if j.Status != StatusQueued && !j.Resumable(now) {
		return
	}
	actorCtx, err := r.actorContext(ctx, j)
	if err != nil {
		if ferr := r.svc.store.FinishJob(ctx, j.ID, StatusFailed, kehu.ErrorMessage(err), now); ferr != nil {
			r.log.WarnContext(ctx, "import runner: fail job", "job", id, "err", ferr)
		}
		return
	}
	scope, err := r.svc.customers.WriteScope(actorCtx, access.DataImport)
	if err != nil {
		_ = r.svc.store.FinishJob(ctx, j.ID, StatusFailed, kehu.ErrorMessage(err), now)
		return
	}
	jobCtx, stop := context.WithCancelCause(actorCtx)
	r.mu.Lock()
	r.running[j.ID] = stop
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, j.ID)
		r.mu.Unlock()
		stop(nil)
	}()
	r.log.InfoContext(ctx, "import started", "job", describeJob(j))
	done, err := r.svc.engine.Run(jobCtx, j, j.FilePath, &scope)
	switch {
	case done.Status == StatusDone || done.Status == StatusCancelled:
		os.Remove(j.FilePath)
		r.log.InfoContext(ctx, "import finished", "job", j.ID, "status", done.Status, "accepted", done.Counts.Accepted,
			"rejected", done.Counts.Rejected)
	case err != nil:
		r.log.WarnContext(ctx, "import stopped", "job", j.ID, "status", done.Status, "err", err)
	}
}

// actorContext is the context a job runs in: its creator as the actor, as
// they are now (role and organisation), for the audit trail and the scope.
func (r *Runner) actorContext(ctx context.Context, j Job) (context.Context, error) {
	a, active, err := r.svc.store.ActorOf(ctx, j.CreatedBy)
	if err != nil {
		return nil, err
	}
	if !active || !access.Can(a.Role, access.DataImport) {
		return nil, kehu.Errorf(kehu.EFORBIDDEN, "the user who started this import is disabled or may no longer import")
	}
	return kehu.WithActor(ctx, a), nil
}
