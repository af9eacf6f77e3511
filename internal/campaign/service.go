package campaign

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/policy"
	"kehu/internal/segment"
	"kehu/internal/task"
)

// Audit actions of this module; Object is "campaign:<id>".
const (
	ActionCreate  = "campaign.create"
	ActionUpdate  = "campaign.update"
	ActionSubmit  = "campaign.submit"
	ActionApprove = "campaign.approve"
	ActionReject  = "campaign.reject"
	ActionLaunch  = "campaign.launch"
	ActionPause   = "campaign.pause"
	ActionResume  = "campaign.resume"
	ActionCancel  = "campaign.cancel"
	// ActionRun: a run finished (Count: its audience); recorded as the
	// launching user, by the server.
	ActionRun = "campaign.run"
	// ActionMembers: a page of members was shown (Count).
	ActionMembers = "campaign.members"
)

// Window is the conversion window of one run: purchases on days From (the
// run's start, Asia/Shanghai) up to but not including To.
type Window struct {
	Run      int
	From, To kehu.Date
}

// Store keeps campaigns, their runs and members.
type Store interface {
	CreateCampaign(ctx context.Context, c *Campaign) error
	// GetCampaign returns ENOTFOUND for an unknown id.
	GetCampaign(ctx context.Context, id int64) (Campaign, error)
	// ListCampaigns returns campaigns newest first, of one status when set.
	ListCampaigns(ctx context.Context, status string) ([]Campaign, error)
	UpdateCampaign(ctx context.Context, c Campaign) error

	// SegmentName returns a segment's name (ENOTFOUND when none).
	SegmentName(ctx context.Context, id int64) (string, error)
	// Product returns a product (ENOTFOUND when none).
	Product(ctx context.Context, id int64) (Product, error)
	// Template returns a message template at its current version;
	// TemplateVersion one saved version.
	Template(ctx context.Context, id int64) (msgtemplate.Template, error)
	TemplateVersion(ctx context.Context, id int64, version int) (msgtemplate.Version, error)
	// Products returns the products on sale, by code.
	Products(ctx context.Context) ([]Product, error)
	// ActorOf returns a user as an actor and whether the user is active.
	ActorOf(ctx context.Context, userID int64) (kehu.Actor, bool, error)

	// CreateRun inserts a run unless one with its number exists.
	CreateRun(ctx context.Context, r Run) (bool, error)
	Runs(ctx context.Context, campaignID int64) ([]Run, error)
	// ClaimRun makes one due run running under owner: a pending run due by
	// now of a campaign that is scheduled or running, or a running run whose
	// heartbeat is before staleBefore (its server died). false when none.
	ClaimRun(ctx context.Context, owner string, now, staleBefore time.Time) (Run, bool, error)
	// SaveBatch adds members and stores the run's counters, checkpoint and
	// heartbeat, provided owner still holds the run (ECONFLICT otherwise).
	SaveBatch(ctx context.Context, owner string, r Run, members []Member, now time.Time) error
	// SetRun stores a run's status, finish time and error (owner "" for a
	// run nobody holds).
	SetRun(ctx context.Context, owner string, r Run) error
	// ReadAhead reports whether a launch reads and decides its next batch
	// while the current one commits (true on PostgreSQL, where those reads
	// run on other connections beside the write; on SQLite the launch was
	// slower with it, probably because readers busy beside every commit
	// hold back the WAL checkpoint).
	ReadAhead() bool
	// MessageIDs returns the outbox ids of dedup keys; TaskIDs the task ids.
	MessageIDs(ctx context.Context, keys []string) (map[string]int64, error)
	TaskIDs(ctx context.Context, keys []string) (map[string]int64, error)
	// WithdrawQueued fails the campaign's messages still queued, with reason.
	WithdrawQueued(ctx context.Context, campaignID int64, reason string, now time.Time) (int64, error)
	// HoldMessages holds the campaign's unsent messages: the outbox claims
	// none of them (those queued later neither) until ReleaseMessages or
	// UnholdMessages; it returns how many queued messages it parked.
	HoldMessages(ctx context.Context, campaignID int64, now time.Time) (int64, error)
	// ReleaseMessages lifts the hold: plan gets the held messages in the
	// order of their own send times (then ids) and returns each one's new
	// send time, or the zero time to withdraw it as expired — the message
	// failed with reason, its member's outcome suppressed, reason expired.
	// It returns how many it released and how many expired.
	ReleaseMessages(ctx context.Context, campaignID int64, plan ReleasePlan, reason string, now time.Time) (released, expired int64, err error)
	// QueuedMessages counts the campaign's messages the outbox has not
	// sent yet (queued, held or not).
	QueuedMessages(ctx context.Context, campaignID int64) (int64, error)
	// UnholdMessages lifts the hold giving the messages their own times
	// back (before WithdrawQueued, in the same transaction).
	UnholdMessages(ctx context.Context, campaignID int64, now time.Time) error
	// HeldMessages counts the campaign's held messages.
	HeldMessages(ctx context.Context, campaignID int64) (int64, error)
	// Members returns up to limit members of a run (every run when 0)
	// after customer id `after`, of customers inside scope.
	Members(ctx context.Context, campaignID int64, run int, scope customer.ScopeFilter, after int64, limit int) ([]Member, error)
	// RunCounts reads the raw counts of each run; conversions of the
	// product within each run's window (none without a product).
	RunCounts(ctx context.Context, campaignID int64, productID *int64, windows []Window) ([]RunCounts, error)
}

