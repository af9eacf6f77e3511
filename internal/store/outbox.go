package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
)

// OutboxStore implements outbox.Store.
type OutboxStore struct{ db *DB }

// Outbox returns the outbox store.
func (db *DB) Outbox() *OutboxStore { return &OutboxStore{db: db} }

const outboxInsertHead = `INSERT INTO outbox_messages (source_kind, source_id, customer_id, channel, dedup_key, template_id,
	template_version, data, content, status, next_attempt_at, created_at, updated_at)`

const outboxWidth = 13

// Enqueue implements outbox.Store: multi-row INSERTs that skip existing
// dedup keys (on PostgreSQL one INSERT of arrays, enqueueArrays), in the
// transaction in ctx (or one of its own, so a large batch is all or
// nothing).
func (s *OutboxStore) Enqueue(ctx context.Context, rows []outbox.New, now time.Time) (int, error) {
	inserted := 0
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.writer(ctx)
		if s.db.dialect.IsPostgres() {
			n, err := enqueueArrays(ctx, q, rows, now.UTC())
			if err != nil {
				return err
			}
			inserted = n
			return parkEnqueued(ctx, q, s.db.dialect, rows, now)
		}
		d := s.db.dialect
		per := max(1, maxBatchParams/outboxWidth)
		now := now.UTC()
		args := make([]any, 0, per*outboxWidth)
		var full string // the statement of a full chunk, built once
		for start := 0; start < len(rows); start += per {
			chunk := rows[start:min(len(rows), start+per)]
			args = args[:0]
			for _, r := range chunk {
				var tmpl any
				if r.TemplateID != 0 {
					tmpl = r.TemplateID
				}
				data, content, err := messageText(r)
				if err != nil {
					return err
				}
				due := now
				if r.NotBefore.After(now) {
					due = r.NotBefore.UTC()
				}
				args = append(args, r.SourceKind, r.SourceID, r.CustomerID, string(r.Channel), r.Key(), tmpl,
					r.TemplateVersion, data, content, string(outbox.Queued), due, now, now)
			}
			var query string
			if len(chunk) == per && full != "" {
				query = full
			} else {
				query = outboxInsertHead + " VALUES " + d.valuesClause(len(chunk), outboxWidth) + " ON CONFLICT (dedup_key) DO NOTHING"
				if len(chunk) == per {
					full = query
				}
			}
			res, err := q.ExecContext(ctx, query, args...)
			if err != nil {
				return fmt.Errorf("insert messages: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			inserted += int(n)
		}
		return parkEnqueued(ctx, q, s.db.dialect, rows, now)
	})
	return inserted, err
}

const outboxColumns = `m.id, m.source_kind, m.source_id, m.customer_id, m.channel, m.dedup_key, m.template_id,
	m.template_version, m.data, m.content, m.status, m.attempts, m.next_attempt_at, m.last_error, m.provider_id,
	m.created_at, m.updated_at, m.sent_at, m.delivered_at, m.failed_at, m.opened_at, m.clicked_at, m.opens, m.clicks,
	m.held_due`

func scanMessage(row interface{ Scan(...any) error }) (outbox.Message, error) {
	var m outbox.Message
	var ch, status, data, content string
	var tmpl sql.NullInt64
	var sent, delivered, failed, opened, clicked, heldDue sql.NullTime
	err := row.Scan(&m.ID, &m.SourceKind, &m.SourceID, &m.CustomerID, &ch, &m.DedupKey, &tmpl, &m.TemplateVersion,
		&data, &content, &status, &m.Attempts, &m.NextAttemptAt, &m.LastError, &m.ProviderID, &m.CreatedAt, &m.UpdatedAt,
		&sent, &delivered, &failed, &opened, &clicked, &m.Opens, &m.Clicks, &heldDue)
	if err != nil {
		return m, err
	}
	if heldDue.Valid {
		// Held: the message's own send time, not the parking time.
		m.Held, m.NextAttemptAt = true, heldDue.Time
	}
	m.Channel, m.Status, m.TemplateID = msgtemplate.Channel(ch), outbox.Status(status), tmpl.Int64
	m.NextAttemptAt, m.CreatedAt, m.UpdatedAt = m.NextAttemptAt.UTC(), m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	m.SentAt, m.DeliveredAt, m.FailedAt, m.OpenedAt, m.ClickedAt = utcPtr(sent), utcPtr(delivered), utcPtr(failed),
		utcPtr(opened), utcPtr(clicked)
	if data != "" {
		m.Data = &msgtemplate.Data{}
		if err := json.Unmarshal([]byte(data), m.Data); err != nil {
			return m, fmt.Errorf("message %d data: %w", m.ID, err)
		}
	}
	if content != "" {
		m.Content = &msgtemplate.Content{}
		if err := json.Unmarshal([]byte(content), m.Content); err != nil {
			return m, fmt.Errorf("message %d content: %w", m.ID, err)
		}
	}
	return m, nil
}

