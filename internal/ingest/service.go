package ingest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/importer"
	"kehu/internal/kehu"
)

// AuditBatch is the audit action of one batch: one record per batch, never
// per line. Changes hold the counts; Outcome is "replayed" for a batch
// answered from its Idempotency-Key.
const AuditBatch = "ingest.batch"

// Store is the storage feeds need.
type Store interface {
	// FindBatch returns the live (unexpired at now) batch of user with key,
	// ENOTFOUND when there is none.
	FindBatch(ctx context.Context, userID int64, key string, now time.Time) (StoredBatch, error)
	// ClaimBatch inserts b, replacing an expired row with the same key. It
	// returns the id and false when a live batch already holds the key.
	ClaimBatch(ctx context.Context, b StoredBatch) (int64, bool, error)
	// FinishBatch stores the answer of a claimed batch.
	FinishBatch(ctx context.Context, id int64, r Result, answer []byte) error
	// PurgeBatches deletes batches that expired before now.
	PurgeBatches(ctx context.Context, now time.Time) (int64, error)
	// ResolveCustomers returns, per reference, the id of the customer it
	// names within scope (a merged customer resolves to its survivor), 0
	// for none, or ErasedCustomer.
	ResolveCustomers(ctx context.Context, refs []CustomerRef, scope customer.ScopeFilter) ([]int64, error)
	// ProductIDs returns the ids of the products with these codes.
	ProductIDs(ctx context.Context, codes []string) (map[string]int64, error)
	// ResolveAhead resolves refs (as ResolveCustomers) and product codes
	// before the write transaction, in one consistent read, with the mark
	// StillResolved checks. A store that cannot check returns an invalid
	// mark, and the transaction resolves again.
	ResolveAhead(ctx context.Context, refs []CustomerRef, codes []string, scope customer.ScopeFilter) (Resolution, error)
	// StillResolved reports, in the write transaction, whether nothing that
	// can change what a reference resolves to (a merge or its undo, an
	// erasure, a rectification, a customer edit, an import rollback, an
	// upsert feed) has committed since m; false for an invalid mark.
	StillResolved(ctx context.Context, m ResolveMark) (bool, error)
	// InsertEvents stores events whose (channel, event_id) is new, setting
	// their ID; duplicates keep ID 0. It returns how many it stored.
	InsertEvents(ctx context.Context, evs []Event) (int, error)
	// FeedJob returns the standing import job of a feed's kind and source
	// system (importer.FeedJobName), creating it on first use.
	FeedJob(ctx context.Context, kind, source string, a kehu.Actor, now time.Time) (importer.Job, error)
	// SourceSystems returns the codes of the configured source systems.
	SourceSystems(ctx context.Context) (map[string]bool, error)
}

// Upserter applies upsert records through the import's validation and
// identity resolution (importer.Engine).
type Upserter interface {
	ApplyFeed(ctx context.Context, job importer.Job, recs []map[string]string,
		scope *customer.ScopeFilter) ([]importer.FeedOutcome, []int64, error)
}

// Resolution is what an events batch's references resolved to before its
// write transaction: per reference the customer (as ResolveCustomers), the
// product ids by code, and the mark they were read at.
type Resolution struct {
	Customers []int64
	Products  map[string]int64
	Mark      ResolveMark
}

// ResolveMark is where in the store's history a Resolution was read. Audit
// is the newest audit entry then; an invalid mark is never still resolved.
type ResolveMark struct {
	Audit int64
	Valid bool
}

// StoredBatch is a batch remembered under its Idempotency-Key.
type StoredBatch struct {
	ID          int64
	UserID      int64
	Key         string
	Kind        Kind
	RequestHash string
	Answer      []byte // the Result as JSON
	ReceivedAt  time.Time
	ExpiresAt   time.Time
}

// ScopeReader gives the actor's own customer scope for a permission
// (customer.Service.WriteScope): a feed writes with data.ingest, which an
// integration account holds without customer.read, and an access grant
// (which widens reads only) never widens it.
type ScopeReader interface {
	WriteScope(ctx context.Context, perm access.Permission) (customer.ScopeFilter, error)
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store     Store
	Customers ScopeReader
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
	Config    Config
	// Subscribers are told what each batch stored, after commit.
	Subscribers []Subscriber
	// Upserts applies the upsert kinds; nil answers them ENOTFOUND.
	Upserts Upserter
	// Recompute is told, after commit, the customers whose accounts or
	// holdings an upsert batch changed (the level engine sets AUM and
	// level); nil leaves it to the importer's own recompute in the batch.
	Recompute func(ctx context.Context, ids []int64) error
}

// Service applies feed batches.
type Service struct {
	d   Deps
	cfg Config
}

