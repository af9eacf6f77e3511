// Package policy is the contact policy: the one engine every campaign,
// journey and manual contact asks before a customer is messaged or called.
// For a customer, channel, purpose (marketing or service), optional offered
// product and instant it answers allow, defer (quiet hours: "not before
// <time>", so the caller can schedule) or suppress, with every failing rule
// as a stable reason code, worded in Chinese and English. It builds on the
// customer's contact preferences (internal/contact), marketing consent
// (internal/privacy), suitability (internal/suitability), the pitch quiet
// period after a refusal (internal/interaction) and its own contact log,
// which the frequency caps count. Decide serves one customer; DecideMany
// serves a campaign's audience with a few bulk reads per chunk. It knows no
// HTTP or SQL. docs/POLICY.md.
package policy

import (
	"slices"
	"time"

	"kehu/internal/contact"
	"kehu/internal/suitability"
)

// Purposes of a contact. Service messages (a maturity notice, a changed
// branch opening time) are not marketing: they skip consent, suitability,
// the product quiet period and the caps, but honour the customer's status,
// do-not-call and the quiet hours (docs/POLICY.md).
const (
	PurposeMarketing = "marketing"
	PurposeService   = "service"
)

// Purposes lists the purposes.
var Purposes = []string{PurposeMarketing, PurposeService}

// Channels are the contact channels, the marketing-consent channels of
// internal/privacy (a test keeps the two lists equal).
var Channels = []string{"sms", "app_push", "email", "wechat", "phone", "rm_visit"}

// Source kinds of a recorded contact.
const (
	SourceCampaign = "campaign"
	SourceJourney  = "journey"
	SourceManual   = "manual"
)

// SourceKinds lists the source kinds.
var SourceKinds = []string{SourceCampaign, SourceJourney, SourceManual}

// Outcomes of a decision.
const (
	Allow    = "allow"
	Defer    = "defer"
	Suppress = "suppress"
)

// Reason codes, stable: stored in suppression tallies, returned by the API
// and keyed in the UI. They are listed in rule order.
const (
	ReasonUnknownCustomer  = "unknown_customer"
	ReasonCustomerMerged   = "customer_merged"
	ReasonCustomerErased   = "customer_erased"
	ReasonCustomerClosed   = "customer_closed"
	ReasonDoNotCall        = "do_not_call"
	ReasonNoConsent        = "no_consent"
	ReasonConsentWithdrawn = "consent_withdrawn"
	// Suitability reasons are suitability's own codes.
	ReasonProductNotRated   = suitability.ProductNotRated
	ReasonAssessmentMissing = suitability.AssessmentMissing
	ReasonAssessmentExpired = suitability.AssessmentExpired
	ReasonRiskTooHigh       = suitability.RiskTooHigh
	ReasonProductQuiet      = "product_quiet_period"
	ReasonFrequencyCap      = "frequency_cap"
	ReasonChannelDayCap     = "frequency_cap_channel_day"
	ReasonNoContactWindow   = "no_contact_window"
	// Deferrals, not suppressions.
	ReasonQuietHours    = "quiet_hours"
	ReasonCustomerHours = "customer_hours"
)

// ReasonCodes lists every code in rule order.
var ReasonCodes = []string{ReasonUnknownCustomer, ReasonCustomerMerged, ReasonCustomerErased, ReasonCustomerClosed,
	ReasonDoNotCall, ReasonNoConsent, ReasonConsentWithdrawn, ReasonProductNotRated, ReasonAssessmentMissing,
	ReasonAssessmentExpired, ReasonRiskTooHigh, ReasonProductQuiet, ReasonFrequencyCap, ReasonChannelDayCap,
	ReasonNoContactWindow, ReasonQuietHours, ReasonCustomerHours}

// Deferral reports whether code defers rather than suppresses.
func Deferral(code string) bool { return code == ReasonQuietHours || code == ReasonCustomerHours }

// Request asks about one contact.
type Request struct {
	CustomerID int64
	Channel    string
	Purpose    string
	// ProductID is the offered product, 0 for none.
	ProductID int64
	// At is when the contact would happen; zero means now.
	At time.Time
}

// Batch is a contact to many customers: DecideMany's question.
type Batch struct {
	Channel   string
	Purpose   string
	ProductID int64
	At        time.Time
}

// Reason is one failing rule.
type Reason struct {
	Code string `json:"code"`
	// Until: the time a deferral ends, the end of a product quiet period.
	Until *time.Time `json:"until,omitempty"`
	// Since: when the customer declined the product.
	Since *time.Time `json:"since,omitempty"`
	// Count and Limit of a frequency cap; Days its period.
	Count int `json:"count,omitempty"`
	Limit int `json:"limit,omitempty"`
	Days  int `json:"days,omitempty"`
	// Suitability is the suitability result behind a suitability reason.
	Suitability *suitability.Result `json:"suitability,omitempty"`
	// ZH and EN word the reason (Decision.Word fills them).
	ZH string `json:"text_zh,omitempty"`
	EN string `json:"text_en,omitempty"`
}

