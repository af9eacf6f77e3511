// Package nightly runs the bank's nightly batch work inside `kehu serve`:
// once per Asia/Shanghai calendar day after a set time (02:00 by default),
// each job runs once, claimed in the database so that several servers
// sharing one database do not run it twice. A day's jobs start only inside
// the off-peak window that opens at the start time (02:00–06:00 by
// default): a server that was down at 02:00 catches up if it starts inside
// the window, and otherwise leaves the work to the next night, so a restart
// during business hours never starts hours of batch work on a big bank. A
// database created after the day's start (a demo bank made this morning)
// has nothing to catch up for that day. No global state: the scheduler is a
// value owned by the server, and stops with its context.
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
	// Created returns when the database was created (its first
	// migration); a day whose start time came before it is not run.
	Created(ctx context.Context) (time.Time, error)
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
	// Window is how long after the start time a day's jobs may still
	// begin (default DefaultWindow). Jobs begun inside it run to the end.
	Window time.Duration
	// Poll is how often the scheduler looks at the clock (default a
	// minute; tests use milliseconds with a fake clock).
	Poll time.Duration
}

// DefaultWindow is the off-peak window after 02:00 in which a day's jobs
// may begin: branches open at 08:30 and the longest job at a million
// customers takes under two hours (docs/BENCHMARKS.md).
const DefaultWindow = 4 * time.Hour

// MaxWindow bounds Window: the window must close before the next day's
// start.
const MaxWindow = 22 * time.Hour

// Scheduler runs the jobs nightly.
type Scheduler struct {
	o Options
	// missed is the last day whose window closed without its jobs, logged
	// once rather than every minute.
	missed kehu.Date
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
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Window > MaxWindow {
		panic(fmt.Sprintf("nightly.New: window %s is longer than %s", o.Window, MaxWindow))
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

// Due reports the Shanghai day of now and whether its jobs may begin: the
// start time has passed and the window after it has not closed.
func (s *Scheduler) Due(now time.Time) (kehu.Date, bool) {
	day, start := s.start(now)
	return day, !now.Before(start) && now.Before(start.Add(s.o.Window))
}

// start returns the Shanghai day of now and that day's start time.
func (s *Scheduler) start(now time.Time) (kehu.Date, time.Time) {
	l := now.In(s.o.Location)
	return kehu.DateOf(l), time.Date(l.Year(), l.Month(), l.Day(), s.o.Hour, s.o.Minute, 0, 0, s.o.Location)
}

// RunDue runs every job not yet claimed for the day that is due, one after
// the other in their order, and returns the names of those it ran. A job's
// failure is recorded and logged; the next job still runs. Outside the
// window nothing starts; a database created after the day's start time has
// no run for that day.
func (s *Scheduler) RunDue(ctx context.Context) ([]string, error) {
	now := s.o.Clock.Now()
	day, due := s.Due(now)
	if !due {
		if _, start := s.start(now); !now.Before(start) && s.missed != day {
			s.missed = day
			s.o.Logger.Info("nightly jobs not started: outside the off-peak window; they run at the next start",
				"day", day.String(), "window_from", start, "window", s.o.Window)
		}
		return nil, nil
	}
	created, err := s.o.Store.Created(ctx)
	if err != nil {
		return nil, fmt.Errorf("database creation time: %w", err)
	}
	if _, start := s.start(now); !created.Before(start) {
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
