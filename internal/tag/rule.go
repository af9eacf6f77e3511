package tag

import (
	"fmt"
	"slices"
	"time"

	"kehu/internal/kehu"
)

// Rule kinds of computed tags. Each reads Facts the store gathers for one
// customer; parameters are in the catalogue so a bank can tune them.
const (
	// RuleAUMAtLeast: AUM (deposits and investments, fen) ≥ MinAUM.
	RuleAUMAtLeast = "aum_at_least"
	// RuleSalaryCredits: at least MinCount salary or pension credits in the
	// last Months months — the bank runs the customer's payroll (代发工资).
	RuleSalaryCredits = "salary_credits"
	// RuleDormant: no transaction and no channel activity for Days days.
	RuleDormant = "dormant"
	// RuleCardActive: at least MinCount credit-card purchases in the last
	// Days days.
	RuleCardActive = "card_active"
	// RuleMaturing: a wealth product, fund, insurance policy or time deposit
	// matures within Days days (the moment to talk about reinvesting).
	RuleMaturing = "maturing"
)

// RuleKinds lists the rule kinds.
var RuleKinds = []string{RuleAUMAtLeast, RuleSalaryCredits, RuleDormant, RuleCardActive, RuleMaturing}

// Windows the facts cover: rules may not look further back or ahead.
const (
	MaxMonths = 12
	MaxDays   = 365
)

// Rule is a computed tag's rule. Only the members its kind uses are set.
type Rule struct {
	Kind     string `json:"rule"`
	MinAUM   int64  `json:"min_aum,omitempty"`
	Months   int    `json:"months,omitempty"`
	Days     int    `json:"days,omitempty"`
	MinCount int    `json:"min_count,omitempty"`
}

func (r *Rule) validate(v *kehu.Validation) {
	switch r.Kind {
	case RuleAUMAtLeast:
		if r.MinAUM <= 0 {
			v.Add("rule.min_aum", "must be a positive amount in fen")
		}
	case RuleSalaryCredits:
		if r.Months < 1 || r.Months > MaxMonths {
			v.Add("rule.months", fmt.Sprintf("must be between 1 and %d", MaxMonths))
		}
		if r.MinCount < 1 {
			v.Add("rule.min_count", "must be at least 1")
		}
	case RuleDormant, RuleMaturing:
		if r.Days < 1 || r.Days > MaxDays {
			v.Add("rule.days", fmt.Sprintf("must be between 1 and %d", MaxDays))
		}
	case RuleCardActive:
		if r.Days < 1 || r.Days > MaxDays {
			v.Add("rule.days", fmt.Sprintf("must be between 1 and %d", MaxDays))
		}
		if r.MinCount < 1 {
			v.Add("rule.min_count", "must be at least 1")
		}
	default:
		v.Add("rule.rule", "must be one of aum_at_least, salary_credits, dormant, card_active, maturing")
	}
}

// Facts are what the rules read about one customer, gathered over the
// widest windows a rule may use (MaxMonths back, MaxDays ahead).
type Facts struct {
	CustomerID int64
	// Since is when the customer became a customer: a customer younger than
	// a dormancy window is new, not dormant.
	Since time.Time
	AUM   int64
	// LastActivity is the latest transaction or channel event; zero if none.
	LastActivity time.Time
	// SalaryCredits are the times of salary and pension credits in the last
	// MaxMonths months.
	SalaryCredits []time.Time
	// CardSpends are the times of credit-card purchases in the last MaxDays.
	CardSpends []time.Time
	// Maturities are the dates on which holdings and time deposits mature,
	// from today on.
	Maturities []kehu.Date
	// Erased: the customer was erased (PIPL). No computed tag applies: a
	// tag's reason (an AUM, a maturity date) would be data about them again.
	Erased bool
}

