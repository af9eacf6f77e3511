package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"kehu/internal/outbox"
)

// holdFar is where a held message's next_attempt_at is parked (its own
// time kept in held_due): beyond any claim's due range, so the dispatcher's
// index scan never walks held rows.
var holdFar = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// parkHeld parks the queued, not yet parked messages matching cond whose
// source is held; cond's parameters are args, numbered from $3.
func parkHeld(ctx context.Context, q querier, cond string, now time.Time, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE outbox_messages SET held_due = next_attempt_at, next_attempt_at = $1,
		updated_at = $2 WHERE status = 'queued' AND held_due IS NULL AND `+cond+` AND EXISTS (SELECT 1 FROM outbox_holds h
		WHERE h.source_kind = outbox_messages.source_kind AND h.source_id = outbox_messages.source_id)`,
		append([]any{holdFar, now.UTC()}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("park held messages: %w", err)
	}
	return res.RowsAffected()
}

// parkEnqueued parks the messages just queued for a held source (a launch
// batch that read its campaign before the pause). The hold table is tiny and
// usually empty, so this is one indexed look-up per enqueue.
func parkEnqueued(ctx context.Context, q querier, rows []outbox.New, now time.Time) error {
	var holds int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM outbox_holds`).Scan(&holds); err != nil {
		return fmt.Errorf("read outbox holds: %w", err)
	}
	if holds == 0 {
		return nil
	}
	type source struct {
		kind string
		id   int64
	}
	seen := map[source]bool{}
	for _, r := range rows {
		k := source{r.SourceKind, r.SourceID}
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, err := parkHeld(ctx, q, "source_kind = $3 AND source_id = $4", now, k.kind, k.id); err != nil {
			return err
		}
	}
	return nil
}

// holdSource holds the unsent messages of a source: the hold row (which
// the claim honours) and its queued messages parked. It returns how many
// were parked now.
func (db *DB) holdSource(ctx context.Context, kind string, id int64, now time.Time) (int64, error) {
	var n int64
	err := db.WithTx(ctx, func(ctx context.Context) error {
		q := db.writer(ctx)
		if _, err := q.ExecContext(ctx, `INSERT INTO outbox_holds (source_kind, source_id, held_at) VALUES ($1, $2, $3)
			ON CONFLICT (source_kind, source_id) DO NOTHING`, kind, id, now.UTC()); err != nil {
			return fmt.Errorf("hold %s %d: %w", kind, id, err)
		}
		var err error
		n, err = parkHeld(ctx, q, "source_kind = $3 AND source_id = $4", now, kind, id)
		return err
	})
	return n, err
}

// releaseSource lifts a source's hold: every held message gets slot(its
// own time), called in the order of those times (then ids), and is due
// again. It returns how many messages it released.
func (db *DB) releaseSource(ctx context.Context, kind string, id int64, slot func(time.Time) time.Time, now time.Time) (int64, error) {
	var n int64
	err := db.WithTx(ctx, func(ctx context.Context) error {
		q := db.writer(ctx)
		// Park the stragglers first (queued after the hold, never parked),
		// so they take their turn with the rest.
		if _, err := parkHeld(ctx, q, "source_kind = $3 AND source_id = $4", now, kind, id); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM outbox_holds WHERE source_kind = $1 AND source_id = $2`, kind, id); err != nil {
			return fmt.Errorf("release %s %d: %w", kind, id, err)
		}
		type held struct {
			id int64
			at time.Time
		}
		var all []held
		err := queryEach(ctx, q, "held messages", `SELECT id, held_due FROM outbox_messages
			WHERE source_kind = $1 AND source_id = $2 AND held_due IS NOT NULL ORDER BY held_due, id`,
			[]any{kind, id}, func(r *sql.Rows) error {
				var h held
				err := r.Scan(&h.id, &h.at)
				all = append(all, h)
				return err
			})
		if err != nil {
			return err
		}
		const per = 10_000
		args := make([]any, 0, 1+2*per)
		for start := 0; start < len(all); start += per {
			chunk := all[start:min(len(all), start+per)]
			args = append(args[:0], now.UTC())
			var values strings.Builder
			for i, h := range chunk {
				if i > 0 {
					values.WriteString(", ")
				}
				if db.dialect.IsPostgres() {
					// VALUES columns have no type of their own on PostgreSQL.
					fmt.Fprintf(&values, "($%d::bigint, $%d::timestamptz)", 2+2*i, 3+2*i)
				} else {
					values.WriteString("(?, ?)")
				}
				args = append(args, h.id, slot(h.at.UTC()).UTC())
			}
			res, err := q.ExecContext(ctx, `UPDATE outbox_messages SET next_attempt_at = v.column2, held_due = NULL,
				updated_at = $1 FROM (VALUES `+values.String()+`) AS v WHERE outbox_messages.id = v.column1`, args...)
			if err != nil {
				return fmt.Errorf("release %s %d messages: %w", kind, id, err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	return n, err
}

// unholdSource lifts a source's hold without releasing anything now: the
// held messages get their own times back, for a caller that withdraws them
// in the same transaction (cancelling a paused campaign).
func (db *DB) unholdSource(ctx context.Context, kind string, id int64, now time.Time) error {
	return db.WithTx(ctx, func(ctx context.Context) error {
		q := db.writer(ctx)
		if _, err := q.ExecContext(ctx, `DELETE FROM outbox_holds WHERE source_kind = $1 AND source_id = $2`, kind, id); err != nil {
			return fmt.Errorf("unhold %s %d: %w", kind, id, err)
		}
		_, err := q.ExecContext(ctx, `UPDATE outbox_messages SET next_attempt_at = held_due, held_due = NULL, updated_at = $1
			WHERE source_kind = $2 AND source_id = $3 AND held_due IS NOT NULL`, now.UTC(), kind, id)
		if err != nil {
			return fmt.Errorf("unhold %s %d messages: %w", kind, id, err)
		}
		return nil
	})
}

// heldCount counts a source's held messages: parked, or queued while its
// hold stands.
func (db *DB) heldCount(ctx context.Context, kind string, id int64) (int64, error) {
	var n int64
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT count(*) FROM outbox_messages m
		WHERE m.source_kind = $1 AND m.source_id = $2 AND m.status = 'queued' AND (m.held_due IS NOT NULL
			OR EXISTS (SELECT 1 FROM outbox_holds h WHERE h.source_kind = $1 AND h.source_id = $2))`, kind, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count held messages of %s %d: %w", kind, id, err)
	}
	return n, nil
}

const campaignSource = "campaign"

// HoldMessages implements campaign.Store.
func (s *CampaignStore) HoldMessages(ctx context.Context, campaignID int64, now time.Time) (int64, error) {
	return s.db.holdSource(ctx, campaignSource, campaignID, now)
}

// ReleaseMessages implements campaign.Store.
func (s *CampaignStore) ReleaseMessages(ctx context.Context, campaignID int64, slot func(time.Time) time.Time, now time.Time) (int64, error) {
	return s.db.releaseSource(ctx, campaignSource, campaignID, slot, now)
}

// UnholdMessages implements campaign.Store.
func (s *CampaignStore) UnholdMessages(ctx context.Context, campaignID int64, now time.Time) error {
	return s.db.unholdSource(ctx, campaignSource, campaignID, now)
}

// HeldMessages implements campaign.Store.
func (s *CampaignStore) HeldMessages(ctx context.Context, campaignID int64) (int64, error) {
	return s.db.heldCount(ctx, campaignSource, campaignID)
}
