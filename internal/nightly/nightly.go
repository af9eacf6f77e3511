// Package nightly runs the bank's nightly batch work inside `kehu serve`:
// once per Asia/Shanghai calendar day after a set time (02:00 by default),
// each job runs once, claimed in the database so that several servers
// sharing one database do not run it twice. A server that was down at 02:00
// catches up when it starts later that day. No global state: the scheduler
// is a value owned by the server, and stops with its context.
package nightly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"kehu/internal/kehu"
)

// Job is one piece of nightly work. Run gets the scheduler's context, so it
// stops when the server does.
type Job struct {
	Name string
	Run  func(ctx context.Context) error
}

// Record is one job's run on one day.
type Record struct {
	Day        kehu.Date  `json:"day"`
	Job        string     `json:"job"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Status     string     `json:"status"`
	Error      string     `json:"error"`
}

// Statuses of a record.
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Store records the claims.
type Store interface {
	// Claim records that job runs for day, false if it was claimed already.
	Claim(ctx context.Context, day kehu.Date, job string, at time.Time) (bool, error)
	Finish(ctx context.Context, day kehu.Date, job, status string, at time.Time, errText string) error
	Recent(ctx context.Context, limit int) ([]Record, error)
}

// Options configure a Scheduler.
type Options struct {
	Clock  kehu.Clock
	Store  Store
	Jobs   []Job
	Logger *slog.Logger
	// Hour and Minute of the daily start, in Location (default 02:00
	// Asia/Shanghai).
	Hour, Minute int
	Location     *time.Location
	// Poll is how often the scheduler looks at the clock (default a
	// minute; tests use milliseconds with a fake clock).
	Poll time.Duration
}

// Scheduler runs the jobs nightly.
type Scheduler struct {
	o Options
}

// New returns a Scheduler. Hour and Minute zero mean 02:00.
func New(o Options) *Scheduler {
	if o.Clock == nil {
		o.Clock = kehu.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Location == nil {
		o.Location = kehu.LoadShanghai()
	}
	if o.Hour == 0 && o.Minute == 0 {
		o.Hour = 2
	}
	if o.Poll <= 0 {
		o.Poll = time.Minute
	}
	return &Scheduler{o: o}
}

// Run checks the clock every Poll and runs what is due, until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.Poll)
	defer t.Stop()
	for {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			s.o.Logger.Error("nightly jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Due reports the Shanghai day whose run is due at now: today once the
// start time has passed.
func (s *Scheduler) Due(now time.Time) (kehu.Date, bool) {
	l := now.In(s.o.Location)
	start := time.Date(l.Year(), l.Month(), l.Day(), s.o.Hour, s.o.Minute, 0, 0, s.o.Location)
	return kehu.DateOf(l), !l.Before(start)
}

// RunDue runs every job not yet claimed for the day that is due, one after
// the other in their order, and returns the names of those it ran. A job's
// failure is recorded and logged; the next job still runs.
func (s *Scheduler) RunDue(ctx context.Context) ([]string, error) {
	day, due := s.Due(s.o.Clock.Now())
	if !due {
		return nil, nil
	}
	var ran []string
	var errs []error
	for _, j := range s.o.Jobs {
		if ctx.Err() != nil {
			break
		}
		ok, err := s.o.Store.Claim(ctx, day, j.Name, s.o.Clock.Now())
		if err != nil {
			errs = append(errs, fmt.Errorf("claim %s: %w", j.Name, err))
			continue
		}
		if !ok {
			continue
		}
		s.o.Logger.Info("nightly job started", "job", j.Name, "day", day.String())
		jerr := j.Run(ctx)
		status, text := StatusDone, ""
		if jerr != nil {
			status, text = StatusFailed, kehu.ErrorMessage(jerr)
			s.o.Logger.Error("nightly job failed", "job", j.Name, "err", jerr)
		} else {
			s.o.Logger.Info("nightly job done", "job", j.Name)
		}
		if err := s.o.Store.Finish(context.WithoutCancel(ctx), day, j.Name, status, s.o.Clock.Now(), text); err != nil {
			errs = append(errs, fmt.Errorf("finish %s: %w", j.Name, err))
		}
		ran = append(ran, j.Name)
	}
	return ran, errors.Join(errs...)
}

// Recent returns the latest job records, newest first, for status pages.
func (s *Scheduler) Recent(ctx context.Context, limit int) ([]Record, error) {
	return s.o.Store.Recent(ctx, limit)
}
