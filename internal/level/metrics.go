package level

import (
	"time"

	"kehu/internal/kehu"
)

// Product types that count as deposits and holdings in AUM (the values of
// products.type, as in internal/account).
const (
	currentDeposit = "current_deposit"
	timeDeposit    = "time_deposit"
	wealth         = "wealth"
	fund           = "fund"
	insurance      = "insurance"
	cardSpend      = "card_spend"
)

// systemKinds are postings the bank makes on its own: they do not show the
// customer using the bank, so frequency leaves them out.
var systemKinds = map[string]bool{"interest": true, "salary": true, "pension": true, "payroll": true}

// FrequencyDays is the look-back of the transaction-frequency criterion.
const FrequencyDays = 90

// Window is the time frame of one evaluation.
type Window struct {
	Now time.Time
	// Since is the earliest posting the metrics need: the older of 90 days
	// ago and the oldest month-end.
	Since   time.Time
	Since90 time.Time
	// MonthEnds are the ends of the last three completed months in
	// Asia/Shanghai, newest first, each the first instant of the next month.
	MonthEnds     [3]time.Time
	monthEndDates [3]kehu.Date
}

// NewWindow returns the window of an evaluation at now, with month-ends on
// the calendar of loc (Asia/Shanghai).
func NewWindow(now time.Time, loc *time.Location) Window {
	w := Window{Now: now, Since90: now.AddDate(0, 0, -FrequencyDays)}
	l := now.In(loc)
	first := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
	for k := range w.MonthEnds {
		t := first.AddDate(0, -k, 0)
		w.MonthEnds[k], w.monthEndDates[k] = t.UTC(), kehu.DateOf(t)
	}
	w.Since = w.Since90
	if w.MonthEnds[2].Before(w.Since) {
		w.Since = w.MonthEnds[2]
	}
	return w
}

// Subject is a customer as the recompute sees it: its stored level and AUM
// are compared with the new ones to find changes.
type Subject struct {
	ID    int64
	Type  string
	Level string
	AUM   int64
}

// Deposit is a current or time deposit account.
type Deposit struct {
	AccountID  int64
	CustomerID int64
	Type       string
	Balance    int64
	OpenedOn   kehu.Date
}

// HoldingSum is the market value of a customer's holdings of one product type.
type HoldingSum struct {
	CustomerID int64
	Type       string
	Amount     int64
}

// Posting is a transaction of the window.
type Posting struct {
	ID           int64
	CustomerID   int64
	AccountID    int64
	At           time.Time
	Amount       int64
	BalanceAfter int64
	Kind         string
}

// Batch is what the store loads for a set of customers: the customers, their
// deposit accounts, holding totals and the postings since Window.Since.
type Batch struct {
	Subjects []Subject
	Deposits []Deposit
	Holdings []HoldingSum
	Postings []Posting
}

// firstAfter is, per month-end, the earliest posting at or after it.
type firstAfter [3]*Posting

// Metrics computes the metrics of every subject of the batch.
func (b Batch) Metrics(w Window) map[int64]Metrics {
	out := make(map[int64]Metrics, len(b.Subjects))
	for _, s := range b.Subjects {
		out[s.ID] = Metrics{}
	}
	first := map[int64]*firstAfter{}
	for _, d := range b.Deposits {
		first[d.AccountID] = &firstAfter{}
	}
	for i := range b.Postings {
		p := &b.Postings[i]
		m := out[p.CustomerID]
		if !p.At.Before(w.Since90) {
			if !systemKinds[p.Kind] {
				m.Transactions90D++
			}
			if p.Kind == cardSpend {
				m.CardSpend90D -= p.Amount
			}
		}
		out[p.CustomerID] = m
		if f := first[p.AccountID]; f != nil {
			for k, t := range w.MonthEnds {
				if !p.At.Before(t) && (f[k] == nil || earlier(p, f[k])) {
					f[k] = p
				}
			}
		}
	}
	var monthEnd = map[int64]int64{} // customer → sum over month-ends of deposit balances
	for _, d := range b.Deposits {
		m := out[d.CustomerID]
		switch d.Type {
		case currentDeposit:
			m.CurrentDeposit += d.Balance
		case timeDeposit:
			m.TimeDeposit += d.Balance
		}
		out[d.CustomerID] = m
		f := first[d.AccountID]
		for k := range w.MonthEnds {
			monthEnd[d.CustomerID] += balanceAt(d, f[k], w.monthEndDates[k])
		}
	}
	for _, h := range b.Holdings {
		m := out[h.CustomerID]
		switch h.Type {
		case wealth:
			m.Wealth += h.Amount
		case fund:
			m.Fund += h.Amount
		case insurance:
			m.Insurance += h.Amount
		}
		out[h.CustomerID] = m
	}
	for id, m := range out {
		m.CardSpend90D = max(m.CardSpend90D, 0)
		held := m.Wealth + m.Fund + m.Insurance
		m.AUM = m.CurrentDeposit + m.TimeDeposit + held
		m.AUMAvg3M = monthEnd[id]/int64(len(w.MonthEnds)) + held
		out[id] = m
	}
	return out
}

// earlier orders postings by time, then id (the order they were booked in).
func earlier(a, b *Posting) bool {
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	return a.ID < b.ID
}

// balanceAt is the deposit's balance just before a month-end whose local
// date is day: the balance before the first posting at or after it, or
// today's balance when nothing was posted since; nothing before the account
// was opened.
func balanceAt(d Deposit, first *Posting, day kehu.Date) int64 {
	if !d.OpenedOn.IsZero() && !d.OpenedOn.Time().Before(day.Time()) {
		return 0
	}
	if first == nil {
		return d.Balance
	}
	return first.BalanceAfter - first.Amount
}
