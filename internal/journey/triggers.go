package journey

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/segment"
)

// candidate is a trigger that matched for a customer, before the segment,
// the re-entry rule and the replay check.
type candidate struct {
	j          Journey
	customerID int64
	ref        string
	at         time.Time
	data       msgtemplate.Data
	// productID is the event's product (the viewed or maturing one).
	productID int64
	// outletOrgID is where the customer is (a branch visit's outlet).
	outletOrgID int64
}

// SalaryKinds are transaction kinds that mark a salary credit; a credit
// whose narrative or counterparty says 代发工资 or 工资 is one too (core
// systems differ: some give a code, some only the narrative).
var SalaryKinds = []string{"salary", "payroll", "代发工资", "工资"}

// IsSalary reports whether t is a salary credit.
func IsSalary(t Txn) bool {
	if t.Amount <= 0 {
		return false
	}
	k := strings.ToLower(strings.TrimSpace(t.Kind))
	if slices.Contains(SalaryKinds, k) {
		return true
	}
	return strings.Contains(t.Description, "工资") || strings.Contains(t.Counterparty, "代发工资")
}

// candidates reads src's rows in (from, upto] and matches the journeys of
// their triggers. A source no active journey watches is not read.
func (e *Engine) candidates(ctx context.Context, src string, js map[string][]Journey, from, upto int64, now time.Time) ([]candidate, error) {
	var out []candidate
	var err error
	switch src {
	case SourceTransactions:
		if len(js[LargeInflow])+len(js[Salary]) > 0 {
			out, err = e.onTransactions(ctx, js, from, upto, now)
		}
	case SourceEvents:
		if len(js[ViewedNotBought]) > 0 {
			out, err = e.onVisits(ctx, js[ViewedNotBought], from, upto, now)
		}
	case SourceLevels:
		if len(js[LevelChange]) > 0 {
			out, err = e.onLevels(ctx, js[LevelChange], from, upto)
		}
	}
	if err != nil {
		return nil, err
	}
	return e.inSegments(ctx, out, now)
}

func (e *Engine) onTransactions(ctx context.Context, js map[string][]Journey, from, upto int64, now time.Time) ([]candidate, error) {
	txns, err := e.d.Store.TransactionsIn(ctx, from, upto)
	if err != nil {
		return nil, err
	}
	var out []candidate
	for _, t := range txns {
		if t.Amount <= 0 || now.Sub(t.OccurredAt) > e.d.Options.MaxAge {
			continue
		}
		ref := "txn:" + strconv.FormatInt(t.ID, 10)
		for _, j := range js[LargeInflow] {
			amount, ok, err := e.largeInflow(ctx, j.Definition.Conditions, t)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, candidate{j: j, customerID: t.CustomerID, ref: ref, at: t.OccurredAt,
					data: msgtemplate.Data{Amount: &amount}})
			}
		}
		if IsSalary(t) {
			for _, j := range js[Salary] {
				if t.Amount >= j.Definition.Conditions.MinAmount {
					amount := t.Amount
					out = append(out, candidate{j: j, customerID: t.CustomerID, ref: ref, at: t.OccurredAt,
						data: msgtemplate.Data{Amount: &amount}})
				}
			}
		}
	}
	return out, nil
}

// largeInflow: one credit of at least MinAmount, or with a window the
// credit that brings the window's credits to MinAmount (so a customer
// crossing the line fires once, not on every later credit).
func (e *Engine) largeInflow(ctx context.Context, c Conditions, t Txn) (int64, bool, error) {
	if c.WindowDays == 0 {
		return t.Amount, t.Amount >= c.MinAmount, nil
	}
	sum, err := e.d.Store.InflowBetween(ctx, t.CustomerID, t.OccurredAt.AddDate(0, 0, -c.WindowDays), t.OccurredAt, t.ID)
	if err != nil {
		return 0, false, err
	}
	return sum, sum >= c.MinAmount && sum-t.Amount < c.MinAmount, nil
}

// onVisits: a branch visit of a customer who viewed a product in the app
// within ViewDays before it and has not bought it since.
func (e *Engine) onVisits(ctx context.Context, js []Journey, from, upto int64, now time.Time) ([]candidate, error) {
	visits, err := e.d.Store.BranchVisitsIn(ctx, from, upto)
	if err != nil {
		return nil, err
	}
	var out []candidate
	for _, v := range visits {
		if now.Sub(v.OccurredAt) > e.d.Options.MaxAge {
			continue
		}
		for _, j := range js {
			since := v.OccurredAt.AddDate(0, 0, -j.Definition.Conditions.ViewDays)
			products, err := e.d.Store.ViewedNotBought(ctx, v.CustomerID, since, v.OccurredAt)
			if err != nil {
				return nil, err
			}
			if len(products) == 0 {
				continue
			}
			out = append(out, candidate{j: j, customerID: v.CustomerID, ref: "event:" + strconv.FormatInt(v.ID, 10),
				at: v.OccurredAt, productID: products[0], outletOrgID: v.OutletOrgID})
		}
	}
	return out, nil
}

// onLevels: a level change in the journey's direction (levels ascend in
// customer.Levels order), into ToLevel if set.
func (e *Engine) onLevels(ctx context.Context, js []Journey, from, upto int64) ([]candidate, error) {
	rows, err := e.d.Store.LevelChangesIn(ctx, from, upto)
	if err != nil {
		return nil, err
	}
	var out []candidate
	for _, r := range rows {
		dir := "up"
		if slices.Index(customer.Levels, r.To) < slices.Index(customer.Levels, r.From) {
			dir = "down"
		}
		for _, j := range js {
			c := j.Definition.Conditions
			if (c.Direction != "any" && c.Direction != dir) || (c.ToLevel != "" && c.ToLevel != r.To) {
				continue
			}
			out = append(out, candidate{j: j, customerID: r.CustomerID, ref: "level:" + strconv.FormatInt(r.ID, 10),
				at: r.ChangedAt})
		}
	}
	return out, nil
}

// inSegments drops the candidates of journeys limited to a segment whose
// customer is not in it, evaluating the segment in memory (Plan.Eval) over
// the facts of the candidates' customers.
func (e *Engine) inSegments(ctx context.Context, cs []candidate, now time.Time) ([]candidate, error) {
	bySeg := map[int64][]int64{}
	for _, c := range cs {
		if s := c.j.Definition.SegmentID; s != 0 {
			bySeg[s] = append(bySeg[s], c.customerID)
		}
	}
	if len(bySeg) == 0 {
		return cs, nil
	}
	in := map[[2]int64]bool{}
	for seg, ids := range bySeg {
		p, err := e.d.Segments.PlanFor(ctx, seg, now)
		if kehu.ErrorCode(err) == kehu.ENOTFOUND {
			continue // a deleted segment selects no one
		}
		if err != nil {
			return nil, err
		}
		slices.Sort(ids)
		facts, err := e.d.Segments.SegmentFacts(ctx, slices.Compact(ids), p.Now.AddDate(0, 0, -segment.MaxWindowDays), p.Now)
		if err != nil {
			return nil, err
		}
		for id, f := range facts {
			if p.Eval(f) {
				in[[2]int64{seg, id}] = true
			}
		}
	}
	out := cs[:0]
	for _, c := range cs {
		if s := c.j.Definition.SegmentID; s == 0 || in[[2]int64{s, c.customerID}] {
			out = append(out, c)
		}
	}
	return out, nil
}
