package level

import (
	"context"
	"fmt"
	"slices"
	"time"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
)

// LevelCount is how many customers one level holds under the active rule
// and under the previewed version.
type LevelCount struct {
	Level   string `json:"level"`
	Active  int64  `json:"active"`
	Preview int64  `json:"preview"`
}

// Move counts customers whose level would change from one level to another.
type Move struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Count int64  `json:"count"`
}

// Distribution is a preview: the customers per level under the active rule
// and under a version, on the same metrics, and who would move.
type Distribution struct {
	Version       int          `json:"version"`
	ActiveVersion int          `json:"active_version"`
	Customers     int64        `json:"customers"`
	Levels        []LevelCount `json:"levels"`
	Moves         []Move       `json:"moves"`
	Upgrades      int64        `json:"upgrades"`
	Downgrades    int64        `json:"downgrades"`
	// MetricsAsOf is when the oldest stored metrics were computed (the last
	// recompute); Fresh counts customers never evaluated, whose metrics were
	// computed for this preview.
	MetricsAsOf *time.Time `json:"metrics_as_of"`
	Fresh       int64      `json:"fresh"`
}

// previewWindow is how many customer ids one preview step reads.
const previewWindow = 10_000

// Preview computes the distribution of every customer under version and
// under the active rule. It evaluates the metrics the last recompute stored
// (transactions are not scanned again, so a preview of a million customers
// takes seconds) and computes fresh metrics only for customers never
// evaluated. It is bank-wide counts, no personal data; it is recorded.
func (s *Service) Preview(ctx context.Context, version int) (Distribution, error) {
	if _, err := access.ActorWith(ctx, access.LevelManage); err != nil {
		return Distribution{}, err
	}
	v, err := s.store.Version(ctx, version)
	if err != nil {
		return Distribution{}, err
	}
	active, err := s.store.ActiveVersion(ctx)
	if err != nil {
		return Distribution{}, err
	}
	d := Distribution{Version: version, ActiveVersion: active.Version}
	counts := map[string]*LevelCount{}
	for _, l := range customer.Levels {
		counts[l] = &LevelCount{Level: l}
	}
	moves := map[[2]string]int64{}
	tally := func(subj Subject, m Metrics) {
		from, _ := active.Rule.Evaluate(subj.Type, m)
		to, _ := v.Rule.Evaluate(subj.Type, m)
		counts[from].Active++
		counts[to].Preview++
		d.Customers++
		if from != to {
			moves[[2]string{from, to}]++
			if rank(to) > rank(from) {
				d.Upgrades++
			} else {
				d.Downgrades++
			}
		}
	}
	if err := s.eachMetrics(ctx, &d, tally); err != nil {
		return Distribution{}, err
	}
	for _, l := range customer.Levels {
		d.Levels = append(d.Levels, *counts[l])
	}
	for k, n := range moves {
		d.Moves = append(d.Moves, Move{From: k[0], To: k[1], Count: n})
	}
	slices.SortFunc(d.Moves, func(a, b Move) int {
		if c := rank(a.From) - rank(b.From); c != 0 {
			return c
		}
		return rank(a.To) - rank(b.To)
	})
	if err := s.audit.Record(ctx, audit.Entry{Action: ActionRulePreview, Object: ruleObject(version),
		Count: int(d.Customers)}); err != nil {
		return Distribution{}, err
	}
	return d, nil
}

// windowMetrics is one preview window: stored metrics and fresh ones.
type windowMetrics struct {
	stored []Stored
	fresh  []Stored
}

// eachMetrics calls fn with every customer's metrics: stored ones, or fresh
// ones for customers never evaluated. Windows are read ahead while one is
// tallied.
func (s *Service) eachMetrics(ctx context.Context, d *Distribution, fn func(Subject, Metrics)) error {
	lo, hi, err := s.store.CustomerIDBounds(ctx)
	if err != nil || hi == 0 {
		return err
	}
	w := NewWindow(s.clock.Now(), s.loc)
	load := func(ctx context.Context, i int) (windowMetrics, error) {
		from := lo + int64(i)*previewWindow
		var out windowMetrics
		stored, missing, err := s.store.StoredMetrics(ctx, from, from+previewWindow)
		if err != nil {
			return out, fmt.Errorf("preview: %w", err)
		}
		out.stored = stored
		for chunk := range slices.Chunk(missing, 500) {
			b, err := s.store.LoadBatch(ctx, Selection{IDs: chunk}, w.Since)
			if err != nil {
				return out, fmt.Errorf("preview: %w", err)
			}
			ms := b.Metrics(w)
			for _, subj := range b.Subjects {
				out.fresh = append(out.fresh, Stored{Subject: subj, Metrics: ms[subj.ID]})
			}
		}
		return out, nil
	}
	return inOrder(ctx, int((hi-lo)/previewWindow)+1, loaders, load, func(_ int, wm windowMetrics) error {
		for _, st := range wm.stored {
			fn(st.Subject, st.Metrics)
			if d.MetricsAsOf == nil || st.ComputedAt.Before(*d.MetricsAsOf) {
				at := st.ComputedAt
				d.MetricsAsOf = &at
			}
		}
		for _, st := range wm.fresh {
			fn(st.Subject, st.Metrics)
			d.Fresh++
		}
		return nil
	})
}
