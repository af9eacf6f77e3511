package importer

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/identity"
	"kehu/internal/kehu"
)

// Audit actions of imports. Created customers are covered by the job's
// records (who, which file, how many); changes to existing customers get a
// customer.update record each, with old and new values (docs/AUDIT.md).
const (
	AuditSubmit   = "import.submit"   // a job was queued: file, kind, source, size, SHA-256
	AuditFinish   = "import.finish"   // a job ended: status and counts
	AuditResume   = "import.resume"   // an interrupted or failed job was resumed
	AuditRollback = "import.rollback" // what a rollback removed
	AuditCancel   = "import.cancel"
	AuditRejects  = "import.rejects" // the reject report was downloaded (masked values)
)

// Engine runs import jobs: reads the file, validates rows on worker
// goroutines (encryption included), and writes batches in order on one
// goroutine, each batch one transaction with its rejects, counts and
// checkpoint.
type Engine struct {
	store     Store
	identity  *identity.Service
	tx        kehu.Transactor
	audit     audit.Recorder
	clock     kehu.Clock
	seal      Sealer
	nameKey   func(string) string
	recompute func(ctx context.Context, ids []int64) error
	levelOf   func(aum int64) string
	log       *slog.Logger
	batch     int
	workers   int
	deferFrom int64
}

// EngineDeps are the collaborators of an Engine.
type EngineDeps struct {
	Store    Store
	Identity *identity.Service
	Tx       kehu.Transactor
	Audit    audit.Recorder
	Clock    kehu.Clock
	Sealer   Sealer
	// NameKey computes the search key stored with a customer's name
	// (search.NameKey); nil stores none.
	NameKey func(string) string
	// Recompute is called after a batch of accounts or holdings commits
	// with the customers it touched (the level engine's recompute, which
	// sets AUM and level). Without it the batch recomputes AUM itself, and
	// the level with LevelOf, in its transaction.
	Recompute func(ctx context.Context, ids []int64) error
	LevelOf   func(aum int64) string
	Logger    *slog.Logger
	// BatchSize is the rows per transaction (default 5,000); Workers the
	// validating goroutines (default: one fewer than the CPUs, at least one).
	BatchSize int
	Workers   int
	// DeferIndexesFrom is the smallest customer file, in rows, for which a
	// job builds the customers' search indexes after the load instead of
	// row by row (docs/IMPORT.md "Large loads"); 0 means the store's
	// default, store.DeferIndexesFrom, passed by the wiring.
	DeferIndexesFrom int64
}

