package task

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// Batch is how work items (tasks, leads) are created for a campaign or a
// journey: every row checked first (the first bad one fails the call,
// named), each prepared with the creating actor, then inserted in the
// transaction in ctx with one audit record naming the source and the count
// of rows actually created (a used dedup key is skipped by the store).
type Batch[T any] struct {
	What    string // "task" or "lead": names a bad row; the audit object is "<what>s:<source_kind>:<source_id>"
	Action  string // the audit action
	Tx      kehu.Transactor
	Audit   audit.Recorder
	Clock   kehu.Clock
	Check   func(T) error
	Prepare func(row *T, by int64)
	Source  func(T) (string, int64)
	Insert  func(ctx context.Context, rows []T, now time.Time) (int, error)
}

// Create runs the batch over rows and returns how many were created.
func (b Batch[T]) Create(ctx context.Context, rows []T) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	a, _ := kehu.ActorFrom(ctx)
	rows = slices.Clone(rows)
	for i := range rows {
		if err := b.Check(rows[i]); err != nil {
			return 0, RowError(b.What, i, err)
		}
		b.Prepare(&rows[i], a.UserID)
	}
	created := 0
	err := b.Tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if created, err = b.Insert(ctx, rows, b.Clock.Now().UTC()); err != nil || created == 0 {
			return err
		}
		kind, id := b.Source(rows[0])
		return b.Audit.Record(ctx, audit.Entry{Action: b.Action, Count: created,
			Object: b.What + "s:" + kind + ":" + strconv.FormatInt(id, 10)})
	})
	return created, err
}

// RowError names row i of a batch of what ("task", "lead") in a
// validation error.
func RowError(what string, i int, err error) error {
	var e *kehu.Error
	if errors.As(err, &e) {
		c := *e
		c.Message = fmt.Sprintf("%s %d: %s", what, i, e.Message)
		return &c
	}
	return fmt.Errorf("%s %d: %w", what, i, err)
}
