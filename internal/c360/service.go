package c360

import (
	"context"
	"fmt"
	"time"

	"kehu/internal/account"
	"kehu/internal/contact"
	"kehu/internal/customer"
	"kehu/internal/interaction"
	"kehu/internal/kehu"
	"kehu/internal/privacy"
	"kehu/internal/tag"
	"kehu/internal/vault"
)

// Store is what the 360 reads beyond the other modules' services. Every
// method reads one customer, already checked in scope by customer.Service.
type Store interface {
	// Transactions returns up to q.Limit transactions newest first, with
	// account numbers in clear.
	Transactions(ctx context.Context, customerID int64, q TxnQuery) ([]account.Transaction, error)
	// Postings returns the customer's transactions since since, oldest first.
	Postings(ctx context.Context, customerID int64, since time.Time) ([]Posting, error)
	// Events returns the newest channel events.
	Events(ctx context.Context, customerID int64, limit int) ([]Event, error)
	// Contact returns the contact preferences (zero when none were
	// recorded) with the stored consent rows (channels never answered are
	// absent), in one read.
	Contact(ctx context.Context, customerID int64) (Preferences, error)
	SecondaryRMs(ctx context.Context, customerID int64) ([]Staff, error)
	// MergedAt returns when a merged customer was merged (ok false when the
	// merge log does not hold it).
	MergedAt(ctx context.Context, customerID int64) (at time.Time, ok bool, err error)
}

// Leveler explains a customer's level (the versioned level rule of
// internal/level, adapted in cmd/kehu). It is called after the customer was
// read through customer.Service.Get, so it checks no scope and records
// nothing.
type Leveler interface {
	Explain(ctx context.Context, customerID int64) (Level, error)
}

// Sizes of the parts of a view.
const (
	RecentEvents       = 20
	RecentInteractions = 10
)

// Service builds 360 views.
type Service struct {
	store        Store
	customers    *customer.Service
	accounts     *account.Service
	interactions *interaction.Service
	tags         *tag.Service
	contact      *contact.Service
	levels       Leveler
	clock        kehu.Clock
	loc          *time.Location
}

// Deps are the collaborators of a Service. Levels may be nil: the view then
// shows the stored level with its AUM as the reason.
type Deps struct {
	Store        Store
	Customers    *customer.Service
	Accounts     *account.Service
	Interactions *interaction.Service
	Tags         *tag.Service
	// Contact changes the contact preferences of the 偏好与授权 tab.
	Contact *contact.Service
	Levels  Leveler
	Clock   kehu.Clock
}

// NewService returns a Service.
func NewService(d Deps) *Service {
	if d.Customers == nil || d.Accounts == nil || d.Interactions == nil || d.Tags == nil || d.Store == nil ||
		d.Contact == nil {
		panic("c360.NewService: Store, Customers, Accounts, Interactions, Tags and Contact are required")
	}
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{store: d.Store, customers: d.Customers, accounts: d.Accounts, interactions: d.Interactions,
		tags: d.Tags, contact: d.Contact, levels: d.Levels, clock: d.Clock, loc: kehu.LoadShanghai()}
}

