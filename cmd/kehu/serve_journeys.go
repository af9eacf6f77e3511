package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/ingest"
	"kehu/internal/journey"
	"kehu/internal/kehu"
	"kehu/internal/outbox"
	"kehu/internal/policy"
	"kehu/internal/sales"
	"kehu/internal/segment"
	"kehu/internal/store"
	"kehu/internal/task"
)

// journeySet is `kehu serve`'s journeys (docs/JOURNEYS.md): the service of
// the API and the UI, and the engine the feeds wake. The feeds are wired
// before the services the engine acts through, so notify reaches the engine
// once wire has built it (a batch stored before that is read from the
// cursor on the first pass).
type journeySet struct {
	engine  atomic.Pointer[journey.Engine]
	service *journey.Service
}

// notify is the feeds' subscriber.
func (j *journeySet) notify(ctx context.Context, c ingest.Committed) {
	if e := j.engine.Load(); e != nil {
		e.Notify(ctx, c)
	}
}

// wire builds the service and the engine. On PostgreSQL, where concurrent
// feed batches may commit out of id order, each pass re-reads the last ids
// below its cursors (firings are unique, so nothing fires twice).
func (j *journeySet) wire(db *store.DB, clock kehu.Clock, trail audit.Recorder, customers *customer.Service,
	segments *segment.Service, pol *policy.Service, tasks *task.Service, leads *sales.Service, logger *slog.Logger) {
	j.service = journey.NewService(journey.ServiceDeps{Store: db.Journeys(), Refs: db.Journeys(), Customers: customers,
		Clock: clock, Audit: trail, Tx: db})
	o := journey.Options{}
	if db.Dialect().IsPostgres() {
		o.Overlap = 10_000
	}
	j.engine.Store(journey.NewEngine(journey.Deps{Store: db.Journeys(), Tx: db, Clock: clock, Policy: pol,
		Queue: outbox.NewQueue(db.Outbox(), clock), Templates: db.Templates(), Tags: db.Tags(),
		Segments: journey.SegmentsOf(segments, db.Segments()), Work: journey.WorkOf(tasks, leads),
		Logger: logger, Options: o}))
}

// daily is the nightly job of the daily triggers (maturity, birthday,
// dormancy), claimed once a day across servers by the scheduler.
func (j *journeySet) daily(ctx context.Context) error {
	e := j.engine.Load()
	if e == nil {
		return nil
	}
	_, err := e.Daily(ctx)
	return err
}

// start runs the engine until ctx ends; wait returns when it has stopped.
func (j *journeySet) start(ctx context.Context) (wait func()) {
	e := j.engine.Load()
	if e == nil {
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() { e.Run(ctx) })
	return wg.Wait
}
