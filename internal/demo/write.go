package demo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"kehu/internal/cnid"
	"kehu/internal/store"
)

// tables are the tables the demo fills, parents first: the bulk loader
// writes them in this order in every batch, so foreign keys hold.
var tables = []struct {
	name    string
	columns []string
}{
	{"orgs", []string{"id", "parent_id", "code", "name", "name_en", "level", "region_code", "city", "path", "created_at"}},
	{"users", []string{"id", "username", "display_name", "role", "org_id", "password_hash", "disabled", "created_at", "updated_at"}},
	{"products", []string{"id", "code", "name", "name_en", "type", "risk_level", "term_days", "rate_bp", "status"}},
	{"tags", tagColumns},
	{"customers", []string{"id", "type", "name", "id_type", "id_number", "mobile", "email", "gender", "birth_date", "address",
		"region_code", "org_id", "owner_id", "level", "aum", "risk_level", "risk_assessed_at", "industry",
		"registered_capital", "status", "created_at", "updated_at", "id_number_bidx", "mobile_bidx", "name_key", "name_pinyin"}},
	{"accounts", []string{"id", "customer_id", "product_id", "account_no", "currency", "balance", "credit_limit", "status",
		"org_id", "opened_on", "matures_on", "account_no_bidx"}},
	{"holdings", []string{"id", "customer_id", "account_id", "product_id", "amount", "cost", "acquired_on", "matures_on"}},
	{"transactions", []string{"id", "account_id", "customer_id", "occurred_at", "amount", "balance_after", "kind", "channel",
		"counterparty", "description"}},
	{"relationships", []string{"id", "from_customer_id", "to_customer_id", "kind", "share_bp", "created_at"}},
	{"channel_events", []string{"id", "customer_id", "occurred_at", "channel", "kind", "product_id", "detail"}},
	{"interactions", []string{"id", "customer_id", "user_id", "occurred_at", "channel", "purpose", "product_id", "response", "note"}},
	{"interaction_products", []string{"interaction_id", "product_id"}},
	{"customer_tags", []string{"customer_id", "tag_id", "created_by", "created_at", "expires_at", "reason"}},
}

// blockSize is how many customers a worker generates at a time.
const blockSize = 256

// writer assigns ids in customer order and feeds the bulk loader. It is the
// only place where order matters, so the data do not depend on how the
// workers were scheduled.
type writer struct {
	db                        *store.DB // seals personal fields as the store would
	t                         map[string]*store.BulkTable
	bank                      *bank
	nextAccount, nextHolding  int64
	nextTxn, nextRel, nextEvt int64
	nextInteraction           int64
	ids, mobiles              map[uint64]struct{} // resident IDs and mobiles handed out
	tags                      *demoTags
	tagged                    map[[2]int64]bool // tags put on another customer (a company's legal representative)
}