// Claim implements outbox.Store. On PostgreSQL the candidate rows are
// locked with SKIP LOCKED, so several servers claim disjoint batches; on
// SQLite the single writer serialises claims. Messages of a held source are
// skipped: parked ones (held_due set) lie beyond the due range anyway, and
// the hold row catches those that became queued after the hold (a launch
// batch committing after the pause, a retry put back). A hold and a claim
// touching the same row are settled by its row lock: the hold parks only
// rows still queued, so a message claimed first is sent once, and one
// parked first is never claimed.
func (s *OutboxStore) Claim(ctx context.Context, ch msgtemplate.Channel, owner string, now, until time.Time, limit int) ([]outbox.Message, error) {
	lock := ""
	if s.db.dialect.IsPostgres() {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var out []outbox.Message
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		out = out[:0]
		return queryEach(ctx, s.db.writer(ctx), "claim messages", `UPDATE outbox_messages SET status = 'sending',
			lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
			WHERE id IN (SELECT id FROM outbox_messages m WHERE channel = $4 AND
				((status = 'queued' AND next_attempt_at <= $3) OR (status = 'sending' AND lease_until < $3))
				AND held_due IS NULL AND NOT EXISTS (SELECT 1 FROM outbox_holds h
					WHERE h.source_kind = m.source_kind AND h.source_id = m.source_id)
				ORDER BY next_attempt_at, id LIMIT $5`+lock+`)
			RETURNING `+strings.ReplaceAll(outboxColumns, "m.", ""), []any{owner, until.UTC(), now.UTC(), string(ch), limit}, func(r *sql.Rows) error {
			m, err := scanMessage(r)
			out = append(out, m)
			return err
		})
	})
	return out, err
}

// Recipients implements outbox.Store: the customer records, opened.
func (s *OutboxStore) Recipients(ctx context.Context, ids []int64) (map[int64]outbox.Recipient, error) {
	k, err := s.db.keyring()
	if err != nil {
		return nil, err
	}
	out := make(map[int64]outbox.Recipient, len(ids))
	err = inChunks(uniqueIDs(ids), 500, func(chunk []int64) error {
		return queryEach(ctx, s.db.reader(ctx), "read recipients", `SELECT c.id, c.name, c.gender, c.mobile, c.email,
			c.status, COALESCE(u.display_name, '') FROM customers c LEFT JOIN users u ON u.id = c.owner_id
			WHERE c.id IN (`+s.db.dialect.params(1, len(chunk))+`)`, anySlice(chunk), func(r *sql.Rows) error {
			var x outbox.Recipient
			if err := r.Scan(&x.CustomerID, &x.Name, &x.Gender, &x.Mobile, &x.Email, &x.Status, &x.RMName); err != nil {
				return err
			}
			if err := openAll(k, []string{colMobile, colEmail}, []*string{&x.Mobile, &x.Email}); err != nil {
				return fmt.Errorf("customer %d: %w", x.CustomerID, err)
			}
			out[x.CustomerID] = x
			return nil
		})
	})
	return out, err
}