// NewService returns a feed service. It panics without Audit or Tx: a batch
// must commit together with its audit record.
func NewService(d Deps) *Service {
	if d.Audit == nil || d.Tx == nil || d.Store == nil || d.Customers == nil {
		panic("ingest.NewService: Store, Customers, Audit and Tx are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{d: d, cfg: d.Config.withDefaults()}
}

// Config returns the limits in force (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// ValidKind reports whether k is a kind of feed.
func ValidKind(k Kind) bool { return slices.Contains(Kinds, k) }

// Ingest applies one batch for the actor in ctx and answers it line by line.
// A batch whose Idempotency-Key was seen within the window is answered from
// the stored result and not applied again; the same key with another body is
// a conflict. Only a batch in which no line is JSON at all is an error
// (EINVALID); otherwise bad lines are reported in the Result.
func (s *Service) Ingest(ctx context.Context, b Batch) (Result, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return Result{}, err
	}
	if !ValidKind(b.Kind) {
		return Result{}, kehu.Errorf(kehu.ENOTFOUND, "no feed of kind %q; kinds: %s", b.Kind, kindList())
	}
	if err := CheckKey(b.Key); err != nil {
		return Result{}, err
	}
	hash := requestHash(b)
	if b.Key != "" {
		if r, ok, err := s.replay(ctx, a, b, hash); ok || err != nil {
			return r, err
		}
	}
	now := s.d.Clock.Now()
	p, res, err := s.prepare(ctx, b, now)
	if err != nil {
		return Result{}, err
	}
	var l lookups
	var ahead Resolution
	if b.Kind == Events {
		l = lookupsOf(&p)
		if ahead, err = s.resolveAhead(ctx, l); err != nil {
			return Result{}, fmt.Errorf("ingest %s: %w", b.Kind, err)
		}
	}
	committed, claimed, err := s.apply(ctx, a, b, hash, &p, l, ahead, &res)
	if err != nil {
		return Result{}, fmt.Errorf("ingest %s: %w", b.Kind, err)
	}
	if !claimed { // a concurrent request with the same key committed first
		r, ok, err := s.replay(ctx, a, b, hash)
		if err == nil && !ok { // its key expired in between: rare enough to ask for a retry
			err = kehu.Errorf(kehu.ECONFLICT, "a batch with this Idempotency-Key was being applied; retry")
		}
		return r, err
	}
	s.afterCommit(ctx, committed)
	return res, nil
}

// prepare splits and validates the lines, outside the write transaction.
func (s *Service) prepare(ctx context.Context, b Batch, now time.Time) (parsed, Result, error) {
	lines, bad, err := splitLines(b.Body, s.cfg)
	if err != nil {
		return parsed{}, Result{}, err
	}
	var p parsed
	switch {
	case b.Kind == Events:
		p = s.parseEvents(lines, now)
	case s.d.Upserts == nil:
		return parsed{}, Result{}, kehu.Errorf(kehu.ENOTFOUND, "the %s feed is not enabled on this server", b.Kind)
	default:
		p = s.parseRecords(b.Kind, lines)
	}
	p.errs = append(bad, p.errs...)
	if p.decoded == 0 {
		return parsed{}, Result{}, nothingParsed(p.errs)
	}
	res := Result{Kind: b.Kind, Lines: len(lines) + len(bad), ReceivedAt: now}
	return p, res, nil
}

// apply writes a prepared batch in one transaction: the claim of its key,
// the events (their customers and products resolved first) or records, the
// one audit record and the stored answer.
// claimed is false when a concurrent batch with the same key won.
func (s *Service) apply(ctx context.Context, a kehu.Actor, b Batch, hash string, p *parsed, l lookups,
	ahead Resolution, res *Result) (Committed, bool, error) {
	var committed Committed
	claimed := true
	err := s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		var batchID int64
		var err error
		if b.Key != "" {
			batchID, claimed, err = s.d.Store.ClaimBatch(ctx, StoredBatch{UserID: a.UserID, Key: b.Key, Kind: b.Kind,
				RequestHash: hash, ReceivedAt: res.ReceivedAt, ExpiresAt: res.ReceivedAt.Add(s.cfg.KeyWindow)})
			if err != nil || !claimed {
				return err
			}
		}
		if b.Kind == Events {
			if p.ready, err = s.resolveEvents(ctx, p, l, ahead, res); err != nil {
				return err
			}
			committed, err = s.storeEvents(ctx, p.ready, res)
		} else {
			committed, err = s.storeRecords(ctx, b.Kind, p, res)
		}
		if err != nil {
			return err
		}
		res.finish(p.errs)
		if err := s.d.Audit.Record(ctx, batchEntry(*res, b.Key, "")); err != nil {
			return err
		}
		if batchID != 0 {
			return s.d.Store.FinishBatch(ctx, batchID, *res, encodeResult(*res))
		}
		return nil
	})
	return committed, claimed, err
}

