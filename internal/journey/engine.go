package journey

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"kehu/internal/ingest"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/policy"
	"kehu/internal/segment"
	"kehu/internal/tag"
)

// Policy is the contact policy as the engine uses it (policy.Service): it
// decides a chunk's messages with DecideMany on the read pool after reading
// the contact log's Mark, and Confirms the decisions in the write
// transaction; Decide answers again, in the transaction, for a customer
// already contacted in it.
type Policy interface {
	Mark(ctx context.Context) (int64, error)
	DecideMany(ctx context.Context, b policy.Batch, ids []int64) ([]policy.Decision, error)
	Confirm(ctx context.Context, b policy.Batch, mark int64, ds []policy.Decision) (int, error)
	Decide(ctx context.Context, r policy.Request) (policy.Decision, error)
	RecordContacts(ctx context.Context, cs []policy.Contact) error
	SaveTally(ctx context.Context, kind string, id int64, t policy.Tally) error
}

// Queue is the outbox's enqueue side (outbox.Queue).
type Queue interface {
	Enqueue(ctx context.Context, rows []outbox.New) (outbox.Result, error)
}

// Templates reads a template's current version (store.TemplateStore).
type Templates interface {
	GetTemplate(ctx context.Context, id int64) (msgtemplate.Template, error)
}

// Tags puts tags on customers (store.TagStore).
type Tags interface {
	GetTag(ctx context.Context, id int64) (tag.Tag, error)
	PutCustomerTag(ctx context.Context, customerID int64, ct tag.CustomerTag) error
}

// Segments plans a saved segment and loads the facts its in-memory
// evaluator reads (segment.Service, store.SegmentStore).
type Segments interface {
	PlanFor(ctx context.Context, id int64, now time.Time) (*segment.Plan, error)
	SegmentFacts(ctx context.Context, ids []int64, since, now time.Time) (map[int64]*segment.Facts, error)
}

// TaskRequest is a task a journey creates.
type TaskRequest struct {
	Kind       string
	Title      string
	Detail     string
	Suggested  []string
	CustomerID int64
	ProductID  int64
	// AssigneeID, or QueueRole at QueueOrgID; neither: the customer's RM
	// (the RM queue of the customer's outlet without one).
	AssigneeID int64
	QueueRole  string
	QueueOrgID int64
	DueAt      *time.Time
	JourneyID  int64
	DedupKey   string
}

// LeadRequest is a lead a journey creates.
type LeadRequest struct {
	CustomerID int64
	ProductID  int64
	AssigneeID int64
	Note       string
	JourneyID  int64
	DedupKey   string
}

// Work creates RM tasks and leads in the transaction in ctx (internal/task,
// internal/sales; WorkOf); created is false when the dedup key existed.
type Work interface {
	CreateTask(ctx context.Context, r TaskRequest) (created bool, err error)
	CreateLead(ctx context.Context, r LeadRequest) (created bool, err error)
}

// Options tune the engine.
type Options struct {
	// Batch is the most ids of one source read per pass (default 5000).
	Batch int64
	// Overlap re-reads this many ids below each cursor (PostgreSQL, where
	// concurrent feed batches may commit out of id order; firings are
	// unique, so a re-read fires nothing twice). 0 on SQLite.
	Overlap int64
	// MaxAge: a transaction or event older than this when read does not
	// fire (a history import is not a live event). Default 72 h.
	MaxAge time.Duration
	// Tick is how often the worker looks without a notification
	// (default 1 s).
	Tick time.Duration
	// Gap is the least time between the starts of two passes (default
	// 100 ms; negative: none). While the feeds commit a batch every few
	// milliseconds, a pass per notification would spend the single
	// writer's turns on transactions of a few firings each; waiting out
	// the gap evaluates several batches in one pass, for at most Gap of
	// added delay.
	Gap time.Duration
	// CursorEvery is how long a cursor that moved past rows without a
	// candidate may stay in memory before it is written (default 5 s;
	// negative: every pass). Most feed rows fire nothing, and a write
	// transaction only to store the position would take the single
	// writer's turn from the feeds a few times a second. A chunk that
	// fires writes its cursor with its firings; Run writes the positions
	// held when it stops. After a crash the engine re-reads at most
	// CursorEvery of the feeds (plus a tick); firings are unique per
	// journey, customer and event, so nothing fires twice.
	CursorEvery time.Duration
}

