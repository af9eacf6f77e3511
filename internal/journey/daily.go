package journey

import (
	"context"
	"fmt"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
)

// dailyPage is how many customers or holdings one transaction of the daily
// scan handles.
const dailyPage = 1000

// Daily runs the daily triggers (maturity, birthday, dormancy) of every
// active journey for today's Asia/Shanghai date. The nightly scheduler runs
// it once a day across servers; running it again the same day fires
// nothing twice (each firing's ref names the holding, the birthday or the
// day). It returns how many firings it made.
func (e *Engine) Daily(ctx context.Context) (int, error) {
	e.daily.Lock()
	defer e.daily.Unlock()
	js, err := e.active(ctx)
	if err != nil {
		return 0, err
	}
	now := e.d.Clock.Now().UTC()
	today := kehu.DateOf(now.In(e.loc))
	n := 0
	for _, trig := range []string{Maturity, Birthday, Dormancy} {
		for _, j := range js[trig] {
			k, err := e.dailyJourney(ctx, j, today, now)
			n += k
			if err != nil {
				return n, fmt.Errorf("journey %d (%s): %w", j.ID, trig, err)
			}
		}
	}
	return n, nil
}

// dailyJourney pages through one journey's candidates, firing each page in
// its own transaction.
func (e *Engine) dailyJourney(ctx context.Context, j Journey, today kehu.Date, now time.Time) (int, error) {
	n := 0
	var after int64
	for {
		cs, next, err := e.dailyPage(ctx, j, today, now, after)
		if err != nil {
			return n, err
		}
		if cs, err = e.inSegments(ctx, cs, now); err != nil {
			return n, err
		}
		fired, err := e.fireAll(ctx, cs, now, nil)
		if err != nil {
			return n, err
		}
		n += len(fired)
		if next == 0 {
			return n, nil
		}
		after = next
	}
}

// dailyPage returns one page of a daily journey's candidates and the key
// to continue after (0 at the end).
func (e *Engine) dailyPage(ctx context.Context, j Journey, today kehu.Date, now time.Time, after int64) ([]candidate, int64, error) {
	c := j.Definition.Conditions
	var out []candidate
	switch j.Definition.Trigger {
	case Maturity:
		to := kehu.DateOf(today.Time().AddDate(0, 0, c.DaysAhead))
		// The maturing few of a week are read at once and fired a page
		// at a time; after is the offset.
		hs, err := e.d.Store.MaturingHoldings(ctx, today, to, c.ProductTypes)
		if err != nil || int(after) >= len(hs) {
			return nil, 0, err
		}
		page := hs[after:min(len(hs), int(after)+dailyPage)]
		for _, h := range page {
			amount, on := h.Amount, h.MaturesOn
			out = append(out, candidate{j: j, customerID: h.CustomerID, at: now, productID: h.ProductID,
				ref:  h.Ref + ":" + h.MaturesOn.String(),
				data: msgtemplate.Data{ProductName: h.ProductName, Amount: &amount, Date: &on}})
		}
		return out, next(len(page), after+int64(len(page))), nil
	case Birthday:
		bs, err := e.d.Store.Births(ctx, after, dailyPage)
		if err != nil || len(bs) == 0 {
			return nil, 0, err
		}
		for _, b := range bs {
			if BirthdayOn(b.BirthDate, b.Lunar, today) {
				day := today
				out = append(out, candidate{j: j, customerID: b.CustomerID, at: now, ref: "birthday:" + today.String(),
					data: msgtemplate.Data{Date: &day}})
			}
		}
		return out, next(len(bs), bs[len(bs)-1].CustomerID), nil
	case Dormancy:
		since := now.AddDate(0, 0, -c.InactiveDays)
		ids, err := e.d.Store.Dormant(ctx, since, after, dailyPage)
		if err != nil || len(ids) == 0 {
			return nil, 0, err
		}
		for _, id := range ids {
			out = append(out, candidate{j: j, customerID: id, at: now, ref: "dormant:" + today.String()})
		}
		return out, next(len(ids), ids[len(ids)-1]), nil
	}
	return nil, 0, nil
}

func next(n int, last int64) int64 {
	if n < dailyPage {
		return 0
	}
	return last
}