// View builds the 360 of customer id with the transactions f selects. An id
// outside the actor's scope is ENOTFOUND, like an unknown one. The one audit
// record is account.Service.Summary's customer.read.
func (s *Service) View(ctx context.Context, id int64, f TxnFilter) (View, error) {
	if err := f.Validate(); err != nil {
		return View{}, err
	}
	// The summary's own recent transactions and tags would repeat the
	// view's transaction page and tag.Service.Of: not read.
	sum, err := s.accounts.SummaryOf(ctx, id, account.Parts{})
	if err != nil {
		return View{}, err
	}
	now := s.clock.Now().UTC()
	v := View{Profile: sum.Customer, AccountNoMasked: sum.AccountNoMasked, Relationships: relationships(sum.Relationships)}
	fail := func(err error) (View, error) { return View{}, fmt.Errorf("360 of %d: %w", id, err) }
	if v.Transactions, err = s.transactions(ctx, sum.Customer, f); err != nil {
		return fail(err)
	}
	postings, err := s.store.Postings(ctx, id, trendStart(now, s.loc))
	if err != nil {
		return fail(err)
	}
	v.Accounts, v.Holdings = groupAccounts(sum.Accounts), groupHoldings(sum.Holdings)
	v.AUM = aumOf(sum.Accounts, sum.Holdings)
	v.AUM.Trend = Trend(now, s.loc, sum.Accounts, sum.Holdings, postings)
	newest, err := s.newestTransaction(ctx, id, f, v.Transactions, postings)
	if err != nil {
		return fail(err)
	}
	v.KPIs = kpis(now, sum, postings, newest)
	if v.Events, err = s.store.Events(ctx, id, RecentEvents); err != nil {
		return fail(err)
	}
	if err := s.contacts(ctx, &v); err != nil {
		return fail(err)
	}
	// Computed tags are brought up to date from what the view has already
	// read; usually nothing changed and nothing is written.
	if v.Tags, err = s.tags.Of(ctx, id); err != nil {
		return fail(err)
	}
	res, err := s.tags.RecomputeFrom(ctx, s.facts(now, sum, postings, v.Events, newest), v.Tags)
	if err != nil {
		return fail(err)
	}
	if res.Added+res.Removed+res.Changed > 0 {
		if v.Tags, err = s.tags.Of(ctx, id); err != nil {
			return fail(err)
		}
	}
	if v.Preferences, err = s.preferences(ctx, id); err != nil {
		return fail(err)
	}
	if v.Owners, err = s.owners(ctx, sum); err != nil {
		return fail(err)
	}
	if v.Merged, err = s.merged(ctx, sum.Customer); err != nil {
		return fail(err)
	}
	v.Risk = riskOf(sum.Customer, now, s.loc)
	if v.Level, err = s.level(ctx, sum.Customer); err != nil {
		return fail(err)
	}
	return v, nil
}

// facts are what the computed-tag rules read, taken from the view's own
// reads: the stored AUM, the newest transaction and event, the year's
// postings (salary credits, credit-card purchases) and the maturities of
// holdings and active time deposits.
func (s *Service) facts(now time.Time, sum account.Summary, postings []Posting, events []Event, newest *time.Time) tag.Facts {
	f := tag.Facts{CustomerID: sum.Customer.ID, Since: sum.Customer.CreatedAt, AUM: sum.Customer.AUM,
		Erased: sum.Customer.Status == customer.StatusErased}
	if newest != nil {
		f.LastActivity = *newest
	}
	if len(events) > 0 && events[0].OccurredAt.After(f.LastActivity) {
		f.LastActivity = events[0].OccurredAt
	}
	card := map[int64]bool{}
	today := kehu.DateOf(now.In(s.loc))
	for _, a := range sum.Accounts {
		card[a.ID] = a.ProductType == account.CreditCard
		if a.ProductType == account.TimeDeposit && a.Status == "active" && !a.MaturesOn.IsZero() &&
			!a.MaturesOn.Time().Before(today.Time()) {
			f.Maturities = append(f.Maturities, a.MaturesOn)
		}
	}
	for _, h := range sum.Holdings {
		if !h.MaturesOn.IsZero() && !h.MaturesOn.Time().Before(today.Time()) {
			f.Maturities = append(f.Maturities, h.MaturesOn)
		}
	}
	for _, p := range postings {
		switch {
		case (p.Kind == "salary" || p.Kind == "pension") && p.Amount > 0:
			f.SalaryCredits = append(f.SalaryCredits, p.OccurredAt)
		case p.Kind == "card_spend" && card[p.AccountID]:
			f.CardSpends = append(f.CardSpends, p.OccurredAt)
		}
	}
	return f
}

// contacts fills the recent interactions, the last contact and the products
// in their quiet period.
func (s *Service) contacts(ctx context.Context, v *View) error {
	p, err := s.interactions.Recent(ctx, v.Profile.ID, kehu.Cursor{}, RecentInteractions)
	if err != nil {
		return err
	}
	v.Interactions = p.Items
	if len(p.Items) > 0 {
		t := p.Items[0].OccurredAt
		v.KPIs.LastContactAt = &t
	}
	quiet, err := s.interactions.QuietFor(ctx, []int64{v.Profile.ID})
	if err != nil {
		return err
	}
	v.QuietProducts = quiet[v.Profile.ID]
	if v.QuietProducts == nil {
		v.QuietProducts = []interaction.Quiet{}
	}
	return nil
}