// Eval applies r to f at now; when it matches, reason explains why in words
// a colleague understands (stored with the tag; no personal data beyond
// what the customer page shows anyway).
func (r Rule) Eval(f Facts, now time.Time, loc *time.Location) (ok bool, reason string) {
	if f.Erased {
		return false, ""
	}
	switch r.Kind {
	case RuleAUMAtLeast:
		if f.AUM >= r.MinAUM {
			return true, fmt.Sprintf("AUM %s ≥ %s", yuan(f.AUM), yuan(r.MinAUM))
		}
	case RuleSalaryCredits:
		since := now.AddDate(0, -r.Months, 0)
		n := countSince(f.SalaryCredits, since)
		if n >= r.MinCount {
			return true, fmt.Sprintf("%d salary/pension credits in %d months", n, r.Months)
		}
	case RuleDormant:
		since := now.AddDate(0, 0, -r.Days)
		if f.Since.Before(since) && f.LastActivity.Before(since) {
			if f.LastActivity.IsZero() {
				return true, fmt.Sprintf("no activity in %d days", r.Days)
			}
			return true, fmt.Sprintf("no activity since %s", f.LastActivity.In(loc).Format(time.DateOnly))
		}
	case RuleCardActive:
		n := countSince(f.CardSpends, now.AddDate(0, 0, -r.Days))
		if n >= r.MinCount {
			return true, fmt.Sprintf("%d card purchases in %d days", n, r.Days)
		}
	case RuleMaturing:
		today := kehu.DateOf(now.In(loc))
		last := today.Time().AddDate(0, 0, r.Days)
		var first kehu.Date
		for _, d := range f.Maturities {
			if !d.Time().Before(today.Time()) && !d.Time().After(last) && (first.IsZero() || d.Time().Before(first.Time())) {
				first = d
			}
		}
		if !first.IsZero() {
			return true, "matures on " + first.String()
		}
	}
	return false, ""
}

func countSince(ts []time.Time, since time.Time) int {
	n := 0
	for _, t := range ts {
		if !t.Before(since) {
			n++
		}
	}
	return n
}

// yuan formats fen as ¥1,234,567 (whole yuan: thresholds are round).
func yuan(fen int64) string {
	y := fen / 100
	s := fmt.Sprint(y)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return "¥" + string(out)
}

// Default is a built-in catalogue entry, created by EnsureDefaults when no
// tag with its code exists (names the bank changed are left alone).
var Defaults = []Tag{
	{Code: "high_net_worth", Name: "高净值", LabelEN: "High net worth", Kind: Computed, Color: "purple",
		Description: "金融资产（存款与投资）达到600万元", Rule: &Rule{Kind: RuleAUMAtLeast, MinAUM: 6_000_000_00}},
	{Code: "payroll", Name: "代发工资", LabelEN: "Payroll customer", Kind: Computed, Color: "blue",
		Description: "近3个月有代发工资或养老金入账", Rule: &Rule{Kind: RuleSalaryCredits, Months: 3, MinCount: 2}},
	{Code: "dormant", Name: "沉睡客户", LabelEN: "Dormant", Kind: Computed, Color: "grey",
		Description: "90天内无交易、无渠道登录或来访", Rule: &Rule{Kind: RuleDormant, Days: 90}},
	{Code: "card_active", Name: "信用卡活跃", LabelEN: "Active card user", Kind: Computed, Color: "teal",
		Description: "近30天信用卡消费3笔以上", Rule: &Rule{Kind: RuleCardActive, Days: 30, MinCount: 3}},
	{Code: "maturing", Name: "理财到期", LabelEN: "Product maturing", Kind: Computed, Color: "orange",
		Description: "30天内有理财、基金、保险或定期存款到期", Rule: &Rule{Kind: RuleMaturing, Days: 30}},
	{Code: "satisfied", Name: "满意", LabelEN: "Satisfied", Kind: Emotion, Color: "green", Polarity: Positive,
		DefaultExpiryDays: DefaultEmotionDays, Description: "客户对近期服务表示满意"},
	{Code: "dissatisfied", Name: "不满意", LabelEN: "Dissatisfied", Kind: Emotion, Color: "red", Polarity: Negative,
		DefaultExpiryDays: DefaultEmotionDays, Description: "客户对近期服务表示不满，接触时请注意"},
}

// validRuleKind reports whether k is a rule kind.
func validRuleKind(k string) bool { return slices.Contains(RuleKinds, k) }
