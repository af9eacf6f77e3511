package interaction

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Audit actions of this module.
const (
	ActionRecord = "interaction.record" // a contact recorded; Changes hold channel, purpose, response, products
	ActionList   = "interaction.list"   // a customer's interactions were shown; Count says how many
)

// DefaultQuietDays is the pitch quiet period when none is configured: a
// declined product is not offered again for 30 days.
const DefaultQuietDays = 30

// Store is the storage the interaction service needs.
type Store interface {
	// ProductsByRef returns the products with these codes or ids; unknown
	// ones are simply absent.
	ProductsByRef(ctx context.Context, codes []string, ids []int64) ([]Product, error)
	// Products returns the whole product shelf, for forms.
	Products(ctx context.Context) ([]Product, error)
	// CreateInteraction inserts in with its products and returns its id.
	CreateInteraction(ctx context.Context, in Interaction) (int64, error)
	// ListInteractions returns up to limit interactions of a customer with
	// ids below before (0: from the newest), newest first, with the names of
	// the staff who recorded them.
	ListInteractions(ctx context.Context, customerID, before int64, limit int) ([]Interaction, error)
	// DeclinedSince returns, per customer, the products declined at or after
	// since, newest first.
	DeclinedSince(ctx context.Context, customerIDs []int64, since time.Time) (map[int64][]Quiet, error)
}

// Config is the module's policy.
type Config struct {
	// QuietDays is the pitch quiet period after a product is declined
	// (--pitch-quiet-days, KEHU_PITCH_QUIET_DAYS); 0 means DefaultQuietDays.
	QuietDays int
}

// Service records and lists interactions. Scope comes from customer.Service:
// whoever may see a customer may record a contact with them.
type Service struct {
	store     Store
	customers *customer.Service
	clock     kehu.Clock
	audit     audit.Recorder
	tx        kehu.Transactor
	quiet     time.Duration
	loc       *time.Location
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store     Store
	Customers *customer.Service
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
	Config    Config
}

// NewService returns a Service; it panics without Audit, Tx or Customers,
// a wiring mistake.
func NewService(d Deps) *Service {
	if d.Audit == nil || d.Tx == nil || d.Customers == nil {
		panic("interaction.NewService: Deps.Audit, Deps.Tx and Deps.Customers are required")
	}
	days := d.Config.QuietDays
	if days <= 0 {
		days = DefaultQuietDays
	}
	return &Service{store: d.Store, customers: d.Customers, clock: d.Clock, audit: d.Audit, tx: d.Tx,
		quiet: time.Duration(days) * 24 * time.Hour, loc: kehu.LoadShanghai()}
}

// QuietDays returns the configured quiet period in days, for pages that
// explain it.
func (s *Service) QuietDays() int { return int(s.quiet / (24 * time.Hour)) }

// visible fails with ENOTFOUND unless customer id is in the actor's scope;
// it records nothing (customer.Service.Visible).
func (s *Service) visible(ctx context.Context, id int64) (kehu.Actor, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return a, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, access.CustomerRead) {
		return a, kehu.Errorf(kehu.EFORBIDDEN, "your role may not do this")
	}
	ok, err := s.customers.Visible(ctx, id)
	if err != nil {
		return a, err
	}
	if !ok {
		return a, kehu.Errorf(kehu.ENOTFOUND, "customer not found")
	}
	return a, nil
}

// Record stores a contact with customer id by the actor, with one
// interaction.record audit entry in the same transaction. The note is not
// copied into the audit trail: it may hold what the customer said.
func (s *Service) Record(ctx context.Context, customerID int64, n New) (Interaction, error) {
	a, err := s.visible(ctx, customerID)
	if err != nil {
		return Interaction{}, err
	}
	if err := n.Validate(); err != nil {
		return Interaction{}, err
	}
	products, err := s.resolve(ctx, n.Products)
	if err != nil {
		return Interaction{}, err
	}
	in := Interaction{CustomerID: customerID, UserID: a.UserID, UserName: a.Username,
		OccurredAt: s.clock.Now().UTC().Truncate(time.Microsecond), Channel: n.Channel, Purpose: n.Purpose,
		Products: products, Response: n.Response, Note: n.Note}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		if in.ID, err = s.store.CreateInteraction(ctx, in); err != nil {
			return err
		}
		codes := make([]string, len(products))
		for i, p := range products {
			codes[i] = p.Code
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionRecord, CustomerID: customerID,
			Object: "interaction:" + strconv.FormatInt(in.ID, 10), Changes: []audit.Change{
				{Field: "channel", New: in.Channel}, {Field: "purpose", New: in.Purpose},
				{Field: "response", New: in.Response}, {Field: "products", New: strings.Join(codes, ",")}}})
	})
	if err != nil {
		return Interaction{}, err
	}
	return in, nil
}