// Finish implements outbox.Store: one transaction for the batch; each
// update holds only while owner still leases the message.
func (s *OutboxStore) Finish(ctx context.Context, owner string, outcomes []outbox.Outcome, now time.Time) error {
	now = now.UTC()
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.writer(ctx)
		var retried []int64
		for _, o := range outcomes {
			var err error
			switch o.Status {
			case outbox.Sent:
				_, err = q.ExecContext(ctx, `UPDATE outbox_messages SET status = 'sent', provider_id = $1, sent_at = $2,
					updated_at = $2, lease_owner = '', lease_until = NULL, last_error = ''
					WHERE id = $3 AND status = 'sending' AND lease_owner = $4`, o.ProviderID, now, o.ID, owner)
			case outbox.Failed:
				_, err = q.ExecContext(ctx, `UPDATE outbox_messages SET status = 'failed', last_error = $1, failed_at = $2,
					updated_at = $2, lease_owner = '', lease_until = NULL
					WHERE id = $3 AND status = 'sending' AND lease_owner = $4`, o.Error, now, o.ID, owner)
			case outbox.Queued:
				giveBack := 0
				if !o.Attempted {
					giveBack = 1
				}
				_, err = q.ExecContext(ctx, `UPDATE outbox_messages SET status = 'queued', next_attempt_at = $1,
					last_error = CASE WHEN $2 = '' THEN last_error ELSE $2 END, attempts = attempts - $3, updated_at = $4,
					lease_owner = '', lease_until = NULL
					WHERE id = $5 AND status = 'sending' AND lease_owner = $6`, o.Next.UTC(), o.Error, giveBack, now, o.ID, owner)
			default:
				err = fmt.Errorf("outcome %q", o.Status)
			}
			if err != nil {
				return fmt.Errorf("finish message %d: %w", o.ID, err)
			}
			if o.Status == outbox.Queued {
				retried = append(retried, o.ID)
			}
		}
		// A retry of a message whose source was held meanwhile waits for
		// the release, parked like the rest.
		if len(retried) == 0 {
			return nil
		}
		_, err := parkHeld(ctx, q, s.db.dialect, "id IN ("+s.db.dialect.params(3, len(retried))+")", now, anySlice(retried)...)
		return err
	})
}

// Expire implements outbox.Store.
func (s *OutboxStore) Expire(ctx context.Context, before time.Time, reason string, now time.Time) (int64, error) {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE outbox_messages SET status = 'failed', failed_at = $1, updated_at = $1,
		last_error = CASE WHEN last_error = '' THEN $2 ELSE $2 || '; last error: ' || last_error END,
		lease_owner = '', lease_until = NULL
		WHERE created_at < $3 AND held_due IS NULL AND (status = 'queued' OR (status = 'sending' AND lease_until < $1))`,
		now.UTC(), reason, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("expire messages: %w", err)
	}
	return res.RowsAffected()
}

// ListMessages implements outbox.Store: newest first, only customers in
// the filter's scope.
func (s *OutboxStore) ListMessages(ctx context.Context, f outbox.Filter) (outbox.Page, error) {
	var w where
	if f.Status != "" {
		w.add("m.status = ?", string(f.Status))
	}
	if f.Channel != "" {
		w.add("m.channel = ?", string(f.Channel))
	}
	if f.SourceKind != "" {
		w.add("m.source_kind = ?", f.SourceKind)
		if f.SourceID != 0 {
			w.add("m.source_id = ?", f.SourceID)
		}
	}
	if f.After > 0 {
		w.add("m.id < ?", f.After)
	}
	scopeWhere(s.db.dialect, &w, f.Scope)
	limit := f.Limit
	w.args = append(w.args, limit+1)
	p := outbox.Page{Items: []outbox.Message{}}
	err := queryEach(ctx, s.db.reader(ctx), "list messages", `SELECT `+outboxColumns+`
		FROM outbox_messages m JOIN customers c ON c.id = m.customer_id`+w.sql()+`
		ORDER BY m.id DESC LIMIT $`+fmt.Sprint(len(w.args)), w.args, func(r *sql.Rows) error {
		m, err := scanMessage(r)
		p.Items = append(p.Items, m)
		return err
	})
	if err != nil {
		return p, err
	}
	if len(p.Items) > limit {
		p.Items = p.Items[:limit]
		p.NextCursor = kehu.Cursor{AfterID: p.Items[limit-1].ID}
	}
	return p, nil
}

// GetMessage implements outbox.Store.
func (s *OutboxStore) GetMessage(ctx context.Context, id int64, scope customer.ScopeFilter) (outbox.Message, error) {
	var w where
	w.add("m.id = ?", id)
	scopeWhere(s.db.dialect, &w, scope)
	m, err := scanMessage(s.db.reader(ctx).QueryRowContext(ctx, `SELECT `+outboxColumns+`
		FROM outbox_messages m JOIN customers c ON c.id = m.customer_id`+w.sql(), w.args...))
	if err != nil {
		return m, notFound(err, "message")
	}
	return m, nil
}

// Stats implements outbox.Store.
func (s *OutboxStore) Stats(ctx context.Context, sourceKind string, sourceID int64) ([]outbox.Count, error) {
	var w where
	if sourceKind != "" {
		w.add("source_kind = ?", sourceKind)
		if sourceID != 0 {
			w.add("source_id = ?", sourceID)
		}
	}
	out := []outbox.Count{}
	err := queryEach(ctx, s.db.reader(ctx), "outbox stats", `SELECT channel, status, count(*) FROM outbox_messages`+
		w.sql()+` GROUP BY channel, status ORDER BY channel, status`, w.args, func(r *sql.Rows) error {
		var c outbox.Count
		var ch, st string
		if err := r.Scan(&ch, &st, &c.Count); err != nil {
			return err
		}
		c.Channel, c.Status = msgtemplate.Channel(ch), outbox.Status(st)
		out = append(out, c)
		return nil
	})
	return out, err
}

// Requeue implements outbox.Store.
func (s *OutboxStore) Requeue(ctx context.Context, id int64, now time.Time) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE outbox_messages SET status = 'queued', next_attempt_at = $1,
		updated_at = $1, failed_at = NULL WHERE id = $2 AND status = 'failed'`, now.UTC(), id)
	if err != nil {
		return fmt.Errorf("requeue message %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kehu.Errorf(kehu.ECONFLICT, "message %d is no longer failed", id)
	}
	return nil
}

