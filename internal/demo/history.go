package demo

import (
	"slices"
	"time"

	"kehu/internal/customer"
)

// flow is a movement on an account before balances are known.
type flow struct {
	at                                   time.Time
	amount                               int64
	kind, channel, counterparty, details string
	interest                             bool // amount is computed from the balance when settled
}

// currentRateBP is the current-account interest rate, credited quarterly.
const currentRateBP = 5

// months returns the first day (Shanghai) of every month that overlaps the
// history window after start.
func (g *generator) months(start time.Time) []time.Time {
	s := start.In(g.local)
	m := time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, g.local)
	var out []time.Time
	for ; m.Before(g.now); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

// inWindow reports whether t is a moment of the history after start.
func (g *generator) inWindow(t, start time.Time) bool { return t.After(start) && t.Before(g.now) }

// onDay returns a random moment between hours lo and hi of day d (a local
// midnight), in UTC.
func (g *generator) onDay(d time.Time, lo, hi int) time.Time {
	return d.Add(time.Duration(lo*3600+g.r.IntN((hi-lo)*3600)) * time.Second).UTC()
}

// anyDay returns a random day of month m (a local first of month).
func (g *generator) anyDay(m time.Time) time.Time {
	return m.AddDate(0, 0, g.r.IntN(daysIn(m.Year(), m.Month())))
}

// workday moves a weekend date back to Friday, as payroll does.
func workday(d time.Time) time.Time {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDate(0, 0, -1)
	case time.Sunday:
		return d.AddDate(0, 0, -2)
	}
	return d
}

// personalHistory writes twelve months of an individual's transactions.
func (g *generator) personalHistory(c *genCustomer, t trait, target int64, heavy bool, loan, card int) {
	r := g.r
	start := later(g.from, c.created)
	var cur []flow
	if c.status == customer.StatusDormant {
		// Dormant: at most a withdrawal or two a year ago, nothing since.
		for range r.IntN(3) {
			at := g.onDay(g.from.In(g.local).AddDate(0, 0, r.IntN(60)), 9, 17)
			cur = append(cur, flow{at: at, amount: -int64(1+r.IntN(5)) * 100_00, kind: "cash_withdrawal", channel: "atm", details: "ATM取款"})
		}
		g.settle(c, 0, cur, target)
		return
	}
	income := r.logNormal(7_000, 0.55)
	months := g.months(start)
	switch {
	case t.age < 60 && r.chance(0.68):
		cur = g.salary(c, t, cur, months, start, income)
	case t.age >= 60 && r.chance(0.85):
		day, payer := 5+r.IntN(10), c.outlet.cityName+"市社会保险事业管理局"
		pension := yuan(income * 0.55)
		for _, m := range months {
			if at := g.onDay(m.AddDate(0, 0, day-1), 8, 10); g.inWindow(at, start) {
				cur = append(cur, flow{at: at, amount: pension, kind: "pension", channel: "batch", counterparty: payer, details: "养老金"})
			}
		}
	default:
		for range 2 + r.IntN(7) {
			if at := g.onDay(g.anyDay(months[r.IntN(len(months))]), 8, 22); g.inWindow(at, start) {
				cur = append(cur, flow{at: at, amount: roundTo(yuan(income*(0.5+2.5*r.Float64())), 100_00), kind: "transfer_in",
					channel: "mobile", counterparty: personName(r, r.chance(0.5)), details: "转账"})
			}
		}
	}
	if r.chance(0.06) {
		for range 1 + r.IntN(2) {
			if at := g.onDay(g.anyDay(months[r.IntN(len(months))]), 9, 16); g.inWindow(at, start) {
				cur = append(cur, flow{at: at, amount: roundTo(yuan(r.logNormal(300_000, 0.8)), 1000_00), kind: "transfer_in",
					channel: pickString(r, []string{"counter", "online"}), counterparty: personName(r, r.chance(0.5)), details: pickString(r, largeInflows)})
			}
		}
	}
	cur = g.spending(cur, months, start, income, t.age, card >= 0)
	if loan >= 0 {
		cur = g.loanHistory(c, loan, cur, start)
	}
	if card >= 0 {
		cur = g.cardHistory(c, card, cur, start, heavy)
	}
	cur = g.interest(cur, start)
	g.settle(c, 0, cur, target)
}