// parsed is a batch after validation, before its references are resolved.
type parsed struct {
	decoded int // lines that were JSON objects of the right shape
	events  []pendingEvent
	ready   resolved // events with their references resolved
	records []record
	errs    []LineError
}

// actor returns the actor, who must hold data.ingest.
func (s *Service) actor(ctx context.Context) (kehu.Actor, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return a, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, access.DataIngest) {
		return a, kehu.Errorf(kehu.EFORBIDDEN, "your role may not feed data")
	}
	return a, nil
}

// maxKeyLen bounds an Idempotency-Key; a UUID or a source's batch number fit
// easily.
const maxKeyLen = 255

// CheckKey accepts an Idempotency-Key of printable ASCII ("" is no key).
func CheckKey(k string) error {
	if len(k) > maxKeyLen || strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		return &kehu.Error{Code: kehu.EINVALID, Message: "invalid Idempotency-Key",
			Fields: []kehu.FieldError{{Field: "Idempotency-Key", Reason: fmt.Sprintf(
				"must have 1-%d printable ASCII characters", maxKeyLen)}}}
	}
	return nil
}

// requestHash identifies a batch's content, so a key reused for different
// content is recognised.
func requestHash(b Batch) string {
	h := sha256.New()
	h.Write([]byte(b.Kind))
	h.Write([]byte{'\n'})
	h.Write(b.Body)
	return hex.EncodeToString(h.Sum(nil))
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// nothingParsed is the error of a batch without a single usable line.
func nothingParsed(errs []LineError) error {
	e := &kehu.Error{Code: kehu.EINVALID, Message: "no line of the batch is a JSON object; nothing was applied"}
	if len(errs) == 0 {
		e.Message = "the batch is empty: send one JSON object per line"
	}
	for i, le := range errs {
		if i == 20 { // the first lines tell what is wrong; the rest repeat it
			break
		}
		e.Fields = append(e.Fields, kehu.FieldError{Field: "line " + strconv.Itoa(le.Line), Reason: le.Reason})
	}
	return e
}

// finish completes the counts once the lines are decided.
func (r *Result) finish(errs []LineError) {
	slices.SortStableFunc(errs, func(x, y LineError) int { return cmp.Compare(x.Line, y.Line) })
	r.Errors = errs
	r.Rejected = countLines(errs)
	r.Duplicates = len(r.DuplicateLines)
	r.Accepted = r.Lines - r.Rejected - r.Duplicates
	if r.Errors == nil {
		r.Errors = []LineError{}
	}
	if r.DuplicateLines == nil {
		r.DuplicateLines = []int{}
	}
}

// countLines counts the distinct lines of sorted errors (a line may have
// several).
func countLines(errs []LineError) int {
	n := 0
	for i, e := range errs {
		if i == 0 || errs[i-1].Line != e.Line {
			n++
		}
	}
	return n
}

// batchEntry is the one audit record of a batch.
func batchEntry(r Result, key, outcome string) audit.Entry {
	changes := []audit.Change{
		{Field: "accepted", New: strconv.Itoa(r.Accepted)},
		{Field: "rejected", New: strconv.Itoa(r.Rejected)},
		{Field: "duplicates", New: strconv.Itoa(r.Duplicates)},
	}
	if key != "" {
		changes = append(changes, audit.Change{Field: "idempotency_key", New: key})
	}
	return audit.Entry{Action: AuditBatch, Object: "ingest:" + string(r.Kind), Count: r.Accepted,
		Changes: changes, Outcome: outcome}
}

// afterCommit recomputes the levels an upsert batch may have changed and
// tells the subscribers what the batch stored. A failed recompute does not
// undo the batch: the nightly run recomputes every customer anyway.
func (s *Service) afterCommit(ctx context.Context, c Committed) {
	if len(c.Events) == 0 && len(c.CustomerIDs) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if s.d.Recompute != nil && len(c.CustomerIDs) > 0 {
		_ = s.d.Recompute(ctx, c.CustomerIDs)
	}
	for _, sub := range s.d.Subscribers {
		sub(ctx, c)
	}
}

// Purge forgets batch keys past their window; the nightly run calls it.
// Lookups ignore expired keys anyway, so the purge only reclaims space.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	n, err := s.d.Store.PurgeBatches(ctx, s.d.Clock.Now())
	if err != nil {
		return 0, fmt.Errorf("purge ingest batches: %w", err)
	}
	return n, nil
}
