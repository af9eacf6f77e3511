package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Kinds of segment.
const (
	// Static segments keep the members their rule selected when the
	// snapshot was taken (on save and on request).
	Static = "static"
	// Dynamic segments evaluate their rule whenever they are used.
	Dynamic = "dynamic"
)

// Audit actions of this module. Object is "segment:<id>".
const (
	ActionCreate   = "segment.create"
	ActionUpdate   = "segment.update"
	ActionDelete   = "segment.delete"
	ActionSnapshot = "segment.snapshot" // Count: the members taken
	ActionMembers  = "segment.members"  // a page of members was shown; Count: how many
)

// Segment is a saved segment.
type Segment struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Rule        *Rule  `json:"rule"`
	Kind        string `json:"kind"`
	OwnerID     int64  `json:"owner_id"`
	OwnerName   string `json:"owner_name"`
	// SnapshotAt and MemberCount describe a static segment's snapshot.
	SnapshotAt  *time.Time `json:"snapshot_at"`
	MemberCount *int64     `json:"member_count"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Input is what a client sends to create or replace a segment.
type Input struct {
	Name        string
	Description string
	Rule        json.RawMessage
	Kind        string
}

// Store is the storage of segments and the evaluation of plans in SQL.
type Store interface {
	ListSegments(ctx context.Context) ([]Segment, error)
	// GetSegment returns ENOTFOUND for an unknown id.
	GetSegment(ctx context.Context, id int64) (Segment, error)
	// CreateSegment returns ECONFLICT when the name is taken.
	CreateSegment(ctx context.Context, s Segment) (Segment, error)
	UpdateSegment(ctx context.Context, s Segment) error
	// DeleteSegment removes the segment and its snapshot.
	DeleteSegment(ctx context.Context, id int64) error
	// ReferencedBy returns the ids of the segments whose rule names id.
	ReferencedBy(ctx context.Context, id int64) ([]int64, error)
	// Snapshot replaces a segment's members by the customers in scope the
	// plan selects and returns how many there are.
	Snapshot(ctx context.Context, id int64, p *Plan, scope customer.ScopeFilter, at time.Time) (int64, error)
	// ClearSnapshot removes the members (a segment turned dynamic).
	ClearSnapshot(ctx context.Context, id int64) error
	// CountSegment counts the customers in scope the plan selects.
	CountSegment(ctx context.Context, p *Plan, scope customer.ScopeFilter) (int64, error)
	// SegmentIDs returns up to limit ids greater than after, in order.
	SegmentIDs(ctx context.Context, p *Plan, scope customer.ScopeFilter, after int64, limit int) ([]int64, error)
	// CustomersByID returns the customers of ids in the order given.
	CustomersByID(ctx context.Context, ids []int64) ([]customer.Customer, error)
	// OrgPath returns an organisation's path; ENOTFOUND if there is none.
	OrgPath(ctx context.Context, id int64) (string, error)
}

// Tags lists the tag catalogue for the field picker (tag.Service).
type Tags interface {
	Options(ctx context.Context) ([]Option, error)
}

// Service keeps segments and evaluates them in the actor's scope.
type Service struct {
	store     Store
	customers *customer.Service
	clock     kehu.Clock
	audit     audit.Recorder
	tx        kehu.Transactor
	tags      Tags
	loc       *time.Location
}

// Deps are the collaborators of a Service; Tags may be nil (the has_tag
// field then offers no list to pick from).
type Deps struct {
	Store     Store
	Customers *customer.Service
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
	Tags      Tags
}

// NewService returns a Service; it panics without Store, Customers, Audit
// or Tx.
func NewService(d Deps) *Service {
	if d.Store == nil || d.Customers == nil || d.Audit == nil || d.Tx == nil {
		panic("segment.NewService: Deps.Store, Customers, Audit and Tx are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{store: d.Store, customers: d.Customers, clock: d.Clock, audit: d.Audit, tx: d.Tx, tags: d.Tags,
		loc: kehu.LoadShanghai()}
}

func object(id int64) string { return "segment:" + strconv.FormatInt(id, 10) }

// Fields returns the catalogue, with the tag catalogue as the options of
// has_tag (customer.read).
func (s *Service) Fields(ctx context.Context) ([]Field, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return nil, err
	}
	out := Catalogue()
	if s.tags != nil {
		opts, err := s.tags.Options(ctx)
		if err != nil {
			return nil, err
		}
		for i := range out {
			if out[i].Name == FHasTag {
				out[i].Enum = opts
			}
		}
	}
	return out, nil
}

// env is the planning environment at now; self is the segment being saved.
func (s *Service) env(now time.Time, self int64) Env {
	return Env{Now: now, Loc: s.loc, Self: self, OrgPath: s.store.OrgPath,
		Segment: func(ctx context.Context, id int64) (Ref, error) {
			g, err := s.store.GetSegment(ctx, id)
			if err != nil {
				return Ref{}, err
			}
			return Ref{ID: g.ID, Static: g.Kind == Static, Rule: g.Rule.JSON()}, nil
		}}
}

// PlanRule parses and plans a rule at the service clock's now.
func (s *Service) PlanRule(ctx context.Context, raw []byte) (*Plan, error) {
	r, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	return NewPlan(ctx, r, s.env(s.clock.Now(), 0))
}

// PlanFor returns the plan of a saved segment at now: its rule for a
// dynamic segment, its snapshot for a static one. Campaigns and journeys
// evaluate segments through it (Count/IDs in SQL, Plan.Eval in memory).
func (s *Service) PlanFor(ctx context.Context, id int64, now time.Time) (*Plan, error) {
	g, err := s.store.GetSegment(ctx, id)
	if err != nil {
		return nil, err
	}
	if g.Kind == Static {
		today := kehu.DateOf(now.In(s.loc))
		return &Plan{Root: &Node{Kind: Member, Segment: id}, Now: now.UTC(), Today: today, Loc: s.loc,
			RiskValidFrom: riskValidFrom(today, s.loc)}, nil
	}
	return NewPlan(ctx, g.Rule, s.env(now, id))
}

// Count counts the customers in the actor's scope a rule selects
// (customer.read).
func (s *Service) Count(ctx context.Context, raw []byte) (int64, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return 0, err
	}
	scope, err := s.customers.ReadScope(ctx)
	if err != nil {
		return 0, err
	}
	p, err := s.PlanRule(ctx, raw)
	if err != nil {
		return 0, err
	}
	return s.store.CountSegment(ctx, p, scope)
}

// List returns the saved segments (customer.read: definitions hold no
// customer data).
func (s *Service) List(ctx context.Context) ([]Segment, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return nil, err
	}
	return s.store.ListSegments(ctx)
}

// Get returns one segment.
func (s *Service) Get(ctx context.Context, id int64) (Segment, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return Segment{}, err
	}
	return s.store.GetSegment(ctx, id)
}

func (in *Input) check() (*Rule, error) {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	var v kehu.Validation
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 100 {
		v.Add("name", "must have 1 to 100 characters")
	}
	if utf8.RuneCountInString(in.Description) > 1000 {
		v.Add("description", "must have at most 1000 characters")
	}
	if in.Kind != Static && in.Kind != Dynamic {
		v.Add("kind", `must be "static" or "dynamic"`)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return Parse(in.Rule)
}

// Create saves a new segment (marketing.write); a static one takes its
// snapshot in the actor's scope at once.
func (s *Service) Create(ctx context.Context, in Input) (Segment, error) {
	a, err := access.ActorWith(ctx, access.MarketingWrite)
	if err != nil {
		return Segment{}, err
	}
	r, err := in.check()
	if err != nil {
		return Segment{}, err
	}
	now := s.clock.Now().UTC()
	p, err := NewPlan(ctx, r, s.env(now, 0))
	if err != nil {
		return Segment{}, err
	}
	g := Segment{Name: in.Name, Description: in.Description, Rule: r, Kind: in.Kind, OwnerID: a.UserID,
		CreatedAt: now, UpdatedAt: now}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		if g, err = s.store.CreateSegment(ctx, g); err != nil {
			return err
		}
		if g.Kind == Static {
			if err := s.snapshot(ctx, &g, p, now); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionCreate, Object: object(g.ID), Changes: []audit.Change{
			{Field: "name", New: g.Name}, {Field: "kind", New: g.Kind}, {Field: "rule", New: string(r.JSON())}}})
	})
	if err != nil {
		return Segment{}, err
	}
	return s.store.GetSegment(ctx, g.ID)
}

func (s *Service) snapshot(ctx context.Context, g *Segment, p *Plan, now time.Time) error {
	scope, err := s.customers.ReadScope(ctx)
	if err != nil {
		return err
	}
	n, err := s.store.Snapshot(ctx, g.ID, p, scope, now)
	if err != nil {
		return err
	}
	g.SnapshotAt, g.MemberCount = &now, &n
	return nil
}

// Update replaces a segment's name, description, rule and kind
// (marketing.write). A static segment is snapshotted again; one turned
// dynamic loses its snapshot.
func (s *Service) Update(ctx context.Context, id int64, in Input) (Segment, error) {
	if _, err := access.ActorWith(ctx, access.MarketingWrite); err != nil {
		return Segment{}, err
	}
	r, err := in.check()
	if err != nil {
		return Segment{}, err
	}
	now := s.clock.Now().UTC()
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		old, err := s.store.GetSegment(ctx, id)
		if err != nil {
			return err
		}
		p, err := NewPlan(ctx, r, s.env(now, id))
		if err != nil {
			return err
		}
		g := old
		g.Name, g.Description, g.Rule, g.Kind, g.UpdatedAt = in.Name, in.Description, r, in.Kind, now
		if err := s.store.UpdateSegment(ctx, g); err != nil {
			return err
		}
		if g.Kind == Static {
			if err := s.snapshot(ctx, &g, p, now); err != nil {
				return err
			}
		} else if old.Kind == Static {
			if err := s.store.ClearSnapshot(ctx, id); err != nil {
				return err
			}
		}
		var ch []audit.Change
		add := func(field, o, n string) {
			if o != n {
				ch = append(ch, audit.Change{Field: field, Old: o, New: n})
			}
		}
		add("name", old.Name, g.Name)
		add("description", old.Description, g.Description)
		add("kind", old.Kind, g.Kind)
		add("rule", string(old.Rule.JSON()), string(r.JSON()))
		return s.audit.Record(ctx, audit.Entry{Action: ActionUpdate, Object: object(id), Changes: ch})
	})
	if err != nil {
		return Segment{}, err
	}
	return s.store.GetSegment(ctx, id)
}

// Delete removes a segment no other segment references (marketing.write).
func (s *Service) Delete(ctx context.Context, id int64) error {
	if _, err := access.ActorWith(ctx, access.MarketingWrite); err != nil {
		return err
	}
	return s.tx.WithTx(ctx, func(ctx context.Context) error {
		g, err := s.store.GetSegment(ctx, id)
		if err != nil {
			return err
		}
		refs, err := s.store.ReferencedBy(ctx, id)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return kehu.Errorf(kehu.ECONFLICT, "segment %d is referenced by segment %s; change those rules first", id,
				joinIDs(refs))
		}
		if err := s.store.DeleteSegment(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionDelete, Object: object(id),
			Changes: []audit.Change{{Field: "name", Old: g.Name}, {Field: "rule", Old: string(g.Rule.JSON())}}})
	})
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// Snapshot takes a static segment's members again (marketing.write).
func (s *Service) Snapshot(ctx context.Context, id int64) (Segment, error) {
	if _, err := access.ActorWith(ctx, access.MarketingWrite); err != nil {
		return Segment{}, err
	}
	now := s.clock.Now().UTC()
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		g, err := s.store.GetSegment(ctx, id)
		if err != nil {
			return err
		}
		if g.Kind != Static {
			return kehu.Errorf(kehu.EINVALID, "segment %d is dynamic: it is evaluated whenever it is used and has no snapshot", id)
		}
		p, err := NewPlan(ctx, g.Rule, s.env(now, id))
		if err != nil {
			return err
		}
		if err := s.snapshot(ctx, &g, p, now); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionSnapshot, Object: object(id), Count: int(*g.MemberCount)})
	})
	if err != nil {
		return Segment{}, err
	}
	return s.store.GetSegment(ctx, id)
}

// MembersPage is one keyset page of a segment's members.
type MembersPage struct {
	Items      []customer.Customer
	NextCursor kehu.Cursor
}

// Members lists a page of a segment's members in the actor's scope, masked
// as a customer list is, with one audit record (customer.read).
func (s *Service) Members(ctx context.Context, id int64, after kehu.Cursor, limit int) (MembersPage, error) {
	var page MembersPage
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return page, err
	}
	scope, err := s.customers.ReadScope(ctx)
	if err != nil {
		return page, err
	}
	p, err := s.PlanFor(ctx, id, s.clock.Now())
	if err != nil {
		return page, err
	}
	limit = kehu.ClampLimit(limit)
	ids, err := s.store.SegmentIDs(ctx, p, scope, after.AfterID, limit+1)
	if err != nil {
		return page, err
	}
	if len(ids) > limit {
		ids = ids[:limit]
		page.NextCursor = kehu.Cursor{AfterID: ids[limit-1]}
	}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		cs, err := s.store.CustomersByID(ctx, ids)
		if err != nil {
			return err
		}
		for _, c := range cs {
			page.Items = append(page.Items, customer.Present(ctx, c))
		}
		return s.audit.Record(ctx, audit.Entry{Action: ActionMembers, Object: object(id), Count: len(page.Items)})
	})
	return page, err
}

// Audience returns up to limit member ids after the given id in the
// actor's scope, without recording: for modules that act on a segment and
// record their own action (a campaign launch).
func (s *Service) Audience(ctx context.Context, id int64, after int64, limit int) ([]int64, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return nil, err
	}
	scope, err := s.customers.ReadScope(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.PlanFor(ctx, id, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("segment audience: limit %d", limit)
	}
	return s.store.SegmentIDs(ctx, p, scope, after, limit)
}
