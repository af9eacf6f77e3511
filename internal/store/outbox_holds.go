package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"kehu/internal/campaign"
	"kehu/internal/outbox"
)

// holdFar is where a held message's next_attempt_at is parked (its own
// time kept in held_due): beyond any claim's due range, so the dispatcher's
// index scan never walks held rows.
var holdFar = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// parkHeld parks the queued, not yet parked messages matching cond whose
// source is held; cond's parameters are args, numbered from $3.
//
// On PostgreSQL the rows are locked first with SKIP LOCKED. A plain UPDATE
// that meets a row the dispatcher changed meanwhile (claimed: now
// 'sending') locks its latest version to re-check it and keeps that lock
// although the row no longer matches; the dispatcher's Finish, marking that
// row sent, then waits for the pause while the pause waits for Finish's
// other row — a deadlock PostgreSQL broke by failing the pause about one
// race in ten. A row someone holds locked is being claimed or finished, not
// waiting in the queue, so skipping it parks exactly the queued ones.
func parkHeld(ctx context.Context, q querier, d Dialect, cond string, now time.Time, args ...any) (int64, error) {
	query := `UPDATE outbox_messages SET held_due = next_attempt_at, next_attempt_at = $1,
		updated_at = $2 WHERE status = 'queued' AND held_due IS NULL AND ` + cond + ` AND EXISTS (SELECT 1 FROM outbox_holds h
		WHERE h.source_kind = outbox_messages.source_kind AND h.source_id = outbox_messages.source_id)`
	if d.IsPostgres() {
		query = `WITH p AS MATERIALIZED (SELECT id FROM outbox_messages WHERE status = 'queued' AND held_due IS NULL AND ` +
			cond + ` AND EXISTS (SELECT 1 FROM outbox_holds h WHERE h.source_kind = outbox_messages.source_kind
			AND h.source_id = outbox_messages.source_id) FOR UPDATE SKIP LOCKED)
		UPDATE outbox_messages m SET held_due = m.next_attempt_at, next_attempt_at = $1, updated_at = $2 FROM p WHERE m.id = p.id`
	}
	res, err := q.ExecContext(ctx, query, append([]any{holdFar, now.UTC()}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("park held messages: %w", err)
	}
	return res.RowsAffected()
}

// parkEnqueued parks the messages just queued for a held source (a launch
// batch that read its campaign before the pause). The hold table is tiny and
// usually empty, so this is one indexed look-up per enqueue.
func parkEnqueued(ctx context.Context, q querier, d Dialect, rows []outbox.New, now time.Time) error {
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
		if _, err := parkHeld(ctx, q, d, "source_kind = $3 AND source_id = $4", now, k.kind, k.id); err != nil {
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
		n, err = parkHeld(ctx, q, db.dialect, "source_kind = $3 AND source_id = $4", now, kind, id)
		return err
	})
	return n, err
}