// Decision is the policy's answer for one customer.
type Decision struct {
	CustomerID int64  `json:"customer_id"`
	Outcome    string `json:"outcome"`
	// DeferUntil is the earliest allowed time of a deferred contact.
	DeferUntil *time.Time `json:"defer_until,omitempty"`
	// Reasons are every failing rule in rule order: suppressions first,
	// then the deferral. Empty when allowed.
	Reasons []Reason `json:"reasons"`
	// Version is the policy settings version decided under (0: defaults).
	Version int64 `json:"policy_version"`
}

// Reason returns the deciding reason code: the first suppression, else the
// deferral, else "".
func (d Decision) Reason() string {
	if len(d.Reasons) == 0 {
		return ""
	}
	return d.Reasons[0].Code
}

// Consent states of a customer on a channel.
const (
	ConsentNone      = 0 // never answered: no consent (PIPL marketing is opt-in)
	ConsentGranted   = 1
	ConsentWithdrawn = 2
)

// Facts are what the store knows of one customer for one batch.
type Facts struct {
	Found      bool
	Status     string
	Assessment suitability.Assessment
	Prefs      contact.Preferences
	Consent    int
	// DeclinedAt is the latest refusal of the offered product at or after
	// FactQuery.DeclinedSince, nil when none.
	DeclinedAt *time.Time
	// Marketing counts the customer's marketing contacts at or after
	// FactQuery.PeriodSince (any channel); ChannelDay those on the channel
	// within [DayStart, DayEnd).
	Marketing  int
	ChannelDay int
}

// FactQuery says what Facts the store must read for a batch.
type FactQuery struct {
	Channel string
	// Marketing asks for consent, the refusal of ProductID and the contact
	// counts; a service batch needs status and preferences only.
	Marketing        bool
	ProductID        int64
	DeclinedSince    time.Time
	PeriodSince      time.Time
	DayStart, DayEnd time.Time
}

// Contact is one contact to record in the contact log.
type Contact struct {
	CustomerID int64  `json:"customer_id"`
	Channel    string `json:"channel"`
	Purpose    string `json:"purpose"`
	SourceKind string `json:"source_kind"`
	SourceID   int64  `json:"source_id"`
	// ProductID is the offered product, 0 for none.
	ProductID int64     `json:"product_id"`
	At        time.Time `json:"at"`
}

// Tally counts a run's decisions: suppressions by their deciding reason
// (each customer once), deferrals and allowed contacts.
type Tally struct {
	Allowed    int64            `json:"allowed"`
	Deferred   int64            `json:"deferred"`
	Suppressed map[string]int64 `json:"suppressed"`
}

// Add counts d.
func (t *Tally) Add(d Decision) {
	switch d.Outcome {
	case Allow:
		t.Allowed++
	case Defer:
		t.Deferred++
	default:
		if t.Suppressed == nil {
			t.Suppressed = map[string]int64{}
		}
		t.Suppressed[d.Reason()]++
	}
}

// AddAll counts every decision of ds.
func (t *Tally) AddAll(ds []Decision) {
	for _, d := range ds {
		t.Add(d)
	}
}

// engine applies settings s to facts; it is pure, so Decide and DecideMany
// cannot disagree.
type engine struct {
	s       Settings
	loc     *time.Location
	product *suitability.Product // the offered product, nil for none
	// quiet: the bank's quiet hours in minutes after midnight, parsed once
	// (a million decisions would otherwise parse them a million times).
	quiet              bool
	quietFrom, quietTo int
}

// newEngine returns the engine of settings s.
func newEngine(s Settings, loc *time.Location) engine {
	e := engine{s: s, loc: loc}
	from, err1 := clock(s.QuietFrom)
	to, err2 := clock(s.QuietTo)
	e.quiet, e.quietFrom, e.quietTo = err1 == nil && err2 == nil, from, to
	return e
}

