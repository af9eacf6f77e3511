package demo

import (
	"context"
	"fmt"
	"time"

	"kehu/internal/audit"
	"kehu/internal/level"
	"kehu/internal/store"
)

// fixedClock is the demo's "today", so levels are computed over the same
// window the history was generated for, whatever day the demo is built.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// recomputeLevels gives every generated customer its level, metrics and
// reasons through the level engine (internal/level) under the active rule:
// one engine decides levels, the generator does not guess them.
func recomputeLevels(ctx context.Context, db *store.DB, now time.Time, progress func(string, int64, int64)) error {
	clock := fixedClock{now.UTC()}
	svc := level.NewService(level.Deps{Store: db.Levels(), Clock: clock, Audit: audit.NewLog(db.Audit(), db, clock),
		Tx: db, BatchSize: 5_000})
	if progress != nil {
		progress("levels", 0, 1)
	}
	if _, err := svc.RecomputeAll(ctx, level.TriggerDemo); err != nil {
		return fmt.Errorf("demo: customer levels: %w", err)
	}
	if progress != nil {
		progress("levels", 1, 1)
	}
	return nil
}