// Transactions returns one page of a customer's transactions for the
// transaction tab and GET …/transactions: scope-checked and recorded once
// (customer.read) by customer.Service.Get.
func (s *Service) Transactions(ctx context.Context, id int64, f TxnFilter) (TxnPage, error) {
	if err := f.Validate(); err != nil {
		return TxnPage{}, err
	}
	c, err := s.customers.Get(ctx, id)
	if err != nil {
		return TxnPage{}, err
	}
	return s.transactions(ctx, c, f)
}

func (s *Service) transactions(ctx context.Context, c customer.Customer, f TxnFilter) (TxnPage, error) {
	q := f.query(s.loc)
	limit := q.Limit
	q.Limit++ // one more tells whether a next page exists
	items, err := s.store.Transactions(ctx, c.ID, q)
	if err != nil {
		return TxnPage{}, err
	}
	p := TxnPage{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		last := p.Items[limit-1]
		p.NextCursor = encodeTxnCursor(last.OccurredAt, last.ID)
	}
	if p.Items == nil {
		p.Items = []account.Transaction{}
	}
	if maskAccounts(ctx, c) {
		for i := range p.Items {
			p.Items[i].AccountNo = vault.MaskAccountNo(p.Items[i].AccountNo)
		}
	}
	return p, nil
}

// maskAccounts applies the vault policy for account numbers, the rule
// account.Service applies to the accounts table.
func maskAccounts(ctx context.Context, c customer.Customer) bool {
	a, _ := kehu.ActorFrom(ctx)
	own := c.OwnerID != nil && *c.OwnerID == a.UserID
	return !vault.ShowsClear(a.Role, "account_no", own)
}

// SetPreferences replaces customer id's contact preferences
// (contact.Service.Set: customer.write, the write scope, one
// customer.preferences record with old → new) and answers the tab's
// content: the preferences with the consents, read without a further
// record — the write checked scope and recorded itself.
func (s *Service) SetPreferences(ctx context.Context, id int64, in contact.Input) (Preferences, error) {
	if _, err := s.contact.Set(ctx, id, in); err != nil {
		return Preferences{}, err
	}
	return s.preferences(ctx, id)
}

// preferences are the stored contact preferences and the consent of every
// channel (a channel never answered is not granted), read without the
// consent.read record: the 360's customer.read covers the view.
func (s *Service) preferences(ctx context.Context, id int64) (Preferences, error) {
	p, err := s.store.Contact(ctx, id)
	if err != nil {
		return p, err
	}
	stored := p.Consents
	p.Consents = make([]privacy.Consent, 0, len(privacy.Channels))
	for _, ch := range privacy.Channels {
		c := privacy.Consent{Channel: ch}
		for _, x := range stored {
			if x.Channel == ch {
				c = x
			}
		}
		p.Consents = append(p.Consents, c)
	}
	return p, nil
}

func (s *Service) owners(ctx context.Context, sum account.Summary) (Owners, error) {
	var o Owners
	if sum.Customer.OwnerID != nil {
		o.Primary = &Staff{ID: *sum.Customer.OwnerID, Name: sum.OwnerName}
	}
	var err error
	if o.Secondaries, err = s.store.SecondaryRMs(ctx, sum.Customer.ID); err != nil {
		return o, err
	}
	if o.Secondaries == nil {
		o.Secondaries = []Staff{}
	}
	return o, nil
}

// level asks the level rule when wired, else explains the stored level by
// the stored AUM.
func (s *Service) level(ctx context.Context, c customer.Customer) (Level, error) {
	if s.levels != nil {
		return s.levels.Explain(ctx, c.ID)
	}
	return Level{Code: c.Level, Source: "stored", Reasons: []Reason{{
		ZH: "金融资产（AUM）" + money(c.AUM), EN: "AUM " + money(c.AUM)}}}, nil
}

