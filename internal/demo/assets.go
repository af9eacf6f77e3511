package demo

import (
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// personalAssets gives an individual a settlement account, time deposits,
// investments within their risk tolerance, perhaps a loan and a credit
// card, and twelve months of transactions. Balances follow from the
// transactions; the level follows from the balances.
func (g *generator) personalAssets(c *genCustomer, t trait) {
	r := g.r
	dormant := c.status == customer.StatusDormant
	// Wealth is log-normal (median ¥15k, a long tail to private banking),
	// growing with age.
	target := r.logNormal(12_000, 1.9) * ageWealth(t.age)
	if dormant {
		target = r.logNormal(300, 1.5)
	}
	target = min(target, 200_000_000)
	currentShare := 0.1 + 0.3*r.Float64()
	if target < 50_000 {
		currentShare = 0.6 + 0.4*r.Float64()
	}
	opened := kehu.DateOf(c.created.In(g.local))
	cur := genAccount{product: g.products["DEP-CUR-P"], opened: opened}
	rest := target * (1 - currentShare)
	invest := 0.0
	if c.risk > 0 && !dormant && rest > 10_000 {
		invest = rest * (0.3 + 0.6*r.Float64())
	}
	deposits := rest - invest
	if deposits < 5_000 {
		currentShare, deposits = currentShare+deposits/max(target, 1), 0
	}
	c.accounts = append(c.accounts, cur)
	g.timeDeposits(c, deposits, c.created)
	g.investments(c, invest, c.created)
	loan, card := -1, -1
	if !dormant && t.age >= 25 && t.age <= 58 && r.chance(0.12) {
		loan = g.personalLoan(c, r.chance(0.65))
	}
	heavy := !dormant && t.age < 60 && r.chance(0.08)
	if heavy || !dormant && r.chance(0.11) {
		card = g.creditCard(c, target >= 500_000)
	}
	g.personalHistory(c, t, yuan(target*currentShare), heavy, loan, card)
}

// ageWealth scales wealth with age: savings accumulate until retirement.
func ageWealth(age int) float64 {
	switch {
	case age < 25:
		return 0.25
	case age < 36:
		return 0.7
	case age < 56:
		return 1.2
	default:
		return 1.5
	}
}

// timeDeposits splits amount (yuan) into one to three time deposits that
// are running today.
func (g *generator) timeDeposits(c *genCustomer, amount float64, since time.Time) {
	if amount <= 0 {
		return
	}
	r := g.r
	n := 1 + r.IntN(3)
	codes := []string{"DEP-TD-3M", "DEP-TD-6M", "DEP-TD-1Y", "DEP-TD-2Y", "DEP-TD-3Y"}
	if c.typ == customer.Corporate {
		codes = []string{"DEP-TD-C1Y"}
	}
	for k := range n {
		piece := amount / float64(n)
		if k == n-1 {
			piece = amount - piece*float64(n-1)
		}
		p := g.products[pickString(r, codes)]
		if piece >= 200_000 && c.typ == customer.Individual && r.chance(0.5) {
			p = g.products["DEP-LCD-3Y"]
		}
		openedAt := g.now.AddDate(0, 0, -1-r.IntN(p.termDays))
		if openedAt.Before(since) {
			openedAt = since
		}
		o := kehu.DateOf(openedAt.In(g.local))
		c.accounts = append(c.accounts, genAccount{product: p, balance: roundTo(yuan(piece), 100_00), opened: o,
			matures: kehu.DateOf(o.Time().AddDate(0, 0, p.termDays))})
	}
}

// investments buys one to four products no riskier than the customer's
// assessed tolerance, held through the settlement account.
func (g *generator) investments(c *genCustomer, amount float64, since time.Time) {
	if amount <= 0 || c.risk == 0 {
		return
	}
	r := g.r
	var fit []*product
	for i := range g.bank.products {
		p := &g.bank.products[i]
		if (p.kind == wealthProduct || p.kind == fundProduct || p.kind == insurance && c.typ == customer.Individual) && p.risk <= c.risk {
			fit = append(fit, p)
		}
	}
	n := min(len(fit), 1+r.IntN(4))
	for k := range n {
		piece := amount / float64(n)
		if k == n-1 {
			piece = amount - piece*float64(n-1)
		}
		p := fit[r.IntN(len(fit))]
		value := yuan(piece)
		ret := 0.02 + 0.01*r.NormFloat64()
		if p.kind == fundProduct {
			ret = 0.01 + 0.04*float64(p.risk)*r.NormFloat64()
		}
		cost := int64(float64(value) / (1 + ret))
		acquired := g.now.AddDate(0, 0, -30-r.IntN(900))
		if acquired.Before(since) {
			acquired = since
		}
		h := genHolding{product: p, amount: value, cost: cost, acquired: kehu.DateOf(acquired.In(g.local))}
		if p.termDays > 0 {
			// Roll fixed-term products over so every holding is current.
			for !acquired.AddDate(0, 0, p.termDays).After(g.now) {
				acquired = acquired.AddDate(0, 0, p.termDays)
			}
			h.acquired = kehu.DateOf(acquired.In(g.local))
			h.matures = kehu.DateOf(acquired.In(g.local).AddDate(0, 0, p.termDays))
		}
		c.holdings = append(c.holdings, h)
	}
}

// personalLoan opens a mortgage or a consumer loan; its balance is the
// outstanding principal as a negative amount. It returns the account's
// position in c.accounts.
func (g *generator) personalLoan(c *genCustomer, mortgage bool) int {
	r := g.r
	p, principal := g.products["LN-CONS"], 20_000+r.Float64()*280_000
	if mortgage {
		p, principal = g.products["LN-MORT"], 300_000+r.Float64()*2_700_000
	}
	opened := g.now.AddDate(0, 0, -60-r.IntN(min(p.termDays-60, 3650)))
	if opened.Before(c.created) {
		opened = c.created
	}
	o := kehu.DateOf(opened.In(g.local))
	c.accounts = append(c.accounts, genAccount{product: p, balance: -roundTo(yuan(principal), 1000_00), opened: o,
		matures: kehu.DateOf(o.Time().AddDate(0, 0, p.termDays))})
	return len(c.accounts) - 1
}

// creditCard issues a card with a limit; the balance (negative: owed) comes
// from its transactions. It returns the account's position in c.accounts.
func (g *generator) creditCard(c *genCustomer, platinum bool) int {
	r := g.r
	p, limit := g.products["CC-STD"], int64(10_000+r.IntN(10)*10_000)
	if platinum {
		p, limit = g.products["CC-PLT"], int64(50_000+r.IntN(26)*10_000)
	}
	opened := g.now.AddDate(0, 0, -r.IntN(3000))
	if opened.Before(c.created) {
		opened = c.created
	}
	c.accounts = append(c.accounts, genAccount{product: p, limit: limit * 100, opened: kehu.DateOf(opened.In(g.local))})
	return len(c.accounts) - 1
}

func roundTo(x, unit int64) int64 {
	if r := x / unit * unit; r > 0 {
		return r
	}
	return x
}