// decide applies the rules in order to one customer.
func (e engine) decide(id int64, b Batch, f Facts) Decision {
	d := Decision{CustomerID: id, Version: e.s.Version}
	add := func(r Reason) { d.Reasons = append(d.Reasons, r) }
	marketing := b.Purpose == PurposeMarketing
	// 1. Status. A closed customer may still need a service notice about
	// the closed relationship; merged and erased records are never
	// contacted (the survivor is; erased data must not be used).
	if !f.Found {
		add(Reason{Code: ReasonUnknownCustomer})
		d.Outcome = Suppress
		return d
	}
	switch {
	case f.Status == "merged":
		add(Reason{Code: ReasonCustomerMerged})
	case f.Status == "erased":
		add(Reason{Code: ReasonCustomerErased})
	case f.Status == "closed" && marketing:
		add(Reason{Code: ReasonCustomerClosed})
	}
	// 2. Do-not-contact: the customer asked not to be phoned (PIPL Art. 44
	// and the consumer-protection rules let them refuse a contact method),
	// honoured for service calls too — the bank uses another channel.
	if b.Channel == "phone" && f.Prefs.DoNotCall {
		add(Reason{Code: ReasonDoNotCall})
	}
	if marketing {
		// 3. Consent: marketing is opt-in per channel; a withdrawal is
		// read from the database at decision time, so it wins at once.
		switch f.Consent {
		case ConsentWithdrawn:
			add(Reason{Code: ReasonConsentWithdrawn})
		case ConsentNone:
			add(Reason{Code: ReasonNoConsent})
		}
		if e.product != nil {
			// 4. Suitability of the offered product.
			r := suitability.Evaluate(f.Assessment, *e.product, b.At, suitability.Validity(e.s.AssessmentValidityMonths), e.loc)
			if !r.Suitable {
				add(Reason{Code: r.Code, Suitability: &r})
			}
			// 5. The product quiet period after a refusal.
			if f.DeclinedAt != nil && e.s.QuietPeriodDays > 0 {
				until := f.DeclinedAt.Add(time.Duration(e.s.QuietPeriodDays) * 24 * time.Hour).UTC()
				if b.At.Before(until) {
					since := *f.DeclinedAt
					add(Reason{Code: ReasonProductQuiet, Since: &since, Until: &until, Days: e.s.QuietPeriodDays})
				}
			}
		}
		// 6. Frequency caps across every campaign, journey and channel.
		if f.Marketing >= e.s.MaxMarketing {
			add(Reason{Code: ReasonFrequencyCap, Count: f.Marketing, Limit: e.s.MaxMarketing, Days: e.s.PeriodDays})
		}
		if f.ChannelDay >= e.s.MaxPerChannelDay {
			add(Reason{Code: ReasonChannelDayCap, Count: f.ChannelDay, Limit: e.s.MaxPerChannelDay, Days: 1})
		}
	}
	// 7. Quiet hours: the bank's and the customer's own hours and days.
	// Inside them the contact is deferred to the earliest allowed time.
	if r, ok := e.window(b.At, f.Prefs); ok {
		add(r)
	}
	switch {
	case len(d.Reasons) == 0:
		d.Outcome = Allow
	case Deferral(d.Reasons[0].Code):
		d.Outcome = Defer
		d.DeferUntil = d.Reasons[0].Until
	default:
		d.Outcome = Suppress
	}
	return d
}

// window returns the quiet-hours reason for a contact at t, ok false when t
// is inside the bank's and the customer's hours.
func (e engine) window(t time.Time, p contact.Preferences) (Reason, bool) {
	bankOK, custOK := e.bankAllows(t), true
	if p.ContactDays != "" || p.ContactFrom != "" {
		custOK = p.Allows("", t, e.loc)
	}
	if bankOK && custOK {
		return Reason{}, false
	}
	code := ReasonQuietHours
	if bankOK {
		code = ReasonCustomerHours
	}
	next, found := e.nextAllowed(t, p)
	if !found {
		return Reason{Code: ReasonNoContactWindow}, true
	}
	return Reason{Code: code, Until: &next}, true
}

// bankAllows reports whether t is outside the bank-wide quiet hours.
func (e engine) bankAllows(t time.Time) bool {
	if !e.quiet {
		return true
	}
	from, to := e.quietFrom, e.quietTo
	l := t.In(e.loc)
	m := l.Hour()*60 + l.Minute()
	if from < to { // quiet inside the day, e.g. 12:00–13:30
		return m < from || m >= to
	}
	return m >= to && m < from // quiet across midnight, e.g. 21:00–08:00
}

// nextAllowed finds the earliest instant after t allowed by both the bank
// and the customer, within eight days. The allowed set is an intersection
// of daily windows and day kinds, so its earliest point is the start of one
// of them: a bank window opening, a customer window opening or a midnight.
func (e engine) nextAllowed(t time.Time, p contact.Preferences) (time.Time, bool) {
	l := t.In(e.loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, e.loc)
	var cands []time.Time
	opens := []string{e.s.QuietTo, p.ContactFrom}
	for i := range 9 {
		d := day.AddDate(0, 0, i)
		cands = append(cands, d)
		for _, o := range opens {
			if m, err := clock(o); err == nil {
				cands = append(cands, d.Add(time.Duration(m)*time.Minute))
			}
		}
	}
	slices.SortFunc(cands, func(a, b time.Time) int { return a.Compare(b) })
	for _, c := range cands {
		if c.After(t) && e.bankAllows(c) && p.Allows("", c, e.loc) {
			return c.UTC(), true
		}
	}
	return time.Time{}, false
}
