package main

import (
	"context"
	"encoding/json"
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
	if len(args) == 0 || args[0] != "recompute" {
		return usageError{"levels: want `kehu levels recompute --db URL [--json]`"}
	}
	fs := flags(e, "levels recompute")
	dbURL := dbFlag(fs)
	keysFile := keysFlag(fs)
	asJSON := fs.Bool("json", false, "print the run as one JSON object")
	if err := parse(e, fs, args[1:]); err != nil {
		return err
	}
	g, closeDB, err := openGovernance(ctx, e, *dbURL, *keysFile)
	if err != nil {
		return err
	}
	defer closeDB()
	began := time.Now()
	run, err := g.levels.RecomputeAll(ctx, level.TriggerCLI)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(run)
	}
	fmt.Fprintf(e.stdout, "levels of %d customers recomputed under rule version %d in %s: %d changed\n",
		run.Customers, run.RuleVersion, time.Since(began).Round(time.Millisecond), run.Changed)
	return nil
}

// runQuality is `kehu quality measure`: the data-quality measurement.
func runQuality(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "measure" {
		return usageError{"quality: want `kehu quality measure --db URL [--json]`"}
	}
	fs := flags(e, "quality measure")
	dbURL := dbFlag(fs)
	keysFile := keysFlag(fs)
	asJSON := fs.Bool("json", false, "print the run as one JSON object")
	if err := parse(e, fs, args[1:]); err != nil {
		return err
	}
	g, closeDB, err := openGovernance(ctx, e, *dbURL, *keysFile)
	if err != nil {
		return err
	}
	defer closeDB()
	began := time.Now()
	run, err := g.quality.Measure(ctx, "cli")
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(run)
	}
	fmt.Fprintf(e.stdout, "data quality measured over %d rows in %s (run %d)\n", run.RowsScanned,
		time.Since(began).Round(time.Millisecond), run.ID)
	return nil
}

// openGovernance opens the keyed database (the measurement opens encrypted
// fields) and wires the governance services for a command.
func openGovernance(ctx context.Context, e env, dbURL, keysFile string) (*governanceSet, func(), error) {
	db, err := openKeyedDB(ctx, e, dbURL, keysFile, true, func(msg string) { fmt.Fprintln(e.stderr, msg) })
	if err != nil {
		return nil, nil, err
	}
	clock := kehu.SystemClock{}
	trail := audit.NewLog(db.Audit(), db, clock)
	customers := customer.NewService(customer.Deps{Store: db.Customers(), Clock: clock, Audit: trail, Tx: db})
	g := newGovernanceSet(ctx)
	g.wire(db, clock, trail, customers, org.NewService(db.Orgs()), slog.New(slog.DiscardHandler))
	return g, func() { db.Close() }, nil
}