// ApplyReceipt implements outbox.Store.
func (s *OutboxStore) ApplyReceipt(ctx context.Context, r outbox.Receipt, now time.Time) (bool, error) {
	applied := false
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.writer(ctx)
		var err error
		if r.MessageID != 0 {
			err = q.QueryRowContext(ctx, `SELECT id FROM outbox_messages WHERE id = $1 AND channel = $2`,
				r.MessageID, string(r.Channel)).Scan(&r.MessageID)
		} else {
			err = q.QueryRowContext(ctx, `SELECT id FROM outbox_messages WHERE channel = $1 AND provider_id = $2
				AND provider_id <> '' ORDER BY id LIMIT 1`, string(r.Channel), r.ProviderID).Scan(&r.MessageID)
		}
		if err != nil {
			return notFound(err, "message")
		}
		res, err := q.ExecContext(ctx, `INSERT INTO outbox_receipts (channel, receipt_id, message_id, event, at, detail,
			received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (channel, receipt_id) DO NOTHING`,
			string(r.Channel), r.ID, r.MessageID, r.Event, r.At.UTC(), r.Detail, now.UTC())
		if err != nil {
			return fmt.Errorf("insert receipt: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // seen before
		}
		applied = true
		at := r.At.UTC()
		switch r.Event {
		case outbox.EventDelivered:
			_, err = q.ExecContext(ctx, `UPDATE outbox_messages SET status = 'delivered', updated_at = $1,
				delivered_at = COALESCE(delivered_at, $2), lease_owner = '', lease_until = NULL
				WHERE id = $3 AND status IN ('queued','sending','sent')`, now.UTC(), at, r.MessageID)
		case outbox.EventFailed:
			_, err = q.ExecContext(ctx, `UPDATE outbox_messages SET status = 'failed', updated_at = $1, failed_at = $2,
				last_error = $3, lease_owner = '', lease_until = NULL
				WHERE id = $4 AND status IN ('queued','sending','sent')`, now.UTC(), at,
				strings.TrimSpace("the provider reports it undelivered: "+r.Detail), r.MessageID)
		case outbox.EventOpened, outbox.EventClicked:
			count, col := "opens", "opened"
			if r.Event == outbox.EventClicked {
				count, col = "clicks", "clicked"
			}
			// An open or a click proves delivery.
			_, err = q.ExecContext(ctx, `UPDATE outbox_messages SET `+count+` = `+count+` + 1,
				`+col+`_at = COALESCE(`+col+`_at, $1), updated_at = $2,
				delivered_at = CASE WHEN status IN ('sending','sent') THEN COALESCE(delivered_at, $1) ELSE delivered_at END,
				status = CASE WHEN status IN ('sending','sent') THEN 'delivered' ELSE status END,
				lease_owner = CASE WHEN status = 'sending' THEN '' ELSE lease_owner END
				WHERE id = $3`, at, now.UTC(), r.MessageID)
		}
		if err != nil {
			return fmt.Errorf("apply receipt: %w", err)
		}
		return nil
	})
	return applied, err
}