// write loads the whole bank.
func write(ctx context.Context, db *store.DB, b *bank, hash string, opt Options) (map[string]int64, error) {
	// The database is empty (Generate checked) and worthless if the load
	// fails, so indexes are built once at the end.
	l, err := db.NewBulkLoader(ctx, store.BulkOptions{CommitRows: 200_000, DeferIndexes: true})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	w := &writer{db: db, t: map[string]*store.BulkTable{}, bank: b, ids: make(map[uint64]struct{}, opt.Customers),
		mobiles: make(map[uint64]struct{}, opt.Customers), tagged: map[[2]int64]bool{}}
	if w.tags, err = catalogueTags(ctx, db, b.now); err != nil {
		return nil, errors.Join(err, l.Abort())
	}
	for _, tb := range tables {
		if w.t[tb.name], err = l.Table(tb.name, tb.columns...); err != nil {
			return nil, errors.Join(fmt.Errorf("demo: %w", err), l.Abort())
		}
	}
	progress := newThrottle(opt.Progress)
	if err := w.tags.write(w.t["tags"]); err != nil {
		return nil, errors.Join(err, l.Abort())
	}
	if err := w.bankRows(hash); err != nil {
		return nil, errors.Join(err, l.Abort())
	}
	if err := w.customers(ctx, opt, progress); err != nil {
		return nil, errors.Join(err, l.Abort())
	}
	progress.report("finishing", 0, 1, true)
	if err := l.Close(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	counts := map[string]int64{}
	names := make([]string, 0, len(tables))
	for _, tb := range tables {
		counts[tb.name] = w.t[tb.name].Loaded()
		if tb.columns[0] == "id" { // join tables have no sequence
			names = append(names, tb.name)
		}
	}
	if err := db.ResetSequences(ctx, names...); err != nil {
		return counts, fmt.Errorf("demo: %w", err)
	}
	progress.report("finishing", 1, 1, true)
	return counts, nil
}

// bankRows writes the organisation tree, the staff and the catalogue.
func (w *writer) bankRows(hash string) error {
	now := w.bank.now
	for _, o := range w.bank.orgs {
		var parent any
		if o.ParentID != nil {
			parent = *o.ParentID
		}
		if err := w.t["orgs"].Add(o.ID, parent, o.Code, o.Name, o.NameEN, o.Level, o.RegionCode, o.City, o.Path, now); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	for _, u := range w.bank.users {
		if err := w.t["users"].Add(u.id, u.username, u.displayName, u.role, u.orgID, hash, false, now, now); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	for _, p := range w.bank.products {
		if err := w.t["products"].Add(p.id, p.code, p.name, p.nameEN, p.kind, p.risk, p.termDays, p.rate, "on_sale"); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}

// block is a run of customers generated and sealed by one worker; done
// delivers them, or the error that stopped the worker.
type block struct {
	from, to int
	done     chan blockResult
}

type blockResult struct {
	customers []genCustomer
	err       error
}

// customers generates customers on every core and writes them in order.
func (w *writer) customers(ctx context.Context, opt Options, progress *throttle) error {
	ctx, cancel := context.WithCancel(ctx)
	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *block, workers)
	ordered := make(chan *block, 2*workers)
	g := newGeo()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen := newGenerator(opt.Seed, w.bank, g)
			for b := range work {
				res := blockResult{customers: make([]genCustomer, 0, b.to-b.from)}
				for i := b.from; i < b.to && res.err == nil; i++ {
					c := gen.customer(i)
					res.err = seal(w.db, &c)
					res.customers = append(res.customers, c)
				}
				b.done <- res
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer close(work)
		for from := 0; from < opt.Customers; from += blockSize {
			b := &block{from: from, to: min(from+blockSize, opt.Customers), done: make(chan blockResult, 1)}
			select {
			case work <- b:
			case <-ctx.Done():
				return
			}
			select {
			case ordered <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	// Stop the producer before waiting for the workers, whatever the exit.
	defer func() { cancel(); wg.Wait() }()
	total := int64(opt.Customers)
	for b := range ordered {
		var res blockResult
		select {
		case res = <-b.done:
		case <-ctx.Done():
			return fmt.Errorf("demo: %w", ctx.Err())
		}
		if res.err != nil {
			return res.err
		}
		cs := res.customers
		for i := range cs {
			if err := w.customer(&cs[i]); err != nil {
				return err
			}
		}
		progress.report("customers", int64(b.to), total, b.to == opt.Customers)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}

// customer writes one customer and its rows, assigning ids.
func (w *writer) customer(c *genCustomer) error {
	id := int64(c.index + 1)
	if w.unique(c) {
		sc, err := w.db.SealCustomer(c.idNumber, c.mobile, c.email, c.address)
		if err != nil {
			return fmt.Errorf("demo: customer %d: %w", id, err)
		}
		c.sealed = sc
	}
	var owner, riskAt any
	if c.owner != 0 {
		owner = c.owner
	}
	if !c.riskAt.IsZero() {
		riskAt = c.riskAt
	}
	sc := c.sealed
	err := w.t["customers"].Add(id, c.typ, c.name, c.idType, sc.IDNumber, sc.Mobile, sc.Email, c.gender, c.birth, sc.Address,
		c.regionC, c.outlet.ID, owner, c.level, c.aum, c.risk, riskAt, c.industry, c.capital, c.status, c.created, c.created,
		sc.IDNumberIndex, sc.MobileIndex, c.nameKey, c.namePinyin)
	if err != nil {
		return fmt.Errorf("demo: customer %d: %w", id, err)
	}
	accountIDs := make([]int64, len(c.accounts))
	for k := range c.accounts {
		a := &c.accounts[k]
		w.nextAccount++
		accountIDs[k] = w.nextAccount
		status := "active"
		if c.status == "dormant" {
			status = "dormant"
		}
		if err := w.t["accounts"].Add(w.nextAccount, id, a.product.id, a.sealedNo, "CNY",
			a.balance, a.limit, status, c.outlet.ID, a.opened, a.matures, a.index); err != nil {
			return fmt.Errorf("demo: customer %d: %w", id, err)
		}
	}
	for _, h := range c.holdings {
		w.nextHolding++
		if err := w.t["holdings"].Add(w.nextHolding, id, accountIDs[0], h.product.id, h.amount, h.cost, h.acquired, h.matures); err != nil {
			return fmt.Errorf("demo: customer %d: %w", id, err)
		}
	}
	if err := w.transactions(c, id, accountIDs); err != nil {
		return err
	}
	for _, r := range c.relations {
		w.nextRel++
		if err := w.t["relationships"].Add(w.nextRel, int64(r.from+1), int64(r.to+1), r.kind, r.share, c.created); err != nil {
			return fmt.Errorf("demo: customer %d: %w", id, err)
		}
	}
	for _, e := range c.events {
		w.nextEvt++
		var product any
		if e.product != 0 {
			product = e.product
		}
		if err := w.t["channel_events"].Add(w.nextEvt, id, e.at, e.channel, e.kind, product, e.detail); err != nil {
			return fmt.Errorf("demo: customer %d: %w", id, err)
		}
	}
	if err := w.crm(c, id); err != nil {
		return fmt.Errorf("demo: customer %d: %w", id, err)
	}
	return nil
}

// crm writes the customer's interactions and the tags it puts on itself
// or on its legal representative.
func (w *writer) crm(c *genCustomer, id int64) error {
	for _, in := range c.interactions {
		w.nextInteraction++
		var first any
		if len(in.products) > 0 {
			first = in.products[0]
		}
		if err := w.t["interactions"].Add(w.nextInteraction, id, in.user, in.at, in.channel, in.purpose, first,
			in.response, in.note); err != nil {
			return err
		}
		for _, p := range in.products {
			if err := w.t["interaction_products"].Add(w.nextInteraction, p); err != nil {
				return err
			}
		}
	}
	for _, tg := range c.tags {
		who, tagID := int64(tg.customer+1), w.tags.id[tg.tag]
		if who != id {
			if w.tagged[[2]int64{who, tagID}] {
				continue
			}
			w.tagged[[2]int64{who, tagID}] = true
		}
		var by, expires any
		if tg.by != 0 {
			by = tg.by
		}
		if !tg.expires.IsZero() {
			expires = tg.expires
		}
		if err := w.t["customer_tags"].Add(who, tagID, by, tg.at, expires, tg.reason); err != nil {
			return err
		}
	}
	return nil
}

// transactions writes the customer's transactions of all accounts merged
// in time order, so ids follow time within the customer.
func (w *writer) transactions(c *genCustomer, id int64, accountIDs []int64) error {
	at := make([]int, len(c.accounts)) // next transaction per account
	for {
		best := -1
		for k := range c.accounts {
			if at[k] < len(c.accounts[k].txns) && (best < 0 || c.accounts[k].txns[at[k]].at.Before(c.accounts[best].txns[at[best]].at)) {
				best = k
			}
		}
		if best < 0 {
			return nil
		}
		t := c.accounts[best].txns[at[best]]
		at[best]++
		w.nextTxn++
		if err := w.t["transactions"].Add(w.nextTxn, accountIDs[best], id, t.at, t.amount, t.balanceAfter, t.kind, t.channel,
			t.counterparty, t.details); err != nil {
			return fmt.Errorf("demo: customer %d: %w", id, err)
		}
	}
}

// unique makes the resident ID number and the mobile of c unused so far,
// changing the sequence number (same sex) or the mobile's last digits on a
// collision, and reports whether it changed either. It runs in customer
// order, so the outcome is deterministic.
func (w *writer) unique(c *genCustomer) bool {
	changed := false
	if c.idRegion != "" {
		region, _ := strconv.ParseUint(c.idRegion, 10, 64)
		birth := uint64(c.birth.Year*10000 + int(c.birth.Month)*100 + c.birth.Day)
		key := func() uint64 { return (region*100_000_000+birth)*1000 + uint64(c.idSeq) }
		if _, dup := w.ids[key()]; dup {
			for tries := 0; tries < 500; tries++ {
				c.idSeq = (c.idSeq + 2) % 1000
				if _, dup := w.ids[key()]; !dup {
					break
				}
			}
			c.idNumber = cnid.BuildResident(c.idRegion, c.birth.Time(), c.idSeq)
			changed = true
		}
		w.ids[key()] = struct{}{}
	}
	n, _ := strconv.ParseUint(c.mobile, 10, 64)
	for {
		if _, dup := w.mobiles[n]; !dup {
			break
		}
		n = n/100_000_000*100_000_000 + (n%100_000_000+1)%100_000_000
		changed = true
	}
	w.mobiles[n] = struct{}{}
	if changed {
		c.mobile = strconv.FormatUint(n, 10)
		// The e-mail of some customers is their mobile at 163.com.
		if strings.HasSuffix(c.email, "@163.com") {
			c.email = c.mobile + "@163.com"
		}
	}
	return changed
}

// accountNo builds an account number from n = customer index ×
// accountsPerCustomer + the account's place: a card number (BIN and Luhn
// check digit) for cards and personal current accounts, a plain 18-digit
// number for the rest. The twelve digits in the middle are a bijection of n,
// so numbers are unique without looking sequential.
func accountNo(id int64, kind string) string {
	const m = 1_000_000_000_000
	core := strconv.FormatInt((id%m*7_919_993+104_729)%m, 10)
	for len(core) < 12 {
		core = "0" + core
	}
	switch kind {
	case creditCard:
		return luhn("625806" + core)
	case currentDeposit:
		return luhn("623058" + core)
	}
	return "310" + kindDigit[kind] + "02" + core
}

var kindDigit = map[string]string{timeDeposit: "1", loanProduct: "5", wealthProduct: "7", fundProduct: "7", insurance: "8"}

// luhn appends the Luhn check digit bank cards carry.
func luhn(s string) string {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return s + strconv.Itoa((10-sum%10)%10)
}

// throttle limits progress reports to a few per second.
type throttle struct {
	fn   func(stage string, done, total int64)
	last time.Time
}

func newThrottle(fn func(string, int64, int64)) *throttle { return &throttle{fn: fn} }

func (t *throttle) report(stage string, done, total int64, final bool) {
	if t.fn == nil || !final && time.Since(t.last) < 250*time.Millisecond {
		return
	}
	t.last = time.Now()
	t.fn(stage, done, total)
}
