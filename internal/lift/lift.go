// Package lift is the arithmetic of a marketing experiment that campaigns
// and journeys share (issue 5, item 6): the deterministic holdout that puts a
// customer in the control group, the Wilson and Newcombe intervals of
// conversion rates and their difference, and the economics (cost, value,
// incremental conversions, ROI) read from them. It knows no campaign, journey,
// HTTP or SQL; docs/CAMPAIGN_RESULTS.md and docs/JOURNEYS.md say how each
// counts its groups.
package lift

import (
	"maps"
	"math"
	"slices"
)

// Groups.
const (
	Treatment = "treatment"
	Control   = "control"
)

// mix is splitmix64's finaliser: a bijection of 64-bit words whose output
// bits each depend on every input bit, so consecutive customer ids land in
// the control group independently.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// InControl reports whether customer id is held out of an experiment with
// seed and a control group of pct percent. It is a fixed function of (seed,
// id) — no state, no random source — so a resumed launch, a second run, a
// second firing and the results all put the customer in the same group;
// each seed draws its own group. The customer's point in [0, 10000) is
// compared with pct × 100, so a larger pct keeps everyone a smaller one
// held out.
func InControl(seed int64, id int64, pct int) bool {
	if pct <= 0 {
		return false
	}
	return mix(uint64(seed)^mix(uint64(id)))%10000 < uint64(pct)*100
}

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

// Rate is x/n, 0 without n.
func Rate(x, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(x) / float64(n)
}

// Groups are the counts an effect is read from: each group's size and how
// many of it converted.
type Groups struct {
	Treatment, Control                   int64
	ConvertedTreatment, ConvertedControl int64
}

// Economics are what the contacts cost and the conversions are worth, all
// in fen.
type Economics struct {
	// Contacts are what is paid for (messages that reached a gateway, or
	// tasks created); CostPer and ValuePer the prices.
	Contacts, CostPer, ValuePer int64
}

// Effect is what an experiment's counts say.
type Effect struct {
	// Rates are converted / group size.
	RateTreatment, RateControl float64
	// Lift is RateTreatment − RateControl with its 95% interval.
	Lift Lift
	// Cost is Contacts × CostPer.
	Cost int64
	// Value is the treatment group's conversions × ValuePer: what its
	// buyers are worth.
	Value int64
	// Incremental is the conversions the contact caused: lift × treatment
	// size (0 without a control group), and IncrementalValue its worth.
	Incremental      float64
	IncrementalValue int64
	// ROI is (IncrementalValue − Cost) / Cost with a control group, else
	// (Value − Cost) / Cost (ROIBasis says which); nil without cost.
	ROI      *float64
	ROIBasis string
}

// ROI bases.
const (
	BasisAttributed  = "attributed"
	BasisIncremental = "incremental"
)

// Compute reads the rates, the lift and the economics from g and e.
func Compute(g Groups, e Economics) Effect {
	out := Effect{RateTreatment: Rate(g.ConvertedTreatment, g.Treatment), RateControl: Rate(g.ConvertedControl, g.Control),
		Lift: DifferenceCI(g.ConvertedTreatment, g.Treatment, g.ConvertedControl, g.Control)}
	out.Cost = e.Contacts * e.CostPer
	out.Value = g.ConvertedTreatment * e.ValuePer
	out.ROIBasis = BasisAttributed
	gain := float64(out.Value)
	if out.Lift.Defined {
		out.ROIBasis = BasisIncremental
		out.Incremental = out.Lift.Difference * float64(g.Treatment)
		out.IncrementalValue = int64(math.Round(out.Incremental * float64(e.ValuePer)))
		gain = float64(out.IncrementalValue)
	}
	if out.Cost > 0 {
		roi := (gain - float64(out.Cost)) / float64(out.Cost)
		out.ROI = &roi
	}
	return out
}

// ReasonsByCount orders suppression codes by count, largest first, then by
// code: the order of the suppression sheets and charts.
func ReasonsByCount(m map[string]int64) []string {
	return slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if m[a] != m[b] {
			if m[a] > m[b] {
				return -1
			}
			return 1
		}
		if a < b {
			return -1
		}
		return 1
	})
}
