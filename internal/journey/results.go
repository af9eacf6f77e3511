package journey

import (
	"time"

	"kehu/internal/kehu"
	"kehu/internal/lift"
)

// Groups of a firing (lift.Treatment, lift.Control).
const (
	Treatment = lift.Treatment
	Control   = lift.Control
)

// MaxControlPct is the largest control group a journey may hold out.
const MaxControlPct = 50

// seedSalt keeps a journey's holdout apart from a campaign's whose random
// seed happens to equal the journey's id ("journey" in ASCII).
const seedSalt = 0x6a6f75726e6579

// InControl reports whether customerID is in the control group of a
// journey with a control group of pct percent: a fixed function of the
// journey id and the customer id, so every firing of a customer, and the
// results, put them in the same group. A customer held out at p% is held
// out at every larger percentage.
func InControl(journeyID, customerID int64, pct int) bool {
	return lift.InControl(journeyID^seedSalt, customerID, pct)
}

// Period limits results to the firings of the Asia/Shanghai days From to To
// (inclusive); a zero end is open.
type Period struct {
	From, To kehu.Date
}

// ResultsQuery is what the store counts for the results.
type ResultsQuery struct {
	JourneyID int64
	// ProductID and ConversionDays: a customer converted when they
	// acquired a holding, or opened an account, of the product on a day of
	// [fired_on, fired_on + ConversionDays) of one of their firings. No
	// conversions are counted without a product.
	ProductID      int64
	ConversionDays int
	// Period on the firings' days; FromAt (inclusive) and ToAt (exclusive)
	// are its instants, for the messages' creation times (zero: open).
	Period
	FromAt, ToAt time.Time
}

// Counts are the raw counts the store reads for the results.
type Counts struct {
	// Firings per group, and distinct customers per group and in all.
	FiredTreatment, FiredControl int64
	Treatment, Control           int64
	Customers                    int64
	// Actions by kind, outcome and reason.
	Actions []Count
	// The journey's messages in the outbox: reached a gateway, delivered,
	// opened, clicked, failed.
	Sent, Delivered, Opened, Clicked, Failed int64
	// Customers of each group who converted.
	ConvertedTreatment, ConvertedControl int64
}

// Count is the number of actions of one kind with one outcome and reason.
type Count struct {
	Kind    string `json:"kind"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	Count   int64  `json:"count"`
}

// Results are a journey's results over a period (docs/JOURNEYS.md,
// "Results"). Firings count events; the groups, their conversions and the
// lift count customers, each once per group.
type Results struct {
	JourneyID int64 `json:"journey_id"`
	// From and To are the period (null: open).
	From kehu.Date `json:"from"`
	To   kehu.Date `json:"to"`
	// Fired counts firings (customers entering the journey), Customers the
	// distinct customers fired.
	Fired     int64   `json:"fired"`
	Customers int64   `json:"customers"`
	Actions   []Count `json:"actions"`
	// Converted counts the customers of both groups who converted (null
	// without a product).
	Converted      *int64 `json:"converted"`
	ProductID      *int64 `json:"product_id"`
	ControlPct     int    `json:"control_pct"`
	ConversionDays int    `json:"conversion_days"`
	FiredTreatment int64  `json:"fired_treatment"`
	FiredControl   int64  `json:"fired_control"`
	// Treatment and Control are the customers of each group.
	Treatment int64 `json:"treatment"`
	Control   int64 `json:"control"`
	// Suppressed counts the messages the contact policy refused, by reason.
	Suppressed      map[string]int64 `json:"suppressed"`
	SuppressedTotal int64            `json:"suppressed_total"`
	// Actions done: messages queued now or after the quiet hours, tasks,
	// leads, tags; actions that failed.
	Queued        int64 `json:"queued"`
	Deferred      int64 `json:"deferred"`
	Tasks         int64 `json:"tasks"`
	Leads         int64 `json:"leads"`
	Tagged        int64 `json:"tagged"`
	ActionsFailed int64 `json:"actions_failed"`
	// From the outbox.
	Sent      int64 `json:"sent"`
	Delivered int64 `json:"delivered"`
	Opened    int64 `json:"opened"`
	Clicked   int64 `json:"clicked"`
	Failed    int64 `json:"failed"`
	// Conversions per group, their rates and the lift with its 95%
	// Newcombe interval (lift.Compute).
	ConvertedTreatment int64     `json:"converted_treatment"`
	ConvertedControl   int64     `json:"converted_control"`
	RateTreatment      float64   `json:"conversion_rate_treatment"`
	RateControl        float64   `json:"conversion_rate_control"`
	Lift               lift.Lift `json:"lift"`
	// Cost is the messages that reached a gateway × CostPerMessage; Value
	// the treatment's conversions × ValuePerConversion; Incremental the
	// conversions the journey caused (lift × treatment customers); ROI as
	// lift.Effect says (nil without a cost).
	Cost             int64    `json:"cost"`
	Value            int64    `json:"value"`
	Incremental      float64  `json:"incremental_conversions"`
	IncrementalValue int64    `json:"incremental_value"`
	ROI              *float64 `json:"roi"`
	ROIBasis         string   `json:"roi_basis"`
}

// Compute builds j's results over p from the store's counts.
func Compute(j Journey, p Period, c Counts) Results {
	d := j.Definition
	r := Results{JourneyID: j.ID, From: p.From, To: p.To, Fired: c.FiredTreatment + c.FiredControl,
		Customers: c.Customers, Actions: c.Actions, ControlPct: d.ControlPct, ConversionDays: d.Window(),
		FiredTreatment: c.FiredTreatment, FiredControl: c.FiredControl, Treatment: c.Treatment, Control: c.Control,
		Suppressed: map[string]int64{}, Sent: c.Sent, Delivered: c.Delivered, Opened: c.Opened, Clicked: c.Clicked,
		Failed: c.Failed, ConvertedTreatment: c.ConvertedTreatment, ConvertedControl: c.ConvertedControl}
	if r.Actions == nil {
		r.Actions = []Count{}
	}
	if d.ProductID != 0 {
		product, converted := d.ProductID, c.ConvertedTreatment+c.ConvertedControl
		r.ProductID, r.Converted = &product, &converted
	}
	for _, a := range r.Actions {
		switch a.Outcome {
		case OutSuppressed:
			r.Suppressed[a.Reason] += a.Count
			r.SuppressedTotal += a.Count
		case OutQueued:
			r.Queued += a.Count
		case OutDeferred:
			r.Deferred += a.Count
		case OutTaskCreated:
			r.Tasks += a.Count
		case OutLeadCreated:
			r.Leads += a.Count
		case OutTagged:
			r.Tagged += a.Count
		case OutFailed:
			r.ActionsFailed += a.Count
		}
	}
	e := lift.Compute(lift.Groups{Treatment: c.Treatment, Control: c.Control, ConvertedTreatment: c.ConvertedTreatment,
		ConvertedControl: c.ConvertedControl}, lift.Economics{Contacts: c.Sent, CostPer: d.CostPerMessage,
		ValuePer: d.ValuePerConversion})
	r.RateTreatment, r.RateControl, r.Lift = e.RateTreatment, e.RateControl, e.Lift
	r.Cost, r.Value, r.Incremental, r.IncrementalValue = e.Cost, e.Value, e.Incremental, e.IncrementalValue
	r.ROI, r.ROIBasis = e.ROI, e.ROIBasis
	return r
}

// HasMessages reports whether the journey sends messages (the results
// page's funnel shows delivery only then).
func (d Definition) HasMessages() bool {
	for _, a := range d.Actions {
		if a.Kind == ActMessage {
			return true
		}
	}
	return false
}
