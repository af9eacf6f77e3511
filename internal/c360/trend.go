package c360

import (
	"slices"
	"time"

	"kehu/internal/account"
)

// TrendMonths is how many month-end points the AUM trend has, the current
// month (to date) included.
const TrendMonths = 12

// Posting is the part of a transaction the trend needs.
type Posting struct {
	AccountID    int64
	OccurredAt   time.Time
	Amount       int64
	BalanceAfter int64
	Kind         string
}

// trendStart is the first moment the trend looks at: the start (Shanghai) of
// the month TrendMonths-1 months before now's.
func trendStart(now time.Time, loc *time.Location) time.Time {
	n := now.In(loc)
	return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -(TrendMonths - 1), 0)
}

// isDeposit reports whether an account's balance counts as AUM.
func isDeposit(t string) bool { return t == account.CurrentDeposit || t == account.TimeDeposit }

// Trend derives the month-end AUM of the last TrendMonths months from the
// deposit accounts' postings (balance_after) and the holdings, with no
// snapshot table: the balance of an account at a month's end is the
// balance_after of its last posting before the end; before its first posting
// in the window it is that posting's balance less its amount; an account
// without postings keeps today's balance back to its opening day. Holdings
// count at today's market value from the day they were bought — there is no
// valuation history, and redeemed holdings have left the table — so the
// investment part of past months is an approximation (docs/C360.md).
// postings must be ascending by time.
func Trend(now time.Time, loc *time.Location, accounts []account.Account, holdings []account.Holding, postings []Posting) []MonthlyAUM {
	byAccount := map[int64][]Posting{}
	for _, p := range postings {
		byAccount[p.AccountID] = append(byAccount[p.AccountID], p)
	}
	start := trendStart(now, loc)
	out := make([]MonthlyAUM, 0, TrendMonths)
	for i := range TrendMonths {
		monthStart := start.AddDate(0, i, 0)
		end := monthStart.AddDate(0, 1, 0) // exclusive
		if end.After(now) {
			end = now
		}
		var total int64
		for _, a := range accounts {
			if !isDeposit(a.ProductType) || !a.OpenedOn.IsZero() && !dayBefore(a.OpenedOn.Time(), end, loc) {
				continue
			}
			total += balanceAt(a, byAccount[a.ID], end)
		}
		for _, h := range holdings {
			if h.AcquiredOn.IsZero() || dayBefore(h.AcquiredOn.Time(), end, loc) {
				total += h.Amount
			}
		}
		out = append(out, MonthlyAUM{Month: monthStart.Format("2006-01"), AUM: total})
	}
	return out
}

// dayBefore reports whether the calendar day d (a UTC midnight holding a
// Shanghai date) begins before the instant end.
func dayBefore(d, end time.Time, loc *time.Location) bool {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc).Before(end)
}

// balanceAt is an account's balance just before end.
func balanceAt(a account.Account, ps []Posting, end time.Time) int64 {
	i, _ := slices.BinarySearchFunc(ps, end, func(p Posting, t time.Time) int { return p.OccurredAt.Compare(t) })
	switch {
	case i > 0:
		return ps[i-1].BalanceAfter
	case len(ps) > 0:
		return ps[0].BalanceAfter - ps[0].Amount
	}
	return a.Balance
}
