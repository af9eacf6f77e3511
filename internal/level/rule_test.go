package level

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
)

func fields(err error) []string {
	var out []string
	for _, f := range kehu.ErrorFields(err) {
		out = append(out, f.Field)
	}
	return out
}

func TestRuleValidationNamesTheBadPart(t *testing.T) {
	for _, tc := range []struct {
		name, rule string
		want       []string
	}{
		{"no tiers", `{"tiers":[]}`, []string{"tiers"}},
		{"unknown level", `{"tiers":[{"level":"bronze","any":[{"min_aum":1}]}]}`, []string{"tiers[0].level"}},
		{"standard is not a tier", `{"tiers":[{"level":"standard","any":[{"min_aum":1}]}]}`, []string{"tiers[0].level"}},
		{"twice", `{"tiers":[{"level":"gold","any":[{"min_aum":1}]},{"level":"gold","any":[{"min_aum":2}]}]}`,
			[]string{"tiers[1].level"}},
		{"no condition", `{"tiers":[{"level":"gold","any":[]}]}`, []string{"tiers[0].any"}},
		{"empty condition", `{"tiers":[{"level":"gold","any":[{}]}]}`, []string{"tiers[0].any[0]"}},
		{"negative", `{"tiers":[{"level":"gold","any":[{"min_aum":1}]},{"level":"private","any":[{"min_aum":5},{"min_transactions_90d":-3}]}]}`,
			[]string{"tiers[1].any[1].min_transactions_90d"}},
		{"zero contribution threshold", `{"tiers":[{"level":"gold","any":[{"min_contribution":0}]}]}`,
			[]string{"tiers[0].any[0].min_contribution"}},
		{"huge", `{"tiers":[{"level":"gold","any":[{"min_aum_avg3m":100000000000000000}]}]}`,
			[]string{"tiers[0].any[0].min_aum_avg3m"}},
		{"rates", `{"contribution":{"fund_bp":-1,"card_interchange_bp":10001},"tiers":[{"level":"gold","any":[{"min_aum":1}]}]}`,
			[]string{"contribution.fund_bp", "contribution.card_interchange_bp"}},
		{"too many conditions", `{"tiers":[{"level":"gold","any":[{"min_aum":1},{"min_aum":2},{"min_aum":3},{"min_aum":4},{"min_aum":5},{"min_aum":6}]}]}`,
			[]string{"tiers[0].any"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.rule))
			if kehu.ErrorCode(err) != kehu.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
			if got := fields(err); !slices.Equal(got, tc.want) {
				t.Errorf("fields = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseSortsTiersAndRoundTrips(t *testing.T) {
	r, err := Parse([]byte(`{"tiers":[{"level":"private","any":[{"min_aum":600000000}]},{"level":"gold","any":[{"min_aum":5000000}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Tiers[0].Level != "gold" || r.Tiers[1].Level != "private" {
		t.Fatalf("tiers not sorted lowest first: %+v", r.Tiers)
	}
	again, err := Parse([]byte(r.JSON()))
	if err != nil || again.JSON() != r.JSON() {
		t.Fatalf("round trip: %v %s != %s", err, again.JSON(), r.JSON())
	}
}

func TestDefaultRuleIsValidAndKeepsTheShippedFloors(t *testing.T) {
	r := DefaultRule()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		aum  int64
		want string
	}{{0, "standard"}, {49_999_99, "standard"}, {50_000_00, "gold"}, {499_999_99, "gold"}, {500_000_00, "platinum"},
		{2_000_000_00, "diamond"}, {5_999_999_99, "diamond"}, {6_000_000_00, "private"}} {
		if got, _ := r.Evaluate(customer.Individual, Metrics{AUM: tc.aum}); got != tc.want {
			t.Errorf("AUM %d: %s, want %s", tc.aum, got, tc.want)
		}
	}
	// A month-end dip does not downgrade: the 3-month average keeps gold.
	if got, _ := r.Evaluate(customer.Individual, Metrics{AUM: 10_000_00, AUMAvg3M: 60_000_00}); got != "gold" {
		t.Errorf("avg path: %s", got)
	}
	// Corporate customers are not tiered by the retail rule.
	got, reasons := r.Evaluate(customer.Corporate, Metrics{AUM: 10_000_000_00})
	if got != "standard" || len(reasons) != 1 || reasons[0].Criterion != ReasonCorporate {
		t.Errorf("corporate: %s %+v", got, reasons)
	}
	r.IncludeCorporate = true
	if got, _ := r.Evaluate(customer.Corporate, Metrics{AUM: 10_000_000_00}); got != "private" {
		t.Errorf("corporate included: %s", got)
	}
}

func TestEvaluateReasons(t *testing.T) {
	r := DefaultRule()
	r.Tiers[1].Any = append(r.Tiers[1].Any, Condition{MinTransactions90D: ptr(30), MinContribution: ptr(2_000_00)})
	lvl, reasons := r.Evaluate(customer.Individual, Metrics{AUM: 623_450_00, Transactions90D: 42})
	if lvl != "platinum" {
		t.Fatalf("level %s", lvl)
	}
	var texts []string
	for _, x := range reasons {
		texts = append(texts, x.Text("zh-CN"))
	}
	want := []string{"AUM ¥623,450.00 ≥ ¥500,000.00（白金）",
		"AUM ¥623,450.00 < ¥2,000,000.00（升钻石需达到）", "近3月月末平均AUM ¥0.00 < ¥2,000,000.00（升钻石需达到）"}
	if !slices.Equal(texts, want) {
		t.Errorf("reasons:\n%s\nwant\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	// The frequency-and-contribution path: deposits of ¥400k earn ¥6,000 a year at 150 bp.
	lvl, reasons = r.Evaluate(customer.Individual, Metrics{AUM: 400_000_00, CurrentDeposit: 400_000_00, Transactions90D: 42})
	if lvl != "platinum" || len(reasons) < 2 {
		t.Fatalf("%s %+v", lvl, reasons)
	}
	if got := reasons[0].Text("en"); got != "90-day transactions 42 ≥ 30 (Platinum)" {
		t.Errorf("en: %q", got)
	}
	if got := reasons[1].Text("en"); got != "Annual contribution ¥6,000.00 ≥ ¥2,000.00 (Platinum)" {
		t.Errorf("en: %q", got)
	}
	// Standard: what gold needs.
	lvl, reasons = r.Evaluate(customer.Individual, Metrics{AUM: 12_000_00})
	if lvl != "standard" || len(reasons) != 2 || reasons[0].Met || reasons[0].Tier != "gold" {
		t.Fatalf("%s %+v", lvl, reasons)
	}
	// Top tier: no "next" reasons.
	lvl, reasons = r.Evaluate(customer.Individual, Metrics{AUM: 7_000_000_00})
	if lvl != "private" || len(reasons) != 1 || !reasons[0].Met {
		t.Fatalf("%s %+v", lvl, reasons)
	}
}

func TestContribution(t *testing.T) {
	m := Metrics{CurrentDeposit: 100_000_00, TimeDeposit: 200_000_00, Wealth: 300_000_00, Fund: 50_000_00,
		Insurance: 10_000_00, CardSpend90D: 9_000_00}
	// 1,500 + 1,200 + 1,500 + 400 + 150 + 36,500×0.45% (164.25) = ¥4,914.25
	if got := m.Contribution(DefaultRule().Contribution); got != 4_914_25 {
		t.Errorf("contribution %s", FormatMoney(got))
	}
}

func TestFormatMoney(t *testing.T) {
	for fen, want := range map[int64]string{0: "¥0.00", 5: "¥0.05", 123456: "¥1,234.56", -100: "-¥1.00",
		100_000_000_00: "¥100,000,000.00"} {
		if got := FormatMoney(fen); got != want {
			t.Errorf("%d: %q want %q", fen, got, want)
		}
	}
}

func TestClone(t *testing.T) {
	r := DefaultRule()
	c := r.Clone()
	*c.Tiers[0].Any[0].MinAUM = 1
	if *r.Tiers[0].Any[0].MinAUM == 1 {
		t.Fatal("clone shares thresholds")
	}
}

func TestWindowAndMonthEnds(t *testing.T) {
	loc := kehu.LoadShanghai()
	// 2026-03-02 01:30 UTC is 09:30 in Shanghai on 2 March.
	w := NewWindow(time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC), loc)
	want := []string{"2026-02-28T16:00:00Z", "2026-01-31T16:00:00Z", "2025-12-31T16:00:00Z"}
	for k, t0 := range w.MonthEnds {
		if got := t0.Format(time.RFC3339); got != want[k] {
			t.Errorf("month end %d: %s want %s", k, got, want[k])
		}
	}
	if !w.Since.Equal(w.Since90) || w.Since90 != time.Date(2025, 12, 2, 1, 30, 0, 0, time.UTC) {
		t.Errorf("since %s / %s", w.Since, w.Since90)
	}
	// On 31 July the oldest month-end (1 May) is older than 90 days.
	w = NewWindow(time.Date(2026, 7, 31, 4, 0, 0, 0, time.UTC), loc)
	if !w.Since.Equal(w.MonthEnds[2]) {
		t.Errorf("since %s, want %s", w.Since, w.MonthEnds[2])
	}
}

func TestMetricsRebuildMonthEndBalances(t *testing.T) {
	loc := kehu.LoadShanghai()
	now := time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC)
	w := NewWindow(now, loc)
	at := func(s string) time.Time {
		t0, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return t0.UTC()
	}
	b := Batch{
		Subjects: []Subject{{ID: 1, Type: "individual"}, {ID: 2, Type: "individual"}},
		Deposits: []Deposit{
			// Current account: 10,000 at each month-end until a 30,000 salary on 10 Feb.
			{AccountID: 10, CustomerID: 1, Type: currentDeposit, Balance: 38_000_00, OpenedOn: kehu.Date{Year: 2020, Month: 1, Day: 1}},
			// Time deposit untouched since before the window: its balance at every month-end.
			{AccountID: 11, CustomerID: 1, Type: timeDeposit, Balance: 100_000_00, OpenedOn: kehu.Date{Year: 2025, Month: 1, Day: 5}},
			// Opened on 15 January: nothing at the end of December.
			{AccountID: 12, CustomerID: 1, Type: currentDeposit, Balance: 3_000_00, OpenedOn: kehu.Date{Year: 2026, Month: 1, Day: 15}},
		},
		Holdings: []HoldingSum{{CustomerID: 1, Type: wealth, Amount: 50_000_00}, {CustomerID: 2, Type: fund, Amount: 7_00}},
		Postings: []Posting{
			{ID: 1, CustomerID: 1, AccountID: 10, At: at("2026-02-10 09:00"), Amount: 30_000_00, BalanceAfter: 40_000_00, Kind: "salary"},
			{ID: 2, CustomerID: 1, AccountID: 10, At: at("2026-03-01 00:00"), Amount: -2_000_00, BalanceAfter: 38_000_00, Kind: "payment"},
			{ID: 3, CustomerID: 1, AccountID: 12, At: at("2026-01-15 10:00"), Amount: 3_000_00, BalanceAfter: 3_000_00, Kind: "deposit"},
			{ID: 4, CustomerID: 1, AccountID: 99, At: at("2026-02-20 20:00"), Amount: -500_00, BalanceAfter: -500_00, Kind: cardSpend},
			{ID: 5, CustomerID: 1, AccountID: 10, At: at("2025-12-01 09:00"), Amount: 1_00, BalanceAfter: 10_000_00, Kind: "interest"},
		},
	}
	m := b.Metrics(w)[1]
	// Month-ends (newest first): 1 Mar: 40,000 + 100,000 + 3,000; 1 Feb: 10,000 + 100,000 + 3,000;
	// 1 Jan: 10,000 + 100,000 + 0. Mean 122,000, plus 50,000 of wealth.
	if m.AUMAvg3M != 172_000_00 {
		t.Errorf("avg AUM %s", FormatMoney(m.AUMAvg3M))
	}
	if m.AUM != 38_000_00+100_000_00+3_000_00+50_000_00 || m.CurrentDeposit != 41_000_00 || m.TimeDeposit != 100_000_00 {
		t.Errorf("AUM %+v", m)
	}
	// The salary credit and the interest (outside 90 days anyway) are system postings.
	if m.Transactions90D != 3 || m.CardSpend90D != 500_00 {
		t.Errorf("frequency %d, card spend %d", m.Transactions90D, m.CardSpend90D)
	}
	if m2 := b.Metrics(w)[2]; m2.AUM != 7_00 || m2.AUMAvg3M != 7_00 {
		t.Errorf("customer 2: %+v", m2)
	}
	out, _ := json.Marshal(m)
	if !strings.Contains(string(out), `"card_spend_90d":50000`) {
		t.Errorf("json %s", out)
	}
}
