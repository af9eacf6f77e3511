package demo

import (
	"math"
	"strconv"
	"time"

	"kehu/internal/cnid"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/store"
)

// genCustomer is one generated customer with everything that hangs off it.
// Ids of accounts and transactions are assigned by the writer, in order.
type genCustomer struct {
	index                                   int
	typ, name, idType, idNumber             string
	mobile, email, gender, address, regionC string
	birth                                   kehu.Date
	outlet                                  *orgNode
	owner                                   int64
	level                                   string
	aum                                     int64
	risk                                    int
	riskAt                                  time.Time
	industry                                string
	capital                                 int64
	status                                  string
	created                                 time.Time
	idRegion                                string // resident ID parts, to rebuild the number on a collision
	idSeq                                   int
	accounts                                []genAccount
	holdings                                []genHolding
	events                                  []genEvent
	relations                               []genRelation
	interactions                            []genInteraction
	tags                                    []genTag
	// Filled by the worker that generated the customer (seal.go): the
	// stored forms of the personal fields and the name's search keys.
	sealed     store.SealedCustomer
	nameKey    string
	namePinyin string
}

type genAccount struct {
	product         *product
	balance, limit  int64
	opened, matures kehu.Date
	txns            []genTxn
	no              string // account number, and its sealed form and blind index
	sealedNo, index string
}

type genTxn struct {
	at                                   time.Time
	amount, balanceAfter                 int64
	kind, channel, counterparty, details string
}

type genHolding struct {
	product           *product
	amount, cost      int64
	acquired, matures kehu.Date
}

type genEvent struct {
	at            time.Time
	channel, kind string
	product       int64 // 0 for none
	detail        string
}

type genRelation struct {
	from, to int // customer indexes
	kind     string
	share    int
}

// generator turns customer indexes into customers. Each goroutine has its
// own (the rng is reused); bank and geo are shared read-only.
type generator struct {
	seed     int64
	bank     *bank
	geo      *geo
	r        *rng
	scratch  *rng      // replays other customers' streams (companyNameOf)
	now      time.Time // UTC, whole seconds
	from     time.Time // start of the twelve months of history
	local    *time.Location
	products map[string]*product
	viewable []int64 // ids of products customers browse in the app
}

// shanghai is the business time zone as a fixed offset: China has no
// daylight saving time, and a fixed zone keeps output independent of the
// machine's tzdata.
var shanghai = time.FixedZone("CST", 8*3600)

func newGenerator(seed int64, b *bank, g *geo) *generator {
	gen := &generator{seed: seed, bank: b, geo: g, r: newRNG(), scratch: newRNG(), now: b.now, from: b.now.AddDate(-1, 0, 0),
		local: shanghai, products: map[string]*product{}}
	for i := range b.products {
		gen.products[b.products[i].code] = &b.products[i]
		if k := b.products[i].kind; k == wealthProduct || k == fundProduct || k == insurance {
			gen.viewable = append(gen.viewable, b.products[i].id)
		}
	}
	return gen
}

// customer generates customer i.
func (g *generator) customer(i int) genCustomer {
	t := traitOf(g.seed, len(g.bank.outlets), i)
	g.r.reseed(g.seed, streamCustomer, i)
	c := genCustomer{index: i, outlet: g.bank.outlets[t.outlet], status: customer.StatusActive}
	if t.corporate {
		g.corporate(&c, t)
	} else {
		g.individual(&c, t)
	}
	c.aum = 0
	for _, a := range c.accounts {
		if a.product.kind == currentDeposit || a.product.kind == timeDeposit {
			c.aum += a.balance
		}
	}
	for _, h := range c.holdings {
		c.aum += h.amount
	}
	c.level = customer.LevelStandard // the level engine decides after loading (levels.go)
	g.assignOwner(&c)
	g.crm(&c, t)
	return c
}

// assignOwner gives most customers a relationship manager of their outlet;
// wealthy ones and companies always have one.
func (g *generator) assignOwner(c *genCustomer) {
	rms := c.outlet.rms
	if len(rms) == 0 {
		return
	}
	if c.typ == customer.Corporate || c.aum >= 500_000_00 || g.r.chance(0.7) {
		c.owner = rms[g.r.IntN(len(rms))]
	}
}