// Deps are the engine's collaborators. Work may be nil: task and lead
// actions then fail with a reason.
type Deps struct {
	Store     Store
	Tx        kehu.Transactor
	Clock     kehu.Clock
	Policy    Policy
	Queue     Queue
	Templates Templates
	Tags      Tags
	Segments  Segments
	Work      Work
	Logger    *slog.Logger
	Options   Options
}

// Engine evaluates journeys on committed feed batches and daily scans.
type Engine struct {
	d    Deps
	loc  *time.Location
	wake chan struct{}
	mu   sync.Mutex // one live pass at a time
	// ahead holds, per source, a position evaluated past the stored cursor
	// but not yet written (no candidates; see Options.CursorEvery), and
	// stored when each source's cursor was last written. Guarded by mu.
	ahead  map[string]int64
	stored map[string]time.Time
	// daily serialises the daily scans; a journey is either live or daily,
	// so a long night scan never holds back the live events.
	daily sync.Mutex
	// Fired is called after each committed pass with its firings (tests
	// and the benchmark measure latency with it); nil for none.
	Fired func([]Firing)
}

// NewEngine returns an engine; it panics without Store, Tx, Policy, Queue,
// Templates, Tags or Segments.
func NewEngine(d Deps) *Engine {
	if d.Store == nil || d.Tx == nil || d.Policy == nil || d.Queue == nil || d.Templates == nil || d.Tags == nil ||
		d.Segments == nil {
		panic("journey.NewEngine: Store, Tx, Policy, Queue, Templates, Tags and Segments are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	o := &d.Options
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 72 * time.Hour
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	switch {
	case o.Gap == 0:
		o.Gap = 100 * time.Millisecond
	case o.Gap < 0:
		o.Gap = 0
	}
	switch {
	case o.CursorEvery == 0:
		o.CursorEvery = 5 * time.Second
	case o.CursorEvery < 0:
		o.CursorEvery = 0
	}
	return &Engine{d: d, loc: kehu.LoadShanghai(), wake: make(chan struct{}, 1),
		ahead: map[string]int64{}, stored: map[string]time.Time{}}
}

// Notify is the ingest subscriber: it only wakes the worker (a queue of
// one: notifications arriving during a pass coalesce into the next), so the
// feed's request returns at once. The worker reads what was stored from its
// cursors, so a lost notification delays nothing beyond the next tick.
func (e *Engine) Notify(_ context.Context, c ingest.Committed) {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run passes over new rows on every notification and every Tick until ctx
// ends.
func (e *Engine) Run(ctx context.Context) {
	t := time.NewTicker(e.d.Options.Tick)
	defer t.Stop()
	for {
		began := time.Now()
		if _, err := e.Pass(ctx); err != nil && ctx.Err() == nil {
			e.d.Logger.ErrorContext(ctx, "journey pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			e.stop(ctx)
			return
		case <-e.wake:
		case <-t.C:
		}
		if wait := time.Until(began.Add(e.d.Options.Gap)); wait > 0 {
			select {
			case <-ctx.Done():
				e.stop(ctx)
				return
			case <-time.After(wait):
			}
		}
	}
}

// stop writes the positions held in memory when Run ends, so that a clean
// restart does not read those rows again.
func (e *Engine) stop(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for src := range e.ahead {
		if err := e.writeAhead(ctx, src, e.d.Clock.Now().UTC()); err != nil {
			e.d.Logger.ErrorContext(ctx, "journey cursor not written at stop", "source", src, "err", err)
		}
	}
}

// position is src's cursor: the stored one, or the position held in memory
// past it.
func (e *Engine) position(ctx context.Context, src string) (int64, bool, error) {
	pos, ok, err := e.d.Store.Cursor(ctx, src)
	if err != nil || !ok {
		return pos, ok, err
	}
	return max(pos, e.ahead[src]), true, nil
}

// writeAhead stores src's position held in memory, if any.
func (e *Engine) writeAhead(ctx context.Context, src string, now time.Time) error {
	pos, ok := e.ahead[src]
	if !ok {
		return nil
	}
	if err := e.d.Store.SetCursor(ctx, src, pos, now); err != nil { // one statement: its own transaction
		return err
	}
	e.written(src, now)
	return nil
}

// written notes that src's cursor was stored at now.
func (e *Engine) written(src string, now time.Time) {
	delete(e.ahead, src)
	e.stored[src] = now
}

// holds reports whether a chunk without candidates may keep its position
// in memory instead of writing it: the cursor was written less than
// CursorEvery ago (a restarted engine writes its first).
func (e *Engine) holds(src string, now time.Time) bool {
	at, ok := e.stored[src]
	return ok && now.Sub(at) < e.d.Options.CursorEvery
}

// Pass evaluates the live journeys on every row stored since the cursors,
// until caught up, and returns the firings. Each chunk of rows commits its
// firings, their actions and the cursor together.
func (e *Engine) Pass(ctx context.Context) ([]Firing, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	js, err := e.active(ctx)
	if err != nil {
		return nil, err
	}
	var all []Firing
	for _, src := range []string{SourceTransactions, SourceEvents, SourceLevels} {
		for {
			fs, more, err := e.chunk(ctx, src, js)
			if err != nil {
				return all, fmt.Errorf("journeys on %s: %w", src, err)
			}
			all = append(all, fs...)
			if !more {
				break
			}
		}
	}
	return all, nil
}

// active returns the active journeys by trigger.
func (e *Engine) active(ctx context.Context) (map[string][]Journey, error) {
	list, err := e.d.Store.ListJourneys(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]Journey{}
	for _, j := range list {
		if j.Status == Active {
			out[j.Definition.Trigger] = append(out[j.Definition.Trigger], j)
		}
	}
	return out, nil
}

// chunk reads up to Batch ids of src past its cursor and fires on them in
// one transaction with the new cursor; more says the source has more.
func (e *Engine) chunk(ctx context.Context, src string, js map[string][]Journey) ([]Firing, bool, error) {
	pos, ok, err := e.position(ctx, src)
	if err != nil {
		return nil, false, err
	}
	top, err := e.d.Store.MaxID(ctx, src)
	if err != nil {
		return nil, false, err
	}
	now := e.d.Clock.Now().UTC()
	if !ok {
		// First start: history is not a live event.
		if err := e.d.Store.SetCursor(ctx, src, top, now); err != nil {
			return nil, false, err
		}
		e.written(src, now)
		return nil, false, nil
	}
	if top <= pos {
		if e.holds(src, now) {
			return nil, false, nil
		}
		return nil, false, e.writeAhead(ctx, src, now)
	}
	upto := min(top, pos+e.d.Options.Batch)
	from := max(0, pos-e.d.Options.Overlap)
	cands, err := e.candidates(ctx, src, js, from, upto, now)
	if err != nil {
		return nil, false, err
	}
	if e.d.Options.Overlap > 0 && pos > from {
		if cands, err = e.unfired(ctx, cands); err != nil {
			return nil, false, err
		}
	}
	if len(cands) == 0 && e.holds(src, now) {
		e.ahead[src] = upto
		return nil, upto < top, nil
	}
	setCursor := func(ctx context.Context) error { return e.d.Store.SetCursor(ctx, src, upto, now) }
	fired, err := e.fireAll(ctx, cands, now, setCursor)
	if err != nil && ctx.Err() == nil && len(cands) > 0 {
		// One bad event must not hold the journeys back for ever: fire
		// the chunk's candidates one by one, recording a candidate that
		// still fails as a failed firing.
		e.d.Logger.WarnContext(ctx, "journey chunk failed; firing its events one by one", "source", src, "err", err)
		if fired, err = e.fireEach(ctx, cands, now); err == nil {
			err = e.d.Tx.WithTx(ctx, setCursor)
		}
	}
	if err != nil {
		return nil, false, err
	}
	e.written(src, now)
	return fired, upto < top, nil
}

// unfired drops the candidates that already fired: with Overlap every pass
// re-reads ids below its cursor, and their actions would otherwise be
// prepared and decided again only for the replay check to drop them. The
// check in the transaction (InsertFiring's ON CONFLICT) still decides.
func (e *Engine) unfired(ctx context.Context, cands []candidate) ([]candidate, error) {
	byJourney := map[int64][]int64{}
	for _, c := range cands {
		byJourney[c.j.ID] = append(byJourney[c.j.ID], c.customerID)
	}
	fired := map[int64]map[string]bool{}
	for id, customers := range byJourney {
		slices.Sort(customers)
		customers = slices.Compact(customers)
		fired[id] = map[string]bool{}
		for part := range slices.Chunk(customers, 1000) { // a bounded IN list
			refs, err := e.d.Store.FiredRefs(ctx, id, part)
			if err != nil {
				return nil, err
			}
			maps.Copy(fired[id], refs)
		}
	}
	out := cands[:0]
	for _, c := range cands {
		if !fired[c.j.ID][strconv.FormatInt(c.customerID, 10)+" "+c.ref] {
			out = append(out, c)
		}
	}
	return out, nil
}

// fireEach fires each candidate in its own transaction. A candidate whose
// actions fail is recorded as a firing whose every action failed (the
// error goes to the log, not to the firing, which staff read), so it is not
// retried for ever and shows in the results.
func (e *Engine) fireEach(ctx context.Context, cands []candidate, now time.Time) ([]Firing, error) {
	var all []Firing
	for _, c := range cands {
		fs, err := e.fireAll(ctx, []candidate{c}, now, nil)
		if err == nil {
			all = append(all, fs...)
			continue
		}
		if ctx.Err() != nil {
			return all, err
		}
		e.d.Logger.ErrorContext(ctx, "journey firing failed", "journey", c.j.ID, "customer", c.customerID, "ref", c.ref,
			"err", err)
		f := e.newFiring(c, now)
		for _, a := range c.j.Definition.Actions {
			f.Outcomes = append(f.Outcomes, ActionOutcome{Kind: a.Kind, Outcome: OutFailed, Reason: "internal_error"})
		}
		err = e.d.Tx.WithTx(ctx, func(ctx context.Context) error {
			ok, err := e.d.Store.InsertFiring(ctx, &f)
			if err != nil || !ok {
				return err
			}
			return e.d.Store.SaveOutcomes(ctx, f)
		})
		if err != nil {
			return all, err
		}
		all = append(all, f)
	}
	return all, nil
}

// fireAll prepares the candidates' actions on the read pool (templates,
// customers, the contact-policy decisions), then fires them and runs also
// (the cursor's update) in one short write transaction, and tells Fired
// what fired once it committed.
func (e *Engine) fireAll(ctx context.Context, cands []candidate, now time.Time, also func(ctx context.Context) error) ([]Firing, error) {
	p, err := e.prepare(ctx, cands, now)
	if err != nil {
		return nil, err
	}
	var fired []Firing
	err = e.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		fired = fired[:0]
		if err := e.confirm(ctx, p); err != nil {
			return err
		}
		st := newTxState()
		for _, it := range p.items {
			f, ok, err := e.fire(ctx, it, now, st)
			if err != nil {
				return err
			}
			if ok {
				fired = append(fired, f)
			}
		}
		if err := st.save(ctx, e.d.Policy); err != nil {
			return err
		}
		if also != nil {
			return also(ctx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(fired) > 0 && e.Fired != nil {
		e.Fired(fired)
	}
	return fired, nil
}
