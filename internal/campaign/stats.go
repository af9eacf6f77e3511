package campaign

import "math"

// Z95 is the standard normal quantile of a two-sided 95% interval.
const Z95 = 1.959963984540054

// Wilson returns the Wilson score interval of x successes in n trials at
// quantile z (Wilson 1927); (0, 0) without trials.
func Wilson(x, n int64, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 0
	}
	p, nf := float64(x)/float64(n), float64(n)
	z2 := z * z
	centre := (2*nf*p + z2) / (2 * (nf + z2))
	half := z * math.Sqrt(z2+4*nf*p*(1-p)) / (2 * (nf + z2))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// Lift is the difference of two conversion rates with its interval.
type Lift struct {
	// Difference is treatment rate − control rate.
	Difference float64 `json:"difference"`
	Low        float64 `json:"ci_low"`
	High       float64 `json:"ci_high"`
	// Method names how the interval was computed.
	Method string `json:"method"`
	// Defined is false when a group is empty (no interval exists).
	Defined bool `json:"defined"`
}

// MethodNewcombe names the interval of DifferenceCI.
const MethodNewcombe = "newcombe_hybrid_score_95"

// DifferenceCI is the 95% interval of p1 − p2 for two independent
// proportions x1/n1 and x2/n2 by Newcombe's hybrid score method (Newcombe
// 1998, method 10): with d = p1 − p2 and the Wilson score intervals
// (l1, u1) and (l2, u2) of each proportion,
//
//	low  = d − √((p1−l1)² + (u2−p2)²)
//	high = d + √((u1−p1)² + (p2−l2)²)
//
// It keeps its coverage near 95% for small groups and rates near 0 — a
// control group of a few hundred with a 1% conversion rate — where the Wald
// interval d ± z·√(p1q1/n1 + p2q2/n2) is too narrow.
func DifferenceCI(x1, n1, x2, n2 int64) Lift {
	out := Lift{Method: MethodNewcombe}
	if n1 <= 0 || n2 <= 0 {
		return out
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	l1, u1 := Wilson(x1, n1, Z95)
	l2, u2 := Wilson(x2, n2, Z95)
	d := p1 - p2
	out.Difference, out.Defined = d, true
	out.Low = d - math.Sqrt((p1-l1)*(p1-l1)+(u2-p2)*(u2-p2))
	out.High = d + math.Sqrt((u1-p1)*(u1-p1)+(p2-l2)*(p2-l2))
	return out
}

// WaldCI is the simple asymptotic interval d ± z·√(p1q1/n1 + p2q2/n2),
// kept for comparison in tests and the documentation.
func WaldCI(x1, n1, x2, n2 int64) (lo, hi float64) {
	if n1 <= 0 || n2 <= 0 {
		return 0, 0
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	se := math.Sqrt(p1*(1-p1)/float64(n1) + p2*(1-p2)/float64(n2))
	return p1 - p2 - Z95*se, p1 - p2 + Z95*se
}

// rate is x/n, 0 without n.
func rate(x, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(x) / float64(n)
}

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

// finish computes the rates, lift and economics from the counts.
func (n *Numbers) finish(c Campaign) {
	if n.Suppressed == nil {
		n.Suppressed = map[string]int64{}
	}
	n.RateTreatment = rate(n.ConvertedTreatment, n.Treatment)
	n.RateControl = rate(n.ConvertedControl, n.Control)
	n.Lift = DifferenceCI(n.ConvertedTreatment, n.Treatment, n.ConvertedControl, n.Control)
	contacts := n.Sent
	if !IsMessage(c.Channel) {
		contacts = n.Tasks
	}
	n.Cost = contacts * c.CostPerMessage
	n.Value = n.ConvertedTreatment * c.ValuePerConversion
	n.ROIBasis = "attributed"
	gain := float64(n.Value)
	if n.Lift.Defined {
		n.ROIBasis = "incremental"
		n.Incremental = n.Lift.Difference * float64(n.Treatment)
		n.IncrementalValue = int64(math.Round(n.Incremental * float64(c.ValuePerConversion)))
		gain = float64(n.IncrementalValue)
	}
	if n.Cost > 0 {
		roi := (gain - float64(n.Cost)) / float64(n.Cost)
		n.ROI = &roi
	}
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