func (g *generator) individual(c *genCustomer, t trait) {
	r := g.r
	c.typ, c.idType = customer.Individual, customer.ResidentID
	c.gender = "F"
	if t.male {
		c.gender = "M"
	}
	nowLocal := g.now.In(g.local)
	year := nowLocal.Year() - t.age
	month := time.Month(1 + r.IntN(12))
	day := 1 + r.IntN(daysIn(year, month))
	birth := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	if birth.After(time.Date(nowLocal.Year()-18, nowLocal.Month(), nowLocal.Day(), 0, 0, 0, 0, time.UTC)) {
		birth = birth.AddDate(-1, 0, 0)
	}
	c.birth = kehu.DateOf(birth)
	c.name = personName(r, t.male)
	c.idRegion = g.geo.idRegion(r, c.outlet.county)
	c.idSeq = r.IntN(500) * 2
	if t.male {
		c.idSeq++
	}
	c.idNumber = cnid.BuildResident(c.idRegion, birth, c.idSeq)
	c.mobile = mobile(r)
	switch u := r.Float64(); {
	case u < 0.15:
		c.email = c.mobile + "@163.com"
	case u < 0.30:
		c.email = strconv.Itoa(10000+r.IntN(3_000_000_000)) + "@qq.com"
	}
	c.regionC = g.geo.homeRegion(r, c.outlet.county)
	c.address = g.geo.fullName[c.regionC] + pickString(r, roads) + strconv.Itoa(1+r.IntN(400)) + "号" +
		pickString(r, estates) + strconv.Itoa(1+r.IntN(30)) + "幢" + strconv.Itoa(1+r.IntN(3)) + "单元" +
		strconv.Itoa(1+r.IntN(28)) + "0" + strconv.Itoa(1+r.IntN(6)) + "室"
	c.created = g.customerSince(birth)
	if c.created.Before(g.from) && r.chance(0.07) {
		c.status = customer.StatusDormant
	}
	if r.chance(0.78) {
		c.risk = riskFor(r, t.age)
		c.riskAt = g.localTime(g.now.AddDate(0, 0, -r.IntN(900)), 9, 17)
		if c.riskAt.Before(c.created) {
			c.riskAt = c.created
		}
	}
	g.family(c, t)
	g.personalAssets(c, t)
	if c.status == customer.StatusActive {
		g.personalEvents(c, t)
	}
}

// family records the customer's household relationships, from the earlier
// member to the later one, so both rows exist when the relation is written.
func (g *generator) family(c *genCustomer, t trait) {
	if t.spouse >= 0 && t.spouse < c.index {
		c.relations = append(c.relations, genRelation{from: t.spouse, to: c.index, kind: "spouse"})
	}
	if t.father >= 0 {
		c.relations = append(c.relations, genRelation{from: t.father, to: c.index, kind: "parent"},
			genRelation{from: t.mother, to: c.index, kind: "parent"})
	}
}

// customerSince draws when the customer joined: a few in the last year,
// most over the past fifteen, never before the age of 18.
func (g *generator) customerSince(birth time.Time) time.Time {
	days := 30 + g.r.IntN(15*365)
	if g.r.chance(0.08) {
		days = g.r.IntN(365)
	}
	at := g.now.AddDate(0, 0, -days)
	if adult := birth.AddDate(18, 0, 0); at.Before(adult) {
		at = adult
	}
	return g.localTime(at, 9, 17)
}

// riskFor draws an assessed risk tolerance (C1-C5); older customers lean
// conservative.
func riskFor(r *rng, age int) int {
	w := []float64{15, 30, 35, 15, 5}
	if age >= 60 {
		w = []float64{35, 40, 20, 4, 1}
	} else if age < 35 {
		w = []float64{8, 22, 38, 22, 10}
	}
	return 1 + newWeighted(w).pick(r.Float64())
}

// mobilePrefixes are number segments allocated to China Mobile, Unicom,
// Telecom and Broadnet.
var mobilePrefixes = []string{"134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158",
	"159", "178", "182", "183", "184", "187", "188", "198", "130", "131", "132", "145", "155", "156", "166", "175",
	"176", "185", "186", "133", "149", "153", "173", "177", "180", "181", "189", "191", "199", "192"}

func mobile(r *rng) string {
	n := r.IntN(100_000_000)
	s := strconv.Itoa(n)
	for len(s) < 8 {
		s = "0" + s
	}
	return pickString(r, mobilePrefixes) + s
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// localTime returns a random moment between hour lo and hi, Shanghai time,
// on the Shanghai calendar day of t, in UTC.
func (g *generator) localTime(t time.Time, lo, hi int) time.Time {
	y, m, d := t.In(g.local).Date()
	sec := lo*3600 + g.r.IntN((hi-lo)*3600)
	return time.Date(y, m, d, 0, 0, sec, 0, g.local).UTC()
}

// yuan converts a float amount in yuan to fen.
func yuan(x float64) int64 { return int64(math.Round(x * 100)) }
