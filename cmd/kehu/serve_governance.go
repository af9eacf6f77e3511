package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"kehu/internal/audit"
	"kehu/internal/c360"
	"kehu/internal/customer"
	"kehu/internal/governance"
	"kehu/internal/kehu"
	"kehu/internal/level"
	"kehu/internal/nightly"
	"kehu/internal/org"
	"kehu/internal/store"
)

// governanceSet is the customer-level engine, the data dictionary, the
// data-quality measurement and the nightly scheduler that runs the batch
// work, as `kehu serve` wires them (docs/GOVERNANCE.md).
type governanceSet struct {
	// lifetime is the server's context: background runs and the scheduler
	// stop with it.
	lifetime   context.Context
	levels     *level.Service
	dictionary *governance.Dictionary
	quality    *governance.Quality
	jobs       []nightly.Job
	db         *store.DB
	clock      kehu.Clock
	logger     *slog.Logger
	// window is how long after 02:00 the nightly jobs may begin (zero:
	// nightly.DefaultWindow).
	window time.Duration
}

// newGovernanceSet prepares the set for a server that lives as long as ctx;
// wire fills it once the services it needs exist.
func newGovernanceSet(ctx context.Context) *governanceSet { return &governanceSet{lifetime: ctx} }

// wire builds the services over the database.
func (g *governanceSet) wire(db *store.DB, clock kehu.Clock, trail audit.Recorder, customers *customer.Service,
	orgs *org.Service, logger *slog.Logger) {
	g.db, g.clock, g.logger = db, clock, logger
	g.levels = level.NewService(level.Deps{Store: db.Levels(), Customers: customers, Clock: clock, Audit: trail, Tx: db,
		Logger: logger, Background: g.lifetime})
	g.dictionary = governance.NewDictionary(governance.DictionaryDeps{Store: db.Governance(), Clock: clock, Audit: trail, Tx: db})
	g.quality = governance.NewQuality(governance.QualityDeps{Store: db.Governance(), Dictionary: g.dictionary, Orgs: orgs,
		Clock: clock, Audit: trail, Tx: db, Logger: logger, Background: g.lifetime})
	g.jobs = []nightly.Job{
		{Name: "levels", Run: func(ctx context.Context) error {
			_, err := g.levels.RecomputeAll(ctx, level.TriggerNightly)
			return err
		}},
		{Name: "data_quality", Run: func(ctx context.Context) error {
			_, err := g.quality.Measure(ctx, "nightly")
			return err
		}},
	}
}

// addJob appends another module's nightly job (run after levels and data
// quality, in order).
func (g *governanceSet) addJob(name string, run func(ctx context.Context) error) {
	g.jobs = append(g.jobs, nightly.Job{Name: name, Run: run})
}

// start runs the nightly scheduler (daily at 02:00 Asia/Shanghai, or later
// inside the off-peak window) until the
// server's context ends; the returned wait blocks until the scheduler and
// every background run have stopped.
func (g *governanceSet) start() (wait func()) {
	s := nightly.New(nightly.Options{Clock: g.clock, Store: g.db.Nightly(), Jobs: g.jobs, Logger: g.logger,
		Window: g.window})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = s.Run(g.lifetime)
	}()
	return func() {
		wg.Wait()
		g.levels.Wait()
		g.quality.Wait()
	}
}

// levelExplainer gives the 360 view the level engine's stored evaluation
// (c360.Leveler): the 360 has already read the customer in scope.
type levelExplainer struct{ levels *level.Service }

// Explain implements c360.Leveler.
func (l levelExplainer) Explain(ctx context.Context, customerID int64) (c360.Level, error) {
	a, err := l.levels.Assessment(ctx, customerID)
	if err != nil {
		return c360.Level{}, err
	}
	out := c360.Level{Code: a.Level, Source: "stored", Reasons: []c360.Reason{}}
	if a.Computed {
		at := a.ComputedAt
		out.RuleVersion, out.ComputedAt, out.Source = a.RuleVersion, &at, "rule"
	}
	for _, r := range a.Reasons {
		out.Reasons = append(out.Reasons, c360.Reason{ZH: r.Text("zh-CN"), EN: r.Text("en")})
	}
	return out, nil
}

// runLevels is `kehu levels recompute`: every customer's level under the
// active rule, as the nightly job does.
func runLevels(ctx context.Context, e env, args []string) error {
	return batchCommand[level.Run]{name: "levels", verb: "recompute",
		run: func(ctx context.Context, _ env, b batchDeps, _ bool) (level.Run, error) {
			return governanceFor(ctx, b).levels.RecomputeAll(ctx, level.TriggerCLI)
		},
		summary: func(run level.Run, took time.Duration) string {
			return fmt.Sprintf("levels of %d customers recomputed under rule version %d in %s: %d changed",
				run.Customers, run.RuleVersion, took.Round(time.Millisecond), run.Changed)
		},
	}.main(ctx, e, args)
}

// runQuality is `kehu quality measure`: the data-quality measurement.
func runQuality(ctx context.Context, e env, args []string) error {
	return batchCommand[governance.Run]{name: "quality", verb: "measure",
		run: func(ctx context.Context, _ env, b batchDeps, _ bool) (governance.Run, error) {
			return governanceFor(ctx, b).quality.Measure(ctx, "cli")
		},
		summary: func(run governance.Run, took time.Duration) string {
			return fmt.Sprintf("data quality measured over %d rows in %s (run %d)", run.RowsScanned,
				took.Round(time.Millisecond), run.ID)
		},
	}.main(ctx, e, args)
}

// governanceFor wires the governance services for a batch command.
func governanceFor(ctx context.Context, b batchDeps) *governanceSet {
	g := newGovernanceSet(ctx)
	g.wire(b.db, b.clock, b.trail, b.customers, org.NewService(b.db.Orgs()), slog.New(slog.DiscardHandler))
	return g
}
