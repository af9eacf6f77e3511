package identity

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Store is the storage identity resolution needs. Methods that write are
// called inside the caller's transaction (kehu.Transactor).
type Store interface {
	// Rules returns the source priorities and field rules.
	Rules(ctx context.Context) (Rules, error)
	// SourceSystems lists the configured sources, most trusted first.
	SourceSystems(ctx context.Context) ([]SourceSystem, error)
	// Links returns the links of a source's keys, by source id.
	Links(ctx context.Context, sourceSystem string, sourceIDs []string) (map[string]*Link, error)
	// Customers loads the customers a batch may touch, in clear, with their
	// explicit provenance and origin link, keyed by id.
	Customers(ctx context.Context, q Lookup) (map[int64]*Existing, error)
	// ApplyPlan writes a plan: creates (filling p.IDs and resolving the
	// references), updates, links, provenance and suspected duplicates.
	ApplyPlan(ctx context.Context, p *Plan) error
	// CustomerLinks returns every source record linked to a customer.
	CustomerLinks(ctx context.Context, customerID int64) ([]Link, error)
	// RecordEdit marks fields of a customer as set in Kehu at at.
	RecordEdit(ctx context.Context, customerID int64, fields []string, at time.Time) error
	// Duplicates lists queued pairs (see Queue); Duplicate returns one.
	Duplicates(ctx context.Context, f DuplicateFilter) ([]Candidate, error)
	Duplicate(ctx context.Context, id int64, scope customer.ScopeFilter) (Candidate, error)
}

// Lookup names the customers a batch may touch: by id, by identity
// document (type and blind index) and by mobile blind index.
type Lookup struct {
	IDs        []int64
	Identities []IdentityKey
	Mobiles    []string
}

// IdentityKey is an identity document as the unique index holds it.
type IdentityKey struct{ IDType, Index string }

// Service resolves batches of incoming customer records and serves the
// provenance of a customer's fields.
type Service struct {
	store     Store
	tx        kehu.Transactor
	audit     audit.Recorder
	customers *customer.Service
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store Store
	Tx    kehu.Transactor
	// Audit records the field-level change of every existing customer an
	// import changes (customer.update), in the batch's transaction.
	Audit audit.Recorder
	// Customers checks the actor's scope for the provenance read.
	Customers *customer.Service
}

// NewService returns a Service; Store, Tx and Audit are required.
func NewService(d Deps) *Service {
	if d.Store == nil || d.Tx == nil || d.Audit == nil {
		panic("identity.NewService: Store, Tx and Audit are required")
	}
	return &Service{store: d.Store, tx: d.Tx, audit: d.Audit, customers: d.Customers}
}

// Rules returns the configured rules; an import loads them once per job.
func (s *Service) Rules(ctx context.Context) (Rules, error) { return s.store.Rules(ctx) }

// SourceSystems lists the configured source systems.
func (s *Service) SourceSystems(ctx context.Context) ([]SourceSystem, error) {
	return s.store.SourceSystems(ctx)
}

// Apply resolves a batch and writes the result in the transaction of ctx
// (or its own): new customers, changed fields with their provenance, source
// links and suspected duplicates. Every changed existing customer gets a
// customer.update audit record with its old and new values; created
// customers are recorded once, by the import job's own record. It returns
// one outcome per record, in order.
func (s *Service) Apply(ctx context.Context, b Batch, rules Rules) ([]Outcome, error) {
	var outcomes []Outcome
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		outcomes, err = s.apply(ctx, b, rules)
		return err
	})
	return outcomes, err
}

func (s *Service) apply(ctx context.Context, b Batch, rules Rules) ([]Outcome, error) {
	ids := make([]string, 0, len(b.Records))
	for _, r := range b.Records {
		if r.SourceID != "" && (b.Known == nil || b.Known.MayHaveLink(r.SourceID)) {
			ids = append(ids, r.SourceID)
		}
	}
	links, err := s.store.Links(ctx, b.SourceSystem, ids)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	existing, err := s.load(ctx, b, links)
	if err != nil {
		return nil, err
	}
	r := newResolver(b, rules, links, existing)
	r.run(existing)
	if err := s.store.ApplyPlan(ctx, &r.plan); err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	for _, u := range r.plan.Updates {
		if err := s.audit.Record(ctx, audit.Entry{Action: audit.CustomerUpdate, CustomerID: u.New.ID,
			Object: "customer:" + strconv.FormatInt(u.New.ID, 10), Changes: customer.DiffChanges(u.Old, u.New),
			Reason: u.Reason}); err != nil {
			return nil, err
		}
	}
	for i := range r.outcomes {
		r.outcomes[i].CustomerID = r.plan.resolveRef(r.outcomes[i].CustomerID)
	}
	return r.outcomes, nil
}

// load fetches the customers the records may resolve to, skipping records
// whose source sent the same values as last time, then the survivors of
// any merged customer among them.
func (s *Service) load(ctx context.Context, b Batch, links map[string]*Link) (map[int64]*Existing, error) {
	var q Lookup
	for _, r := range b.Records {
		if l := links[r.SourceID]; l != nil && r.SourceID != "" {
			if l.Prints == r.Prints {
				continue
			}
			q.IDs = append(q.IDs, l.CustomerID)
		}
		k, m := IdentityKey{r.Customer.IDType, r.Sealed.IDNumberIndex}, r.Sealed.MobileIndex
		if r.Customer.Type != customer.Individual {
			m = ""
		}
		switch {
		case b.Known != nil:
			if k.Index != "" {
				q.IDs = append(q.IDs, b.Known.IdentityHolders(k)...)
			}
			if m != "" {
				q.IDs = append(q.IDs, b.Known.MobileHolders(m)...)
			}
		default:
			if k.Index != "" {
				q.Identities = append(q.Identities, k)
			}
			if m != "" {
				q.Mobiles = append(q.Mobiles, m)
			}
		}
	}
	if len(q.IDs)+len(q.Identities)+len(q.Mobiles) == 0 {
		return map[int64]*Existing{}, nil
	}
	existing, err := s.store.Customers(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	for range 8 {
		var more Lookup
		for _, e := range existing {
			if e.MergedInto != 0 && existing[e.MergedInto] == nil {
				more.IDs = append(more.IDs, e.MergedInto)
			}
		}
		if len(more.IDs) == 0 {
			break
		}
		extra, err := s.store.Customers(ctx, more)
		if err != nil {
			return nil, fmt.Errorf("resolve: %w", err)
		}
		for id, e := range extra {
			existing[id] = e
		}
	}
	return existing, nil
}