// salary pays a monthly salary on the employer's fixed payday, with a
// year-end bonus for some. A third of employees work for a company that
// banks here too (an employer relationship, and its name on the payslip).
func (g *generator) salary(c *genCustomer, t trait, cur []flow, months []time.Time, start time.Time, income float64) []flow {
	r := g.r
	day := []int{5, 10, 15, 20, 25}[r.IntN(5)]
	employer := companyName(r, "", r.IntN(len(industries)))
	bonus := r.chance(0.5)
	if r.chance(0.35) {
		if j := g.employerOf(c, t); j >= 0 {
			employer = g.companyNameOf(j, c.outlet.cityName)
			c.relations = append(c.relations, genRelation{from: j, to: c.index, kind: "employer"})
		}
	}
	for _, m := range months {
		at := g.onDay(workday(m.AddDate(0, 0, day-1)), 9, 11)
		if !g.inWindow(at, start) {
			continue
		}
		cur = append(cur, flow{at: at, amount: yuan(income * (0.95 + 0.1*r.Float64())), kind: "salary", channel: "batch",
			counterparty: employer, details: "代发工资"})
		if bonus && m.Month() == time.January {
			cur = append(cur, flow{at: at.Add(time.Hour), amount: yuan(income * (1 + 2*r.Float64())), kind: "salary",
				channel: "batch", counterparty: employer, details: "年终奖"})
		}
	}
	return cur
}

// spending adds debit-card spends, cash withdrawals, household bills and
// transfers to family.
func (g *generator) spending(cur []flow, months []time.Time, start time.Time, income float64, age int, hasCard bool) []flow {
	r := g.r
	spendRate, atmRate := 0.35, 0.07
	if hasCard {
		spendRate = 0.2
	}
	if age > 50 {
		atmRate = 0.15
	}
	bills, billDay, payee := r.chance(0.35), 1+r.IntN(28), pickString(r, utilities)
	for i, m := range months {
		for range r.poisson(spendRate) {
			if at := g.onDay(g.anyDay(m), 8, 23); g.inWindow(at, start) {
				cur = append(cur, g.cardSpend(at))
			}
		}
		if r.chance(atmRate) {
			if at := g.onDay(g.anyDay(m), 8, 21); g.inWindow(at, start) {
				cur = append(cur, flow{at: at, amount: -int64(5+r.IntN(26)) * 100_00, kind: "cash_withdrawal", channel: "atm", details: "ATM取款"})
			}
		}
		if bills && i%2 == 0 {
			if at := g.onDay(m.AddDate(0, 0, billDay-1), 8, 22); g.inWindow(at, start) {
				cur = append(cur, flow{at: at, amount: -yuan(r.logNormal(150, 0.5)), kind: "payment", channel: "mobile", counterparty: payee, details: "生活缴费"})
			}
		}
		for range r.poisson(0.1) {
			if at := g.onDay(g.anyDay(m), 8, 22); g.inWindow(at, start) {
				cur = append(cur, flow{at: at, amount: -roundTo(yuan(income*(0.1+0.4*r.Float64())), 100), kind: "transfer_out",
					channel: "mobile", counterparty: personName(r, r.chance(0.5)), details: "转账"})
			}
		}
	}
	return cur
}

// cardSpend is one purchase with a bank card at a merchant.
func (g *generator) cardSpend(at time.Time) flow {
	r := g.r
	ch := "pos"
	switch u := r.Float64(); {
	case u < 0.3:
		ch = "online"
	case u < 0.55:
		ch = "third_party"
	}
	return flow{at: at, amount: -max(yuan(r.logNormal(85, 1.1)), 100), kind: "card_spend", channel: ch,
		counterparty: pickString(r, merchants), details: "消费"}
}