func riskOf(c customer.Customer, now time.Time, loc *time.Location) Risk {
	r := Risk{Level: c.RiskLevel, AssessedAt: c.RiskAssessedAt}
	if c.RiskAssessedAt == nil {
		return r
	}
	d := c.RiskAssessedAt.In(loc)
	exp := kehu.DateOf(time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC).AddDate(RiskValidityYears, 0, 0))
	r.ExpiresOn = &exp
	today := kehu.DateOf(now.In(loc)).Time()
	r.Expired = !today.Before(exp.Time())
	r.ExpiringSoon = !r.Expired && !today.AddDate(0, 0, RiskWarnDays).Before(exp.Time())
	return r
}

func aumOf(accounts []account.Account, holdings []account.Holding) AUM {
	var a AUM
	for _, acc := range accounts {
		switch {
		case isDeposit(acc.ProductType):
			a.Deposits += acc.Balance
		case acc.ProductType == account.Loan && acc.Balance < 0:
			a.Loans -= acc.Balance
		}
	}
	for _, h := range holdings {
		a.Investments += h.Amount
	}
	a.Total = a.Deposits + a.Investments
	return a
}

func kpis(now time.Time, sum account.Summary, postings []Posting, newest *time.Time) KPIs {
	var k KPIs
	card := map[int64]bool{}
	for _, a := range sum.Accounts {
		if a.ProductType == account.CreditCard {
			card[a.ID] = true
			k.CardLimit += a.CreditLimit
		}
	}
	since := now.AddDate(0, 0, -30)
	for _, p := range postings {
		if p.OccurredAt.Before(since) {
			continue
		}
		k.Transactions30d++
		if card[p.AccountID] && p.Amount < 0 && p.Kind == "card_spend" {
			k.CardSpend30d -= p.Amount
			k.CardSpends30d++
		}
	}
	k.LastTransactionAt = newest
	return k
}

// newestTransaction is when the customer last transacted, from what the
// view has read: the first row of an unfiltered first page, else the last
// posting of the trend's twelve months; only a filtered view of a customer
// without postings in a year asks the store once more.
func (s *Service) newestTransaction(ctx context.Context, id int64, f TxnFilter, page TxnPage, postings []Posting) (*time.Time, error) {
	unfiltered := f.From == nil && f.To == nil && f.Kind == "" && f.Channel == "" && f.MinAmount == nil &&
		f.MaxAmount == nil && f.AccountID == 0 && f.Cursor == ""
	var t time.Time
	switch {
	case unfiltered && len(page.Items) > 0:
		t = page.Items[0].OccurredAt
	case unfiltered:
		return nil, nil // no transactions at all
	case len(postings) > 0:
		t = postings[len(postings)-1].OccurredAt
	default:
		last, err := s.store.Transactions(ctx, id, TxnQuery{Limit: 1})
		if err != nil || len(last) == 0 {
			return nil, err
		}
		t = last[0].OccurredAt
	}
	return &t, nil
}

func groupAccounts(as []account.Account) []AccountGroup {
	out := []AccountGroup{}
	for _, t := range account.ProductTypes {
		g := AccountGroup{Type: t}
		for _, a := range as {
			if a.ProductType == t {
				g.Accounts = append(g.Accounts, a)
				g.Total += a.Balance
			}
		}
		if len(g.Accounts) > 0 {
			out = append(out, g)
		}
	}
	return out
}

func groupHoldings(hs []account.Holding) []HoldingGroup {
	out := []HoldingGroup{}
	for _, t := range account.ProductTypes {
		g := HoldingGroup{Type: t}
		for _, h := range hs {
			if h.ProductType == t {
				g.Holdings = append(g.Holdings, h)
				g.Total += h.Amount
			}
		}
		if len(g.Holdings) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// money formats fen as ¥1,234.56.
func money(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	y, f := fen/100, fen%100
	s := fmt.Sprint(y)
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	out := fmt.Sprintf("¥%s.%02d", b, f)
	if neg {
		out = "-" + out
	}
	return out
}
