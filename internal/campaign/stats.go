package campaign

import "kehu/internal/lift"

// The interval arithmetic lives in internal/lift, shared with journeys;
// these names keep the campaign package's vocabulary.
const (
	// Z95 is the standard normal quantile of a two-sided 95% interval.
	Z95 = lift.Z95
	// MethodNewcombe names the interval of DifferenceCI.
	MethodNewcombe = lift.MethodNewcombe
)

// Lift is the difference of two conversion rates with its interval.
type Lift = lift.Lift

// Wilson returns the Wilson score interval of x successes in n trials.
func Wilson(x, n int64, z float64) (lo, hi float64) { return lift.Wilson(x, n, z) }

// DifferenceCI is the 95% Newcombe hybrid score interval of p1 − p2.
func DifferenceCI(x1, n1, x2, n2 int64) Lift { return lift.DifferenceCI(x1, n1, x2, n2) }

// WaldCI is the simple asymptotic interval, kept for comparison.
func WaldCI(x1, n1, x2, n2 int64) (lo, hi float64) { return lift.WaldCI(x1, n1, x2, n2) }

// RunCounts are the raw counts of one run, as the store reads them.
type RunCounts struct {
	Run        int
	Control    int64
	Treatment  int64
	Queued     int64 // messages queued now (throttled or not)
	Deferred   int64 // messages queued for after the quiet hours
	Tasks      int64
	Suppressed map[string]int64
	// From the outbox: messages that reached a gateway, were delivered,
	// opened, clicked, failed.
	Sent, Delivered, Opened, Clicked, Failed int64
	// Members who bought the offered product within the window.
	ConvertedTreatment, ConvertedControl int64
}

// Numbers are the results of a run or of the whole campaign.
type Numbers struct {
	Audience        int64            `json:"audience"`
	Control         int64            `json:"control"`
	Treatment       int64            `json:"treatment"`
	Suppressed      map[string]int64 `json:"suppressed"`
	SuppressedTotal int64            `json:"suppressed_total"`
	Queued          int64            `json:"queued"`
	Deferred        int64            `json:"deferred"`
	Tasks           int64            `json:"tasks"`
	Sent            int64            `json:"sent"`
	Delivered       int64            `json:"delivered"`
	Opened          int64            `json:"opened"`
	Clicked         int64            `json:"clicked"`
	Failed          int64            `json:"failed"`
	// Conversions per group and their rates (converted / group size).
	ConvertedTreatment int64   `json:"converted_treatment"`
	ConvertedControl   int64   `json:"converted_control"`
	RateTreatment      float64 `json:"conversion_rate_treatment"`
	RateControl        float64 `json:"conversion_rate_control"`
	// Lift is RateTreatment − RateControl with its 95% interval.
	Lift Lift `json:"lift"`
	// Cost is what the contacts cost (fen): messages that reached a
	// gateway, or tasks created, times the cost per contact.
	Cost int64 `json:"cost"`
	// Value is the treatment group's conversions times the value per
	// conversion (fen): what the campaign's buyers are worth.
	Value int64 `json:"value"`
	// Incremental is the conversions the campaign caused: lift × treatment
	// size (0 without a control group), and IncrementalValue its worth.
	Incremental      float64 `json:"incremental_conversions"`
	IncrementalValue int64   `json:"incremental_value"`
	// ROI is (IncrementalValue − Cost) / Cost with a control group, else
	// (Value − Cost) / Cost (ROIBasis says which); nil without cost.
	ROI      *float64 `json:"roi"`
	ROIBasis string   `json:"roi_basis"`
}

// add sums raw counts into n.
func (n *Numbers) add(r RunCounts) {
	n.Control += r.Control
	n.Treatment += r.Treatment
	n.Audience += r.Control + r.Treatment
	n.Queued += r.Queued
	n.Deferred += r.Deferred
	n.Tasks += r.Tasks
	for k, v := range r.Suppressed {
		if n.Suppressed == nil {
			n.Suppressed = map[string]int64{}
		}
		n.Suppressed[k] += v
		n.SuppressedTotal += v
	}
	n.Sent += r.Sent
	n.Delivered += r.Delivered
	n.Opened += r.Opened
	n.Clicked += r.Clicked
	n.Failed += r.Failed
	n.ConvertedTreatment += r.ConvertedTreatment
	n.ConvertedControl += r.ConvertedControl
}

// finish computes the rates, lift and economics from the counts
// (lift.Compute): the contacts paid for are the messages that reached a
// gateway, or the tasks of a task channel.
func (n *Numbers) finish(c Campaign) {
	if n.Suppressed == nil {
		n.Suppressed = map[string]int64{}
	}
	contacts := n.Sent
	if !IsMessage(c.Channel) {
		contacts = n.Tasks
	}
	e := lift.Compute(lift.Groups{Treatment: n.Treatment, Control: n.Control, ConvertedTreatment: n.ConvertedTreatment,
		ConvertedControl: n.ConvertedControl}, lift.Economics{Contacts: contacts, CostPer: c.CostPerMessage,
		ValuePer: c.ValuePerConversion})
	n.RateTreatment, n.RateControl, n.Lift = e.RateTreatment, e.RateControl, e.Lift
	n.Cost, n.Value, n.Incremental, n.IncrementalValue = e.Cost, e.Value, e.Incremental, e.IncrementalValue
	n.ROI, n.ROIBasis = e.ROI, e.ROIBasis
}

// RunResult is one run's results.
type RunResult struct {
	Run
	Numbers Numbers `json:"numbers"`
}

// Results are a campaign's results: the whole campaign (every run's
// members counted, a customer once per run) and each run.
type Results struct {
	CampaignID     int64       `json:"campaign_id"`
	Status         string      `json:"status"`
	Channel        string      `json:"channel"`
	ProductID      *int64      `json:"product_id"`
	ConversionDays int         `json:"conversion_days"`
	Total          Numbers     `json:"total"`
	Runs           []RunResult `json:"runs"`
}

// Compute builds the results of c from its runs and their raw counts.
func Compute(c Campaign, runs []Run, counts []RunCounts) Results {
	res := Results{CampaignID: c.ID, Status: c.Status, Channel: c.Channel, ProductID: c.ProductID,
		ConversionDays: c.ConversionDays, Runs: []RunResult{}}
	byRun := map[int]RunCounts{}
	for _, rc := range counts {
		byRun[rc.Run] = rc
	}
	for _, r := range runs {
		var n Numbers
		n.add(byRun[r.Number])
		n.finish(c)
		res.Total.add(byRun[r.Number])
		res.Runs = append(res.Runs, RunResult{Run: r, Numbers: n})
	}
	res.Total.finish(c)
	return res
}