// NewEngine returns an Engine; Store, Identity, Tx, Audit and Sealer are
// required.
func NewEngine(d EngineDeps) *Engine {
	if d.Store == nil || d.Identity == nil || d.Tx == nil || d.Audit == nil || d.Sealer == nil {
		panic("importer.NewEngine: Store, Identity, Tx, Audit and Sealer are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.BatchSize <= 0 {
		d.BatchSize = 5_000
	}
	if d.Workers <= 0 {
		// One CPU is left to the writer: it is the job's bottleneck (one
		// goroutine on the database's one write connection), and a worker
		// per CPU took turns on its core. On 2 cores one worker imported a
		// million customers 2–4 s faster than two, in alternating quiet runs
		// (docs/BENCHMARKS.md).
		d.Workers = max(1, runtime.GOMAXPROCS(0)-1)
	}
	return &Engine{store: d.Store, identity: d.Identity, tx: d.Tx, audit: d.Audit, clock: d.Clock, seal: d.Sealer,
		nameKey: d.NameKey, recompute: d.Recompute, levelOf: d.LevelOf, log: d.Logger, batch: d.BatchSize, workers: d.Workers,
		deferFrom: d.DeferIndexesFrom}
}

// ErrCancelled is the cause of a job's context when someone cancelled it.
var ErrCancelled = errors.New("import cancelled")

// Run imports the job's file at path as the actor in ctx, within scope (nil:
// the whole bank). It claims the job (queued, or interrupted), resumes after
// its checkpoint, and returns the finished job. A file that cannot be read
// at all fails the job with the reason; bad rows never do. When ctx ends
// (the process stops) the job stays running with its checkpoint, to be
// resumed.
func (e *Engine) Run(ctx context.Context, job Job, path string, scope *customer.ScopeFilter) (Job, error) {
	now := e.clock.Now()
	job, err := e.store.ClaimJob(ctx, job.ID, now, now.Add(-staleAfter))
	if err != nil {
		return job, err
	}
	stop := e.heartbeat(ctx, job.ID)
	counts, err := e.run(ctx, &job, path, scope)
	stop()
	job.Counts = counts
	switch {
	case err == nil:
		return e.finish(ctx, job, StatusDone, "")
	case errors.Is(context.Cause(ctx), ErrCancelled):
		return e.finish(context.WithoutCancel(ctx), job, StatusCancelled, "cancelled by a user")
	case ctx.Err() != nil:
		return job, ctx.Err() // interrupted: the checkpoint stays for a resume
	}
	e.log.WarnContext(ctx, "import failed", "job", job.ID, "kind", job.Kind, "err", err)
	msg := kehu.ErrorMessage(err)
	if kehu.ErrorCode(err) == kehu.EINTERNAL {
		msg = "an internal error stopped the import at line " + strconv.FormatInt(job.CheckpointLine, 10) +
			"; it can be resumed"
	}
	job, ferr := e.finish(ctx, job, StatusFailed, msg)
	if ferr != nil {
		return job, ferr
	}
	return job, err
}

// heartbeat marks the job alive every 20 seconds until stopped, so a long
// batch or a long skip to the checkpoint does not look like a dead process.
func (e *Engine) heartbeat(ctx context.Context, id int64) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := e.store.Heartbeat(ctx, id, e.clock.Now()); err != nil && ctx.Err() == nil {
					e.log.WarnContext(ctx, "import heartbeat", "job", id, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// finish stores the final status and records the job's audit entry.
func (e *Engine) finish(ctx context.Context, job Job, status, msg string) (Job, error) {
	now := e.clock.Now()
	err := e.tx.WithTx(ctx, func(ctx context.Context) error {
		if err := e.store.FinishJob(ctx, job.ID, status, msg, now); err != nil {
			return err
		}
		return e.audit.Record(ctx, audit.Entry{Action: AuditFinish, Object: jobObject(job.ID),
			Count: int(job.Counts.Accepted), Changes: countChanges(job, status)})
	})
	if err != nil {
		return job, err
	}
	job.Status, job.Error, job.FinishedAt = status, msg, &now
	return job, nil
}

func jobObject(id int64) string { return "import_job:" + strconv.FormatInt(id, 10) }

// countChanges describes a finished job for its audit record.
func countChanges(j Job, status string) []audit.Change {
	c := j.Counts
	out := []audit.Change{{Field: "status", New: status}, {Field: "kind", New: j.Kind},
		{Field: "source_system", New: j.SourceSystem}, {Field: "file_name", New: j.FileName}}
	for _, x := range []struct {
		f string
		n int64
	}{{"total", c.Total}, {"accepted", c.Accepted}, {"rejected", c.Rejected}, {"created", c.Created},
		{"updated", c.Updated}, {"unchanged", c.Unchanged}, {"merged", c.Merged}, {"suspected", c.Suspected}} {
		out = append(out, audit.Change{Field: x.f, New: strconv.FormatInt(x.n, 10)})
	}
	return out
}

// runState is one run of a job.
type runState struct {
	job     *Job
	parser  *parser
	mapping Mapping
	width   int
	rules   identity.Rules
	scope   *customer.ScopeFilter
	counts  Counts
	pending Counts           // counts stored by the transaction in progress
	seen    map[uint64]int64 // subject key of each accepted row → its line
	seed    maphash.Seed
	batch   int          // rows per transaction: the engine's, or largeLoadBatch
	initial *initialLoad // an initial load's known keys (initial.go); nil: look every key up
}

func (e *Engine) run(ctx context.Context, job *Job, path string, scope *customer.ScopeFilter) (Counts, error) {
	src, err := OpenFile(path)
	if err != nil {
		return job.Counts, err
	}
	defer src.Close()
	st, err := e.prepare(ctx, job, src, scope)
	if err != nil {
		return job.Counts, err
	}
	restore, err := e.store.TuneForImport(ctx)
	if err != nil {
		return job.Counts, err
	}
	defer restore()
	if job.Kind == KindCustomers {
		rows, err := EstimateRows(path)
		if err != nil {
			return job.Counts, err
		}
		if st.initial, err = startInitialLoad(ctx, e.store, job.SourceSystem, rows); err != nil {
			return job.Counts, err
		}
		// A job that looks keys up needs the identity indexes another
		// (or its own crashed run) may have deferred.
		if st.initial == nil {
			if err := e.tx.WithTx(ctx, e.store.BuildIdentityIndexes); err != nil {
				return job.Counts, err
			}
		}
	}
	if job.Kind == KindCustomers && e.deferFrom > 0 {
		built, deferred, err := e.deferIndexes(ctx, job, path, st.initial != nil)
		if err != nil {
			return job.Counts, err
		}
		defer built()
		if deferred {
			st.batch = max(st.batch, largeLoadBatch)
		}
		if deferred && st.initial != nil {
			if err := e.store.AppendOnlyCache(ctx, true); err != nil {
				return job.Counts, err
			}
		}
	}
	err = e.pipeline(ctx, st, src)
	return st.counts, err
}

// ImportGCPercent is the garbage collector's target `kehu import` runs
// with (runtime/debug.SetGCPercent) unless GOGC is set: a process that only
// imports may hold more garbage for less collecting.
const ImportGCPercent = 400

// largeLoadBatch is the rows per transaction of a large load (one whose
// indexes are deferred). The identity and mobile blind indexes stay during
// the load and take keys in random order, so a batch of 5,000 rows dirties
// most of their leaf pages and each commit writes them to the WAL again;
// 25,000 rows per commit write each such page a fifth as often. The cost: a
// batch holds the write lock for a few seconds, and a resumed job repeats
// up to one batch — acceptable for a load that rebuilds the search indexes
// anyway (docs/IMPORT.md "Large loads").
const largeLoadBatch = 25_000

// deferIndexes drops the customers' search indexes for a load larger than
// the table (and at least e.deferFrom rows), and returns what
// builds them again when the run ends — done, failed or cancelled — and
// whether it dropped any. A process killed in between leaves them to the
// next start (store.Migrate), so a search is slow meanwhile but never wrong.
func (e *Engine) deferIndexes(ctx context.Context, job *Job, path string, initial bool) (func(), bool, error) {
	rows, err := EstimateRows(path)
	if err != nil {
		return nil, false, err
	}
	rows -= job.CheckpointLine // a resumed job loads only the rest
	deferred, err := e.store.DeferCustomerIndexes(ctx, job.ID, rows, e.deferFrom, initial)
	if err != nil || !deferred {
		return func() {}, false, err
	}
	e.log.InfoContext(ctx, "import: customer indexes deferred to the end of the load", "job", job.ID, "rows", rows)
	return func() {
		start := time.Now()
		n, err := e.store.RestoreDeferredIndexes(ctx, job.ID)
		if err != nil {
			e.log.ErrorContext(ctx, "import: build deferred indexes (retried at the next start)", "job", job.ID, "err", err)
			return
		}
		e.log.InfoContext(ctx, "import: customer indexes built", "job", job.ID, "indexes", n, "took", time.Since(start))
	}, true, nil
}

// prepare maps the header, loads the reference tables and rules, and builds
// the state a resumed job continues from.
func (e *Engine) prepare(ctx context.Context, job *Job, src Source, scope *customer.ScopeFilter) (*runState, error) {
	m, err := SuggestMapping(job.Kind, src.Header(), job.Mapping)
	if err != nil {
		return nil, err
	}
	if miss := m.Missing(job.Kind, "source_system"); len(miss) > 0 {
		return nil, kehu.Errorf(kehu.EINVALID, "the file has no column for %s (required for %s); map a column to it",
			strings.Join(miss, ", "), job.Kind)
	}
	refs, err := e.store.Refs(ctx)
	if err != nil {
		return nil, err
	}
	if !refs.Sources[job.SourceSystem] {
		return nil, kehu.Errorf(kehu.EINVALID, "unknown source system %q", job.SourceSystem)
	}
	if err := e.store.SetEncoding(ctx, job.ID, src.Encoding(), job.SourceSystem); err != nil {
		return nil, err
	}
	job.Encoding = src.Encoding()
	st := &runState{job: job, mapping: m, width: len(src.Header()), scope: scope, counts: job.Counts,
		seen: map[uint64]int64{}, seed: maphash.MakeSeed(), batch: e.batch}
	st.parser = &parser{kind: job.Kind, source: job.SourceSystem, refs: refs, seal: e.seal, loc: kehu.LoadShanghai(),
		now: e.clock.Now(), asOf: e.clock.Now(), nameKey: e.nameKey}
	if job.StartedAt != nil {
		st.parser.asOf = *job.StartedAt
	}
	if scope != nil && !scope.Unrestricted() {
		s := *scope
		st.parser.orgInScope = func(o OrgRef) bool { return s.Allows(o.ID, o.Path, nil) }
	}
	if job.Kind == KindCustomers {
		if st.rules, err = e.identity.Rules(ctx); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// inScope reports whether the actor may change data of a customer.
func (st *runState) inScope(orgID int64, owner *int64) bool {
	if st.scope == nil || st.scope.Unrestricted() {
		return true
	}
	o := st.parser.refs.Orgs[orgID]
	return st.scope.Allows(orgID, o.Path, owner)
}

// chunk is a batch of rows on its way through the pipeline.
type chunk struct {
	rows []Row
	out  []parsed
	done chan struct{}
}

// pipeline reads on one goroutine, validates on e.workers and writes the
// chunks in file order on the calling goroutine.
func (e *Engine) pipeline(ctx context.Context, st *runState, src Source) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan *chunk, e.workers*2)
	order := make(chan *chunk, e.workers*2)
	readErr := make(chan error, 1)
	go func() {
		defer close(work)
		defer close(order)
		readErr <- e.read(ctx, st, src, work, order)
	}()
	for range e.workers {
		go func() {
			for c := range work {
				c.out = make([]parsed, len(c.rows))
				for i, r := range c.rows {
					c.out[i] = st.parser.parse(r, st.mapping, st.width)
				}
				close(c.done)
			}
		}()
	}
	var werr error
	for c := range order {
		if werr != nil {
			continue // drain so the reader can finish
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			werr = context.Cause(ctx)
			continue
		}
		if werr = e.write(ctx, st, c); werr != nil {
			cancel(werr)
		}
	}
	if err := <-readErr; werr == nil && err != nil {
		return err
	}
	if werr == nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return werr
}

// read sends the file's rows in chunks; rows up to the checkpoint of a
// resumed job are skipped, their accepted subjects remembered.
func (e *Engine) read(ctx context.Context, st *runState, src Source, work, order chan<- *chunk) error {
	var skipped map[int64]bool
	if st.job.CheckpointLine > 0 {
		var err error
		if skipped, err = e.store.RejectedLines(ctx, st.job.ID, st.job.CheckpointLine); err != nil {
			return err
		}
	}
	c := &chunk{done: make(chan struct{})}
	send := func() bool {
		select {
		case work <- c:
		case <-ctx.Done():
			return false
		}
		select {
		case order <- c:
		case <-ctx.Done():
			return false
		}
		c = &chunk{done: make(chan struct{})}
		return true
	}
	for {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if row.Line <= st.job.CheckpointLine {
			if !skipped[row.Line] {
				st.remember(st.parser.keyOf(row, st.mapping), row.Line)
			}
			continue
		}
		c.rows = append(c.rows, row)
		if len(c.rows) == st.batch && !send() {
			return context.Cause(ctx)
		}
	}
	if len(c.rows) > 0 && !send() {
		return context.Cause(ctx)
	}
	return nil
}

// keyOf is the subject key of a committed row, recomputed while skipping to
// a checkpoint (without validating or encrypting it again, where the key
// allows).
func (p *parser) keyOf(row Row, m Mapping) string {
	if row.Problem != "" {
		return ""
	}
	rec := m.apply(row.Cells)
	switch p.kind {
	case KindCustomers:
		return "customer\x00" + rec["source_id"]
	}
	// The other kinds' keys hold blind indexes: validate the row again.
	pr := p.parse(row, m, len(row.Cells))
	return pr.key
}

// remember notes that the row at line with subject key was accepted.
func (st *runState) remember(key string, line int64) {
	if key != "" {
		st.seen[maphash.String(st.seed, key)] = line
	}
}

// seenAt returns the line of an earlier accepted row with the same key.
func (st *runState) seenAt(key string) (int64, bool) {
	line, ok := st.seen[maphash.String(st.seed, key)]
	return line, ok
}

// duplicateColumn is the column a repeated subject is reported against.
var duplicateColumn = map[string]string{KindCustomers: "source_id", KindAccounts: "account_no", KindHoldings: "account_no",
	KindTransactions: "reference", KindRelationships: "kind", KindEvents: "event_id"}

func duplicateReason(line int64) string {
	return fmt.Sprintf("repeats the subject of line %d of this file (the same key): the first one was kept", line)
}
