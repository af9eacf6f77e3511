// Package level computes the customer level (客户等级: 普通, 金卡, 白金, 钻石,
// 私行) from AUM, transaction frequency and contribution by a configurable,
// versioned rule, explains each result with reasons, keeps the level-change
// history, and recomputes on change and nightly. A level is never typed in.
package level

import (
	"encoding/json"
	"fmt"
	"slices"

	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Rule is one version's tiering. A customer gets the highest tier whose
// conditions hold; standard (普通) is what is left. The JSON form is what the
// API accepts and what level_rules stores.
type Rule struct {
	// IncludeCorporate tiers corporate customers by this retail rule too;
	// banks usually tier companies separately, so the default is false and
	// corporate customers stay standard with a reason saying why.
	IncludeCorporate bool `json:"include_corporate"`
	// Contribution holds the rates of the estimated annual revenue.
	Contribution Rates `json:"contribution"`
	// Tiers above standard; listed in any order, kept lowest first.
	Tiers []Tier `json:"tiers"`
}

// Tier is one level above standard and how to earn it: Any lists
// alternatives, each a set of thresholds that must all hold.
type Tier struct {
	Level string      `json:"level"`
	Any   []Condition `json:"any"`
}

// Condition is a conjunction of thresholds; an absent (nil) threshold is not
// part of it. Money is in fen.
type Condition struct {
	MinAUM             *int64 `json:"min_aum,omitempty"`
	MinAUMAvg3M        *int64 `json:"min_aum_avg3m,omitempty"`
	MinTransactions90D *int64 `json:"min_transactions_90d,omitempty"`
	MinContribution    *int64 `json:"min_contribution,omitempty"`
}

// Rates are the annual rates, in basis points, of the contribution estimate
// (see Metrics.Contribution): the net spread the bank earns on deposits
// (funds-transfer price minus the rate paid), the fees it earns on wealth,
// fund and insurance holdings, and the issuer's interchange on card spend.
type Rates struct {
	CurrentDepositBP  int64 `json:"current_deposit_bp"`
	TimeDepositBP     int64 `json:"time_deposit_bp"`
	WealthBP          int64 `json:"wealth_bp"`
	FundBP            int64 `json:"fund_bp"`
	InsuranceBP       int64 `json:"insurance_bp"`
	CardInterchangeBP int64 `json:"card_interchange_bp"`
}

// Criteria name the measures a condition can use, in the order reasons and
// forms show them.
const (
	CriterionAUM          = "aum"
	CriterionAUMAvg3M     = "aum_avg3m"
	CriterionTransactions = "transactions_90d"
	CriterionContribution = "contribution"
)

// Criteria lists every criterion.
var Criteria = []string{CriterionAUM, CriterionAUMAvg3M, CriterionTransactions, CriterionContribution}

// threshold returns the condition's threshold for criterion, nil when unset.
func (c Condition) threshold(criterion string) *int64 {
	switch criterion {
	case CriterionAUM:
		return c.MinAUM
	case CriterionAUMAvg3M:
		return c.MinAUMAvg3M
	case CriterionTransactions:
		return c.MinTransactions90D
	case CriterionContribution:
		return c.MinContribution
	}
	return nil
}

// Set returns c with criterion's threshold set to v (nil clears it); forms
// build conditions through it.
func (c Condition) Set(criterion string, v *int64) Condition {
	switch criterion {
	case CriterionAUM:
		c.MinAUM = v
	case CriterionAUMAvg3M:
		c.MinAUMAvg3M = v
	case CriterionTransactions:
		c.MinTransactions90D = v
	case CriterionContribution:
		c.MinContribution = v
	}
	return c
}

// Threshold returns the threshold of criterion and whether it is set.
func (c Condition) Threshold(criterion string) (int64, bool) {
	if p := c.threshold(criterion); p != nil {
		return *p, true
	}
	return 0, false
}

// Limits of a rule, so a typo cannot store a tier nobody can reach by
// accident of overflow, or a form with hundreds of rows.
const (
	maxThreshold  = 1_000_000_000_000_00 // ¥1 trillion in fen, or as many transactions
	maxConditions = 5
	maxRateBP     = 10_000
)

// rank orders levels: standard 0 … private 4; -1 for an unknown key.
func rank(level string) int { return slices.Index(customer.Levels, level) }

// Validate checks r and returns every problem at once, each naming the bad
// part ("tiers[2].any[0].min_aum"), so an API client or the form can point
// at it. On success it sorts the tiers lowest first.
func (r *Rule) Validate() error {
	var v kehu.Validation
	rates := []struct {
		name string
		bp   int64
	}{{"current_deposit_bp", r.Contribution.CurrentDepositBP}, {"time_deposit_bp", r.Contribution.TimeDepositBP},
		{"wealth_bp", r.Contribution.WealthBP}, {"fund_bp", r.Contribution.FundBP},
		{"insurance_bp", r.Contribution.InsuranceBP}, {"card_interchange_bp", r.Contribution.CardInterchangeBP}}
	for _, x := range rates {
		if x.bp < 0 || x.bp > maxRateBP {
			v.Add("contribution."+x.name, fmt.Sprintf("must be between 0 and %d basis points", maxRateBP))
		}
	}
	if len(r.Tiers) == 0 {
		v.Add("tiers", "must list at least one tier above standard")
	}
	seen := map[string]bool{}
	for i, t := range r.Tiers {
		at := fmt.Sprintf("tiers[%d]", i)
		switch {
		case rank(t.Level) <= 0:
			v.Add(at+".level", "must be gold, platinum, diamond or private")
		case seen[t.Level]:
			v.Add(at+".level", t.Level+" is defined twice")
		}
		seen[t.Level] = true
		if len(t.Any) == 0 {
			v.Add(at+".any", "must hold at least one condition")
		}
		if len(t.Any) > maxConditions {
			v.Add(at+".any", fmt.Sprintf("may hold at most %d conditions", maxConditions))
		}
		for j, c := range t.Any {
			validateCondition(&v, fmt.Sprintf("%s.any[%d]", at, j), c)
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	slices.SortFunc(r.Tiers, func(a, b Tier) int { return rank(a.Level) - rank(b.Level) })
	return nil
}

func validateCondition(v *kehu.Validation, at string, c Condition) {
	set := 0
	for _, cr := range Criteria {
		p := c.threshold(cr)
		if p == nil {
			continue
		}
		set++
		if *p <= 0 || *p > maxThreshold {
			v.Add(at+".min_"+cr, "must be a positive number no larger than 10^14")
		}
	}
	if set == 0 {
		v.Add(at, "must set at least one threshold")
	}
}

// Parse decodes and validates a stored or submitted rule.
func Parse(raw []byte) (Rule, error) {
	var r Rule
	if err := json.Unmarshal(raw, &r); err != nil {
		return Rule{}, kehu.Errorf(kehu.EINVALID, "the rule is not valid JSON: %v", err)
	}
	return r, r.Validate()
}

// JSON returns the stored form of r.
func (r Rule) JSON() string {
	b, err := json.Marshal(r)
	if err != nil {
		panic("level: rule does not marshal: " + err.Error()) // only plain types inside
	}
	return string(b)
}

// Clone returns a deep copy, so an edited draft never shares thresholds with
// the rule it was copied from.
func (r Rule) Clone() Rule {
	out := r
	out.Tiers = make([]Tier, len(r.Tiers))
	for i, t := range r.Tiers {
		out.Tiers[i] = Tier{Level: t.Level, Any: make([]Condition, len(t.Any))}
		for j, c := range t.Any {
			var n Condition
			for _, cr := range Criteria {
				if p := c.threshold(cr); p != nil {
					x := *p
					n = n.Set(cr, &x)
				}
			}
			out.Tiers[i].Any[j] = n
		}
	}
	return out
}

// Tier returns the tier of level and whether the rule defines it.
func (r Rule) Tier(level string) (Tier, bool) {
	for _, t := range r.Tiers {
		if t.Level == level {
			return t, true
		}
	}
	return Tier{}, false
}

func ptr(v int64) *int64 { return &v }

// DefaultRule is version 1, the rule the migration seeds: current AUM of
// ¥50k (gold), ¥500k (platinum), ¥2m (diamond), ¥6m (private), the common
// tiering of Chinese retail banks, or the same 3-month average month-end AUM,
// so one month-end dip does not downgrade a customer. Contribution rates
// are typical: 1.50% net spread on current deposits, 0.60% on time deposits,
// 0.50% wealth-management fees, 0.80% fund fees and trail commissions, 1.50%
// insurance agency commission, 0.45% card interchange (the issuer's cap under
// the 2016 NDRC bank-card fee reform).
func DefaultRule() Rule {
	floor := func(level string, fen int64) Tier {
		return Tier{Level: level, Any: []Condition{{MinAUM: ptr(fen)}, {MinAUMAvg3M: ptr(fen)}}}
	}
	return Rule{
		Contribution: Rates{CurrentDepositBP: 150, TimeDepositBP: 60, WealthBP: 50, FundBP: 80, InsuranceBP: 150,
			CardInterchangeBP: 45},
		Tiers: []Tier{floor(customer.LevelGold, 50_000_00), floor(customer.LevelPlatinum, 500_000_00),
			floor(customer.LevelDiamond, 2_000_000_00), floor(customer.LevelPrivate, 6_000_000_00)},
	}
}