// loanHistory repays the loan monthly from the settlement account; the loan
// account gets the matching credit.
func (g *generator) loanHistory(c *genCustomer, loan int, cur []flow, start time.Time) []flow {
	a := &c.accounts[loan]
	months := 240
	if a.product.code == "LN-CONS" {
		months = 36
	}
	installment := -a.balance / int64(months)
	day := a.opened.Day
	var credits []flow
	start = later(start, a.opened.Time())
	for _, m := range g.months(start) {
		d := m.AddDate(0, 0, min(day, daysIn(m.Year(), m.Month()))-1)
		if at := d.Add(6 * time.Hour).UTC(); g.inWindow(at, start) {
			cur = append(cur, flow{at: at, amount: -installment, kind: "loan_repayment", channel: "system", counterparty: a.product.name, details: "贷款还款"})
			credits = append(credits, flow{at: at, amount: installment, kind: "repayment", channel: "system", details: "贷款还款"})
		}
	}
	// The loan's balance today is fixed; earlier balances were larger.
	var paid int64
	for _, f := range credits {
		paid += f.amount
	}
	g.post(a, credits, a.balance-paid)
	return cur
}

// cardHistory runs a credit card: spends, a statement on the 5th and full
// repayment from the settlement account on the 25th.
func (g *generator) cardHistory(c *genCustomer, card int, cur []flow, start time.Time, heavy bool) []flow {
	r := g.r
	a := &c.accounts[card]
	start = later(start, a.opened.Time())
	rate := 0.5
	if heavy {
		rate = 4
	}
	months := g.months(start)
	var spends []flow
	for _, m := range months {
		for range r.poisson(rate) {
			if at := g.onDay(g.anyDay(m), 7, 23); g.inWindow(at, start) {
				spends = append(spends, g.cardSpend(at))
			}
		}
	}
	slices.SortStableFunc(spends, func(x, y flow) int { return x.at.Compare(y.at) })
	var out []flow
	var bal, owed int64
	next := 0
	upTo := func(t time.Time) {
		for ; next < len(spends) && spends[next].at.Before(t); next++ {
			if bal+spends[next].amount >= -a.limit {
				bal += spends[next].amount
				out = append(out, spends[next])
			}
		}
	}
	for _, m := range months {
		statement := m.AddDate(0, 0, 4)
		upTo(statement)
		owed = -bal
		due := m.AddDate(0, 0, 24).Add(10 * time.Hour)
		upTo(due)
		if owed > 0 && g.inWindow(due, start) {
			bal += owed
			out = append(out, flow{at: due.UTC(), amount: owed, kind: "repayment", channel: "system", details: "自动还款"})
			cur = append(cur, flow{at: due.UTC(), amount: -owed, kind: "card_repayment", channel: "system", counterparty: a.product.name, details: "信用卡还款"})
		}
	}
	upTo(g.now)
	g.post(a, out, 0)
	return cur
}

// interest credits current-account interest on the 21st of the last month
// of each quarter, as Chinese banks do.
func (g *generator) interest(cur []flow, start time.Time) []flow {
	for _, m := range g.months(start) {
		if m.Month()%3 != 0 {
			continue
		}
		if at := m.AddDate(0, 0, 20).Add(30 * time.Minute).UTC(); g.inWindow(at, start) {
			cur = append(cur, flow{at: at, kind: "interest", channel: "system", details: "结息", interest: true})
		}
	}
	return cur
}

// settle posts the flows of account k: it chooses the balance before the
// first flow so the account never goes negative and ends near target. An
// account opened within the window starts with an opening deposit.
func (g *generator) settle(c *genCustomer, k int, flows []flow, target int64) {
	a := &c.accounts[k]
	slices.SortStableFunc(flows, func(x, y flow) int { return x.at.Compare(y.at) })
	var sum, low int64
	for _, f := range flows {
		sum += f.amount
		low = min(low, sum)
	}
	if surplus := sum - target; surplus > 1000_00 && len(flows) > 0 {
		flows = g.sweep(c, flows, surplus)
		sum, low = 0, 0
		for _, f := range flows {
			sum += f.amount
			low = min(low, sum)
		}
	}
	opening := max(target-sum, -low, 0)
	if c.created.After(g.from) {
		deposit := flow{at: c.created, amount: opening, kind: "deposit", channel: "counter", details: "开户存入"}
		if opening > 0 {
			flows = slices.Insert(flows, 0, deposit)
		}
		opening = 0
	}
	g.post(a, flows, opening)
}

