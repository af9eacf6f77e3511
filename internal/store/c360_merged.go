package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MergedAt implements c360.Store: when customer id became the tombstone it
// is, from the newest merge of it still in force (customer_merges_merged).
// ok is false when no such merge is logged (a tombstone older than the
// merge log).
func (s *C360Store) MergedAt(ctx context.Context, id int64) (time.Time, bool, error) {
	var at time.Time
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT merged_at FROM customer_merges
		WHERE merged_id = $1 AND status = 'merged' ORDER BY id DESC LIMIT 1`, id).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("merge of customer %d: %w", id, err)
	}
	return at.UTC(), true, nil
}
