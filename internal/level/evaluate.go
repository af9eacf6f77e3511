package level

import (
	"kehu/internal/customer"
)

// Metrics are what a customer's level is computed from, in fen where money.
type Metrics struct {
	// AUM is assets under management now: current and time deposit balances
	// plus the market value of wealth, fund and insurance holdings. Loans
	// and credit cards are not assets.
	AUM int64 `json:"aum"`
	// AUMAvg3M is the mean of the deposit balances at the last three
	// month-ends (Asia/Shanghai), rebuilt from the transactions' balance_after,
	// plus today's holdings value (holdings carry no valuation history).
	AUMAvg3M int64 `json:"aum_avg3m"`
	// Transactions90D counts the customer's own transactions of the last 90
	// days: system postings (interest, salary, pension, payroll credits) do
	// not show the customer using the bank.
	Transactions90D int64 `json:"transactions_90d"`
	// The bases of the contribution estimate.
	CurrentDeposit int64 `json:"current_deposit"`
	TimeDeposit    int64 `json:"time_deposit"`
	Wealth         int64 `json:"wealth"`
	Fund           int64 `json:"fund"`
	Insurance      int64 `json:"insurance"`
	// CardSpend90D is credit-card purchase volume of the last 90 days.
	CardSpend90D int64 `json:"card_spend_90d"`
}

// Contribution estimates the customer's annual revenue to the bank in fen:
//
//	current deposits × current spread + time deposits × time spread
//	+ wealth × wealth fee + funds × fund fee + insurance × commission
//	+ card spend of 90 days × 365/90 × interchange
//
// with every rate in basis points (1/10,000). Integer arithmetic, rounded
// down per term: an estimate, not accounting.
func (m Metrics) Contribution(r Rates) int64 {
	bp := func(base, rate int64) int64 { return base * rate / 10_000 }
	return bp(m.CurrentDeposit, r.CurrentDepositBP) + bp(m.TimeDeposit, r.TimeDepositBP) +
		bp(m.Wealth, r.WealthBP) + bp(m.Fund, r.FundBP) + bp(m.Insurance, r.InsuranceBP) +
		bp(m.CardSpend90D*365/90, r.CardInterchangeBP)
}

// value returns the measure of criterion for this customer.
func (m Metrics) value(criterion string, r Rates) int64 {
	switch criterion {
	case CriterionAUM:
		return m.AUM
	case CriterionAUMAvg3M:
		return m.AUMAvg3M
	case CriterionTransactions:
		return m.Transactions90D
	case CriterionContribution:
		return m.Contribution(r)
	}
	return 0
}

// Reason codes besides the criteria.
const (
	// ReasonCorporate: a corporate customer under a rule that tiers
	// individuals only.
	ReasonCorporate = "corporate"
)

// Reason explains a level: a criterion's value against a tier's threshold.
// Met reasons are why the customer has their level; unmet ones say what the
// next tier needs.
type Reason struct {
	Criterion string `json:"criterion"`
	Tier      string `json:"tier"`
	Value     int64  `json:"value"`
	Threshold int64  `json:"threshold"`
	Met       bool   `json:"met"`
}

// Evaluate returns the level m earns under r for a customer of type typ and
// the reasons: the thresholds of the condition that earned it, then the
// unmet thresholds of each condition of the next tier up.
func (r Rule) Evaluate(typ string, m Metrics) (string, []Reason) {
	if typ == customer.Corporate && !r.IncludeCorporate {
		return customer.LevelStandard, []Reason{{Criterion: ReasonCorporate, Tier: customer.LevelStandard, Met: true}}
	}
	level, reasons := customer.LevelStandard, []Reason{}
	next := -1
	for i := len(r.Tiers) - 1; i >= 0; i-- {
		t := r.Tiers[i]
		if c, ok := r.firstMet(t, m); ok {
			level = t.Level
			for _, cr := range Criteria {
				if th, set := c.Threshold(cr); set {
					reasons = append(reasons, Reason{Criterion: cr, Tier: t.Level, Value: m.value(cr, r.Contribution),
						Threshold: th, Met: true})
				}
			}
			break
		}
		next = i // the lowest tier not earned so far: the next one up
	}
	if next >= 0 {
		t := r.Tiers[next]
		for _, c := range t.Any {
			for _, cr := range Criteria {
				th, set := c.Threshold(cr)
				if v := m.value(cr, r.Contribution); set && v < th {
					reasons = append(reasons, Reason{Criterion: cr, Tier: t.Level, Value: v, Threshold: th})
				}
			}
		}
	}
	return level, reasons
}

// firstMet returns the first condition of t that m satisfies.
func (r Rule) firstMet(t Tier, m Metrics) (Condition, bool) {
	for _, c := range t.Any {
		ok := true
		for _, cr := range Criteria {
			if th, set := c.Threshold(cr); set && m.value(cr, r.Contribution) < th {
				ok = false
				break
			}
		}
		if ok {
			return c, true
		}
	}
	return Condition{}, false
}