// sweep moves what a year's inflows leave beyond the target out of the
// settlement account a few times a year, as savers do (to their account at
// another bank, a brokerage or a deposit), so balances stay near the
// customer's drawn wealth instead of growing with every salary.
func (g *generator) sweep(c *genCustomer, flows []flow, surplus int64) []flow {
	r := g.r
	start := later(g.from, c.created)
	k := 1 + r.IntN(2)
	span := g.now.Sub(start)
	for j := range k {
		at := g.onDay(start.Add(span*time.Duration(j+1)/time.Duration(k)-36*time.Hour).In(g.local).Truncate(24*time.Hour), 9, 21)
		amount := roundTo(surplus/int64(k), 100_00)
		if !g.inWindow(at, start) {
			continue
		}
		counterparty, details := c.name, pickString(r, sweepPurposes)
		flows = append(flows, flow{at: at, amount: -amount, kind: "transfer_out", channel: "mobile", counterparty: counterparty, details: details})
	}
	slices.SortStableFunc(flows, func(x, y flow) int { return x.at.Compare(y.at) })
	return flows
}

// sweepPurposes describe transfers of savings out of the account.
var sweepPurposes = []string{"转入本人他行账户", "银证转账", "转入本人储蓄账户"}

// post turns flows into transactions from an opening balance, computing
// quarterly interest on the running balance, and sets the balance.
func (g *generator) post(a *genAccount, flows []flow, opening int64) {
	slices.SortStableFunc(flows, func(x, y flow) int { return x.at.Compare(y.at) })
	bal := opening
	a.txns = make([]genTxn, 0, len(flows))
	for _, f := range flows {
		if f.interest {
			// Balances under about ¥8,000 earn less than a yuan a
			// quarter; leaving those out keeps the table lean.
			f.amount = bal * currentRateBP / 4 / 10_000
			if f.amount < 100 {
				continue
			}
		}
		bal += f.amount
		a.txns = append(a.txns, genTxn{at: f.at, amount: f.amount, balanceAfter: bal, kind: f.kind, channel: f.channel,
			counterparty: f.counterparty, details: f.details})
	}
	a.balance = bal
}

// personalEvents records app logins and views, calls and branch visits.
func (g *generator) personalEvents(c *genCustomer, t trait) {
	r := g.r
	start := later(g.from, c.created)
	months := g.months(start)
	if r.chance(0.7) && t.age < 65 || r.chance(0.25) {
		rate := 0.25
		if r.chance(0.12) {
			rate = 1.5
		}
		device := `{"device":"` + pickString(r, devices) + `"}`
		for _, m := range months {
			for range r.poisson(rate) {
				at := g.onDay(g.anyDay(m), 7, 23)
				if !g.inWindow(at, start) {
					continue
				}
				c.events = append(c.events, genEvent{at: at, channel: "mobile_app", kind: "app_login", detail: device})
				if r.chance(0.3) {
					c.events = append(c.events, genEvent{at: at.Add(time.Duration(5+r.IntN(120)) * time.Second), channel: "mobile_app",
						kind: "page_view", detail: `{"page":"` + pickString(r, appPages) + `"}`})
				}
				if r.chance(0.12) {
					p := g.viewable[r.IntN(len(g.viewable))]
					c.events = append(c.events, genEvent{at: at.Add(time.Duration(130+r.IntN(300)) * time.Second), channel: "mobile_app",
						kind: "product_view", product: p, detail: `{"source":"app"}`})
				}
			}
		}
	}
	for range r.poisson(0.5) {
		if at := g.onDay(g.anyDay(months[r.IntN(len(months))]), 8, 21); g.inWindow(at, start) {
			c.events = append(c.events, genEvent{at: at, channel: "call_center", kind: "call", detail: `{"reason":"` + pickString(r, callReasons) + `"}`})
		}
	}
	visits := 0.4
	if t.age > 55 {
		visits = 1.5
	}
	for range r.poisson(visits) {
		if at := g.onDay(g.anyDay(months[r.IntN(len(months))]), 9, 17); g.inWindow(at, start) {
			c.events = append(c.events, genEvent{at: at, channel: "branch", kind: "branch_visit",
				detail: `{"service":"` + pickString(r, branchServices) + `","outlet":"` + c.outlet.Code + `"}`})
		}
	}
	slices.SortStableFunc(c.events, func(x, y genEvent) int { return x.at.Compare(y.at) })
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