// resolve turns product codes and ids into products, naming each unknown
// one; duplicates collapse.
func (s *Service) resolve(ctx context.Context, refs []string) ([]Product, error) {
	if len(refs) == 0 {
		return []Product{}, nil
	}
	var codes []string
	var ids []int64
	for _, r := range refs {
		r = strings.TrimSpace(r)
		if id, err := strconv.ParseInt(r, 10, 64); err == nil {
			ids = append(ids, id)
		} else {
			codes = append(codes, r)
		}
	}
	found, err := s.store.ProductsByRef(ctx, codes, ids)
	if err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	var v kehu.Validation
	var out []Product
	seen := map[int64]bool{}
	for i, r := range refs {
		r = strings.TrimSpace(r)
		var p *Product
		for k := range found {
			if found[k].Code == r || strconv.FormatInt(found[k].ID, 10) == r {
				p = &found[k]
				break
			}
		}
		if p == nil {
			v.Add("products["+strconv.Itoa(i)+"]", "no such product")
			continue
		}
		if !seen[p.ID] {
			seen[p.ID] = true
			out = append(out, *p)
		}
	}
	return out, v.Err()
}

// List returns a page of the customer's interactions, newest first, and
// records one interaction.list entry.
func (s *Service) List(ctx context.Context, customerID int64, after kehu.Cursor, limit int) (Page, error) {
	if _, err := s.visible(ctx, customerID); err != nil {
		return Page{}, err
	}
	p, err := s.Recent(ctx, customerID, after, limit)
	if err != nil {
		return Page{}, err
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: ActionList, CustomerID: customerID,
		Object: "customer:" + strconv.FormatInt(customerID, 10), Count: len(p.Items)}); err != nil {
		return Page{}, err
	}
	return p, nil
}

// Recent returns a page of interactions without checking scope or
// recording: for a view (the 360) that has already read the customer
// through customer.Service.Get, which checked scope and wrote the view's one
// audit record.
func (s *Service) Recent(ctx context.Context, customerID int64, after kehu.Cursor, limit int) (Page, error) {
	limit = kehu.ClampLimit(limit)
	items, err := s.store.ListInteractions(ctx, customerID, after.AfterID, limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("interactions of %d: %w", customerID, err)
	}
	p := Page{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = kehu.Cursor{AfterID: p.Items[limit-1].ID}
	}
	if p.Items == nil {
		p.Items = []Interaction{}
	}
	return p, nil
}

// QuietProducts returns the products not to be pitched to customer id now,
// with the date until which each stays quiet. It checks the actor's scope
// and records nothing: the caller that shows the result records its own read
// (the 360 view, a campaign's contact check).
func (s *Service) QuietProducts(ctx context.Context, customerID int64) ([]Quiet, error) {
	if _, err := s.visible(ctx, customerID); err != nil {
		return nil, err
	}
	m, err := s.QuietFor(ctx, []int64{customerID})
	if err != nil {
		return nil, err
	}
	return m[customerID], nil
}

// QuietFor is QuietProducts for many customers at once, without a scope
// check: for trusted callers that selected the customers through
// customer.Service already (the contact policy of a campaign launch). A
// product declined twice counts from the latest refusal.
func (s *Service) QuietFor(ctx context.Context, customerIDs []int64) (map[int64][]Quiet, error) {
	now := s.clock.Now()
	declined, err := s.store.DeclinedSince(ctx, customerIDs, now.Add(-s.quiet))
	if err != nil {
		return nil, fmt.Errorf("quiet products: %w", err)
	}
	out := make(map[int64][]Quiet, len(declined))
	for cid, qs := range declined {
		seen := map[int64]bool{}
		var list []Quiet
		for _, q := range qs { // newest first: the first of a product is its latest refusal
			if seen[q.Product.ID] {
				continue
			}
			seen[q.Product.ID] = true
			q.Until = kehu.DateOf(q.DeclinedAt.Add(s.quiet).In(s.loc))
			list = append(list, q)
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].Product.Code < list[j].Product.Code })
		out[cid] = list
	}
	return out, nil
}

// Products returns the product shelf for the record form; signed-in staff
// only.
func (s *Service) Products(ctx context.Context) ([]Product, error) {
	if _, ok := kehu.ActorFrom(ctx); !ok {
		return nil, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	return s.store.Products(ctx)
}