// Deps are the collaborators of a Service.
type Deps struct {
	Store     Store
	Customers *customer.Service
	Segments  *segment.Service
	Policy    *policy.Service
	Queue     *outbox.Queue
	// Tasks serves rm_task and call_list (internal/task); nil refuses
	// those channels.
	Tasks  *task.Service
	Clock  kehu.Clock
	Audit  audit.Recorder
	Tx     kehu.Transactor
	Logger *slog.Logger
	// Batch is how many audience customers one launch transaction takes
	// (default 2,000); Lease how long a run's heartbeat keeps it claimed
	// (default 2 minutes).
	Batch int
	Lease time.Duration
}

// Service is campaigns: definitions, maker-checker approval, launches and
// results.
type Service struct {
	d     Deps
	loc   *time.Location
	owner string
	kick  chan struct{}
}

// NewService returns a Service; it panics without Store, Customers,
// Segments, Policy, Queue, Audit or Tx (a wiring mistake).
func NewService(d Deps) *Service {
	if d.Store == nil || d.Customers == nil || d.Segments == nil || d.Policy == nil || d.Queue == nil ||
		d.Audit == nil || d.Tx == nil {
		panic("campaign.NewService: Store, Customers, Segments, Policy, Queue, Audit and Tx are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Batch <= 0 {
		d.Batch = 2000
	}
	if d.Lease <= 0 {
		d.Lease = 2 * time.Minute
	}
	return &Service{d: d, loc: kehu.LoadShanghai(), owner: newOwner(), kick: make(chan struct{}, 1)}
}

func object(id int64) string { return "campaign:" + strconv.FormatInt(id, 10) }

// reader is the actor of a campaign read: campaign.manage or
// campaign.approve (makers and checkers both see campaigns).
func reader(ctx context.Context) (kehu.Actor, error) {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return a, kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	if !access.Can(a.Role, access.CampaignManage) && !access.Can(a.Role, access.CampaignApprove) {
		return a, kehu.Errorf(kehu.EFORBIDDEN, "campaigns need the campaign.manage or campaign.approve permission")
	}
	return a, nil
}

// Get returns one campaign, with its held messages when it is paused.
func (s *Service) Get(ctx context.Context, id int64) (Campaign, error) {
	if _, err := reader(ctx); err != nil {
		return Campaign{}, err
	}
	return s.withHeld(ctx, id)
}

// withHeld reads campaign id and, when it is paused, counts its held
// messages (only a paused campaign holds any); when it is completed, its
// messages still queued (a throttled backlog Pause can hold).
func (s *Service) withHeld(ctx context.Context, id int64) (Campaign, error) {
	c, err := s.d.Store.GetCampaign(ctx, id)
	switch {
	case err != nil:
		return c, err
	case c.Status == Paused:
		c.HeldMessages, err = s.d.Store.HeldMessages(ctx, id)
	case c.Status == Completed:
		c.QueuedMessages, err = s.d.Store.QueuedMessages(ctx, id)
	}
	return c, err
}

// List returns the campaigns, of one status when set.
func (s *Service) List(ctx context.Context, status string) ([]Campaign, error) {
	if _, err := reader(ctx); err != nil {
		return nil, err
	}
	if status != "" && !contains(Statuses, status) {
		return nil, invalid("status", "请选择列出的状态之一", "must be one of "+join(Statuses))
	}
	return s.d.Store.ListCampaigns(ctx, status)
}

// Runs returns a campaign's runs.
func (s *Service) Runs(ctx context.Context, id int64) ([]Run, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	return s.d.Store.Runs(ctx, id)
}

// MembersPage is one keyset page of members.
type MembersPage struct {
	Items      []Member
	NextCursor kehu.Cursor
}

// Members lists a page of the members of one run (the latest when run is
// 0) whose customers are in the actor's read scope, with one audit record.
func (s *Service) Members(ctx context.Context, id int64, run int, after kehu.Cursor, limit int) (MembersPage, error) {
	var page MembersPage
	if _, err := s.Get(ctx, id); err != nil {
		return page, err
	}
	if run <= 0 {
		runs, err := s.d.Store.Runs(ctx, id)
		if err != nil {
			return page, err
		}
		run = 1
		if len(runs) > 0 {
			run = runs[len(runs)-1].Number
		}
	}
	scope, err := s.d.Customers.ReadScope(ctx)
	if err != nil {
		return page, err
	}
	limit = kehu.ClampLimit(limit)
	ms, err := s.d.Store.Members(ctx, id, run, scope, after.AfterID, limit+1)
	if err != nil {
		return page, err
	}
	if len(ms) > limit {
		ms = ms[:limit]
		page.NextCursor = kehu.Cursor{AfterID: ms[limit-1].CustomerID}
	}
	page.Items = ms
	entry := audit.Entry{Action: ActionMembers, Object: object(id), Count: len(ms), Reason: "run " + strconv.Itoa(run)}
	return page, s.d.Tx.WithTx(ctx, func(ctx context.Context) error { return s.d.Audit.Record(ctx, entry) })
}

// Results returns a campaign's results: per run and in total.
func (s *Service) Results(ctx context.Context, id int64) (Results, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Results{}, err
	}
	runs, err := s.d.Store.Runs(ctx, id)
	if err != nil {
		return Results{}, err
	}
	var windows []Window
	for _, r := range runs {
		if r.StartedAt != nil {
			from := kehu.DateOf(r.StartedAt.In(s.loc))
			to := kehu.DateOf(from.Time().AddDate(0, 0, c.ConversionDays))
			windows = append(windows, Window{Run: r.Number, From: from, To: to})
		}
	}
	counts, err := s.d.Store.RunCounts(ctx, id, c.ProductID, windows)
	if err != nil {
		return Results{}, err
	}
	return Compute(c, runs, counts), nil
}

// Products lists the products a campaign may offer (those on sale).
func (s *Service) Products(ctx context.Context) ([]Product, error) {
	if _, err := reader(ctx); err != nil {
		return nil, err
	}
	return s.d.Store.Products(ctx)
}

// Message is what a campaign sends: its template's content at the pinned
// version (the current one before approval), for makers and checkers to
// read. ok is false for the task channels.
func (s *Service) Message(ctx context.Context, c Campaign) (content msgtemplate.Content, version int, ok bool, err error) {
	if _, err := reader(ctx); err != nil {
		return content, 0, false, err
	}
	if c.TemplateID == nil {
		return content, 0, false, nil
	}
	if c.TemplateVersion > 0 {
		v, err := s.d.Store.TemplateVersion(ctx, *c.TemplateID, c.TemplateVersion)
		return v.Content, v.Version, err == nil, err
	}
	t, err := s.d.Store.Template(ctx, *c.TemplateID)
	return t.Content, t.Version, err == nil, err
}