// releaseSource lifts a source's hold: plan gets every held message in the
// order of their own times (then ids) and returns each one's new time, due
// again from then; a zero time withdraws the message (failed with reason,
// its id returned in expired). It returns how many messages it released.
func (db *DB) releaseSource(ctx context.Context, kind string, id int64, plan campaign.ReleasePlan, reason string,
	now time.Time) (released int64, expired []int64, err error) {
	err = db.WithTx(ctx, func(ctx context.Context) error {
		q := db.writer(ctx)
		// Park the stragglers first (queued after the hold, never parked),
		// so they take their turn with the rest.
		if _, err := parkHeld(ctx, q, db.dialect, "source_kind = $3 AND source_id = $4", now, kind, id); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM outbox_holds WHERE source_kind = $1 AND source_id = $2`, kind, id); err != nil {
			return fmt.Errorf("release %s %d: %w", kind, id, err)
		}
		var all []campaign.HeldMessage
		err := queryEach(ctx, q, "held messages", `SELECT id, customer_id, held_due FROM outbox_messages
			WHERE source_kind = $1 AND source_id = $2 AND held_due IS NOT NULL ORDER BY held_due, id`,
			[]any{kind, id}, func(r *sql.Rows) error {
				var h campaign.HeldMessage
				err := r.Scan(&h.ID, &h.CustomerID, &h.Due)
				h.Due = h.Due.UTC()
				all = append(all, h)
				return err
			})
		if err != nil {
			return err
		}
		slots, err := plan(ctx, all)
		if err != nil {
			return err
		}
		if len(slots) != len(all) {
			return fmt.Errorf("release %s %d: the plan has %d times for %d messages", kind, id, len(slots), len(all))
		}
		var keep []int
		for i, at := range slots {
			if at.IsZero() {
				expired = append(expired, all[i].ID)
			} else {
				keep = append(keep, i)
			}
		}
		if err := db.failHeld(ctx, q, expired, reason, now); err != nil {
			return fmt.Errorf("expire %s %d messages: %w", kind, id, err)
		}
		const per = 10_000
		args := make([]any, 0, 1+2*per)
		for start := 0; start < len(keep); start += per {
			chunk := keep[start:min(len(keep), start+per)]
			args = append(args[:0], now.UTC())
			var values strings.Builder
			for i, k := range chunk {
				if i > 0 {
					values.WriteString(", ")
				}
				if db.dialect.IsPostgres() {
					// VALUES columns have no type of their own on PostgreSQL.
					fmt.Fprintf(&values, "($%d::bigint, $%d::timestamptz)", 2+2*i, 3+2*i)
				} else {
					values.WriteString("(?, ?)")
				}
				args = append(args, all[k].ID, slots[k].UTC())
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
			released += k
		}
		return nil
	})
	return released, expired, err
}

// failHeld withdraws held messages ids: failed with reason, their own time
// back in next_attempt_at (so no parked row is left far in the future).
func (db *DB) failHeld(ctx context.Context, q querier, ids []int64, reason string, now time.Time) error {
	const per = 5_000
	for start := 0; start < len(ids); start += per {
		chunk := ids[start:min(len(ids), start+per)]
		args := []any{now.UTC(), reason}
		marks := make([]string, len(chunk))
		for i, id := range chunk {
			args = append(args, id)
			// SQLite looks a named $n up by name (quadratic in a long
			// list); an anonymous ? numbers on from $2.
			marks[i] = "?"
			if db.dialect.IsPostgres() {
				marks[i] = fmt.Sprintf("$%d", 3+i)
			}
		}
		if _, err := q.ExecContext(ctx, `UPDATE outbox_messages SET status = 'failed', failed_at = $1, updated_at = $1,
			last_error = $2, next_attempt_at = held_due, held_due = NULL
			WHERE status = 'queued' AND held_due IS NOT NULL AND id IN (`+strings.Join(marks, ", ")+`)`, args...); err != nil {
			return err
		}
	}
	return nil
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

// ReleaseMessages implements campaign.Store: the release, and the members
// of the expired messages marked suppressed (reason expired), in one
// transaction.
func (s *CampaignStore) ReleaseMessages(ctx context.Context, campaignID int64, plan campaign.ReleasePlan, reason string,
	now time.Time) (released, expired int64, err error) {
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		var ids []int64
		released, ids, err = s.db.releaseSource(ctx, campaignSource, campaignID, plan, reason, now)
		if err != nil || len(ids) == 0 {
			return err
		}
		expired = int64(len(ids))
		// One pass over the campaign's members (message_id has no index of
		// its own): the messages this resume failed are those failed now
		// with this reason.
		_, err = s.db.writer(ctx).ExecContext(ctx, `UPDATE campaign_members SET outcome = 'suppressed', reason = $1
			WHERE campaign_id = $2 AND outcome IN ('queued', 'deferred') AND message_id IN (SELECT id FROM outbox_messages
				WHERE source_kind = $3 AND source_id = $2 AND status = 'failed' AND failed_at = $4 AND last_error = $5)`,
			campaign.ReasonExpired, campaignID, campaignSource, now.UTC(), reason)
		if err != nil {
			return fmt.Errorf("mark expired members of campaign %d: %w", campaignID, err)
		}
		return nil
	})
	return released, expired, err
}

// QueuedMessages implements campaign.Store.
func (s *CampaignStore) QueuedMessages(ctx context.Context, campaignID int64) (int64, error) {
	var n int64
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT count(*) FROM outbox_messages
		WHERE source_kind = $1 AND source_id = $2 AND status = 'queued'`, campaignSource, campaignID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count queued messages of campaign %d: %w", campaignID, err)
	}
	return n, nil
}

// UnholdMessages implements campaign.Store.
func (s *CampaignStore) UnholdMessages(ctx context.Context, campaignID int64, now time.Time) error {
	return s.db.unholdSource(ctx, campaignSource, campaignID, now)
}

// HeldMessages implements campaign.Store.
func (s *CampaignStore) HeldMessages(ctx context.Context, campaignID int64) (int64, error) {
	return s.db.heldCount(ctx, campaignSource, campaignID)
}
