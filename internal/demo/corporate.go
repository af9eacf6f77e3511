package demo

import (
	"strconv"

	"kehu/internal/cnid"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// corporate generates a company customer: a USCC registered in the
// outlet's county, its legal representative and shareholders among the
// outlet's individual customers, deposits, perhaps a loan and wealth
// products, and a year of business payments.
func (g *generator) corporate(c *genCustomer, t trait) {
	r := g.r
	c.typ, c.idType = customer.Corporate, customer.USCC
	ind := r.IntN(len(industries))
	c.industry = industries[ind].name
	c.name = companyName(r, c.outlet.cityName, ind)
	c.idNumber = uscc(g.seed, c.index, c.outlet.county)
	c.mobile = mobile(r)
	c.regionC = c.outlet.county
	c.address = g.geo.fullName[c.regionC] + pickString(r, roads) + strconv.Itoa(1+r.IntN(800)) + "号"
	if r.chance(0.5) {
		c.address += pickString(r, companyBrands) + pickString(r, companyBrands) + "大厦" + strconv.Itoa(2+r.IntN(30)) + "层"
	}
	capital := roundTo(yuan(r.logNormal(1_000_000, 1.2)), 10_000_00)
	c.capital = capital
	c.created = g.localTime(g.now.AddDate(0, 0, -30-r.IntN(15*365)), 9, 17)
	if r.chance(0.6) {
		c.risk = 1 + r.IntN(4)
		c.riskAt = later(c.created, g.localTime(g.now.AddDate(0, 0, -r.IntN(900)), 9, 17))
	}
	g.corporateOwners(c)
	target := min(r.logNormal(800_000, 1.6), 500_000_000)
	c.accounts = append(c.accounts, genAccount{product: g.products["DEP-CUR-C"], opened: kehu.DateOf(c.created.In(g.local))})
	currentShare := 0.5 + 0.4*r.Float64()
	rest := target * (1 - currentShare)
	invest := 0.0
	if c.risk > 0 && r.chance(0.3) {
		invest = rest * 0.5
	}
	g.timeDeposits(c, rest-invest, c.created)
	g.investments(c, invest, c.created)
	loan := -1
	if r.chance(0.15) {
		p := g.products["LN-BIZ"]
		opened := later(c.created, g.now.AddDate(0, 0, -60-r.IntN(p.termDays-60)))
		o := kehu.DateOf(opened.In(g.local))
		c.accounts = append(c.accounts, genAccount{product: p, balance: -roundTo(yuan(500_000+r.Float64()*9_500_000), 10_000_00),
			opened: o, matures: kehu.DateOf(o.Time().AddDate(0, 0, p.termDays))})
		loan = len(c.accounts) - 1
	}
	g.corporateHistory(c, yuan(target*currentShare), float64(capital)/100, loan)
}

// ownerSearch bounds how far back a company looks for its people.
const ownerSearch = 20_000

// corporateOwners links the company to one to three earlier adult
// individuals of the same outlet: the first is legal representative and
// majority shareholder, the others minority shareholders.
func (g *generator) corporateOwners(c *genCustomer) {
	r := g.r
	want := 1 + r.IntN(3)
	var people []int
	outlets := len(g.bank.outlets)
	self := traitOf(g.seed, outlets, c.index)
	for j := c.index - 1; j >= 0 && j >= c.index-ownerSearch && len(people) < want; j-- {
		if t := traitOf(g.seed, outlets, j); !t.corporate && t.outlet == self.outlet && t.age >= 25 {
			people = append(people, j)
		}
	}
	if len(people) == 0 {
		return
	}
	shares := []int{10_000}
	if len(people) > 1 {
		first := 5_100 + r.IntN(3_000)
		shares = []int{first}
		each := (10_000 - first) / (len(people) - 1)
		for k := 1; k < len(people); k++ {
			shares = append(shares, each)
		}
	}
	c.relations = append(c.relations, genRelation{from: people[0], to: c.index, kind: "legal_representative"})
	for k, p := range people {
		c.relations = append(c.relations, genRelation{from: p, to: c.index, kind: "shareholder", share: shares[k]})
	}
}

// corporateHistory is a year of receipts from customers, payments to
// suppliers, payroll, tax, loan instalments and interest.
func (g *generator) corporateHistory(c *genCustomer, target int64, capital float64, loan int) {
	r := g.r
	start := later(g.from, c.created)
	months := g.months(start)
	size := max(capital*0.03, 5_000)
	staff := 3 + r.IntN(60)
	payroll := float64(staff) * r.logNormal(6_500, 0.3)
	taxOffice := "国家税务总局" + c.outlet.cityName + "市税务局"
	var cur []flow
	for _, m := range months {
		for range r.poisson(1.5) {
			if at := g.onDay(g.anyDay(m), 9, 18); g.inWindow(at, start) {
				cur = append(cur, flow{at: at, amount: yuan(r.logNormal(size, 1.0)), kind: "transfer_in", channel: "online",
					counterparty: companyName(r, "", r.IntN(len(industries))), details: "货款"})
			}
		}
		for range r.poisson(1.2) {
			if at := g.onDay(g.anyDay(m), 9, 18); g.inWindow(at, start) {
				cur = append(cur, flow{at: at, amount: -yuan(r.logNormal(size*0.8, 1.0)), kind: "transfer_out", channel: "online",
					counterparty: companyName(r, "", r.IntN(len(industries))), details: "采购付款"})
			}
		}
		if at := g.onDay(workday(m.AddDate(0, 0, 9)), 9, 11); g.inWindow(at, start) {
			cur = append(cur, flow{at: at, amount: -yuan(payroll * (0.97 + 0.06*r.Float64())), kind: "payroll", channel: "batch",
				details: "代发工资 " + strconv.Itoa(staff) + "人"})
		}
		if at := g.onDay(workday(m.AddDate(0, 0, 14)), 9, 16); g.inWindow(at, start) {
			cur = append(cur, flow{at: at, amount: -yuan(size * (0.3 + 0.4*r.Float64())), kind: "tax", channel: "online",
				counterparty: taxOffice, details: "税款缴纳"})
		}
	}
	if loan >= 0 {
		cur = g.loanHistory(c, loan, cur, start)
	}
	cur = g.interest(cur, start)
	g.settle(c, 0, cur, target)
}

// usccChars is the GB 32100 alphabet.
const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// uscc builds the company's Unified Social Credit Code. The nine-character
// organisation code is "MA" and seven characters from a bijection of the
// customer index (multiplication by a unit modulo 31^7 plus a seeded
// offset), so codes never collide and do not look sequential.
func uscc(seed int64, index int, county string) string {
	const m = 31 * 31 * 31 * 31 * 31 * 31 * 31
	x := (uint64(index)%m*382_258_049 + hashOf(seed, streamCompany, 0)%m) % m
	code := []byte("MA0000000")
	for k := 8; k >= 2; k-- {
		code[k] = usccChars[x%31]
		x /= 31
	}
	return cnid.BuildUSCC("91", county, string(code))
}
