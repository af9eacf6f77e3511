package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kehu/internal/campaign"
	"kehu/internal/customer"
)

const campaignRunColumns = `campaign_id, run, status, due_at, started_at, finished_at, heartbeat_at, checkpoint, audience,
	control, queued, deferred, suppressed, error`

func scanRun(r interface{ Scan(...any) error }) (campaign.Run, error) {
	var x campaign.Run
	var started, finished, beat sql.NullTime
	err := r.Scan(&x.CampaignID, &x.Number, &x.Status, &x.DueAt, &started, &finished, &beat, &x.Checkpoint,
		&x.Audience, &x.Control, &x.Queued, &x.Deferred, &x.Suppressed, &x.Error)
	x.DueAt = x.DueAt.UTC()
	x.StartedAt, x.FinishedAt, x.Heartbeat = optTime(started), optTime(finished), optTime(beat)
	return x, err
}

// CreateRun implements campaign.Store.
func (s *CampaignStore) CreateRun(ctx context.Context, r campaign.Run) (bool, error) {
	res, err := s.db.writer(ctx).ExecContext(ctx, `INSERT INTO campaign_runs (campaign_id, run, status, due_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (campaign_id, run) DO NOTHING`, r.CampaignID, r.Number, r.Status, r.DueAt.UTC())
	if err != nil {
		return false, fmt.Errorf("insert campaign run: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Runs implements campaign.Store: in run order.
func (s *CampaignStore) Runs(ctx context.Context, campaignID int64) ([]campaign.Run, error) {
	rows, err := s.db.reader(ctx).QueryContext(ctx, "SELECT "+campaignRunColumns+
		" FROM campaign_runs WHERE campaign_id = $1 ORDER BY run", campaignID)
	if err != nil {
		return nil, fmt.Errorf("campaign runs: %w", err)
	}
	return collect(rows, "campaign runs", func(r *sql.Rows) (campaign.Run, error) { return scanRun(r) })
}

// claimable is the condition of a run the runner may take: due and pending,
// or running with a stale heartbeat, of a campaign not paused or ended.
// The run's own columns are unqualified: in the claiming UPDATE they are
// the target row's, which PostgreSQL re-checks on the row version it locked
// (a subquery would see the statement's snapshot and let two servers claim).
const claimable = `((status = 'pending' AND due_at <= $1) OR (status = 'running' AND heartbeat_at < $2))
	AND campaign_id IN (SELECT id FROM campaigns WHERE status IN ('scheduled', 'running'))`

// ClaimRun implements campaign.Store: a compare-and-set on the run's row,
// so two servers asking at once get different runs or none.
func (s *CampaignStore) ClaimRun(ctx context.Context, owner string, now, staleBefore time.Time) (campaign.Run, bool, error) {
	now, staleBefore = now.UTC(), staleBefore.UTC()
	for range 5 {
		var id int64
		var number int
		err := s.db.reader(ctx).QueryRowContext(ctx, "SELECT campaign_id, run FROM campaign_runs WHERE "+claimable+
			" ORDER BY due_at, campaign_id LIMIT 1", now, staleBefore).Scan(&id, &number)
		if errors.Is(err, sql.ErrNoRows) {
			return campaign.Run{}, false, nil
		}
		if err != nil {
			return campaign.Run{}, false, fmt.Errorf("due campaign run: %w", err)
		}
		res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE campaign_runs SET status = 'running', lease_owner = $3,
			heartbeat_at = $1, started_at = COALESCE(started_at, $1)
			WHERE campaign_id = $4 AND run = $5 AND `+claimable, now, staleBefore, owner, id, number)
		if err != nil {
			return campaign.Run{}, false, fmt.Errorf("claim campaign run: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			r, err := scanRun(s.db.writer(ctx).QueryRowContext(ctx, "SELECT "+campaignRunColumns+
				" FROM campaign_runs WHERE campaign_id = $1 AND run = $2", id, number))
			return r, err == nil, err
		}
	}
	return campaign.Run{}, false, nil
}

// SaveBatch implements campaign.Store.
func (s *CampaignStore) SaveBatch(ctx context.Context, owner string, r campaign.Run, members []campaign.Member, now time.Time) error {
	q := s.db.writer(ctx)
	res, err := q.ExecContext(ctx, `UPDATE campaign_runs SET checkpoint = $1, audience = $2, control = $3, queued = $4,
		deferred = $5, suppressed = $6, heartbeat_at = $7
		WHERE campaign_id = $8 AND run = $9 AND lease_owner = $10 AND status = 'running'`,
		r.Checkpoint, r.Audience, r.Control, r.Queued, r.Deferred, r.Suppressed, now.UTC(), r.CampaignID, r.Number, owner)
	if err != nil {
		return fmt.Errorf("campaign run checkpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return conflict("campaign %d run %d is no longer held by this server (cancelled, paused or taken over)", r.CampaignID, r.Number)
	}
	if s.db.dialect.IsPostgres() {
		err = insertMembersArrays(ctx, q, members)
	} else {
		rows := make([][]any, len(members))
		for i, m := range members {
			rows[i] = []any{m.CampaignID, m.Run, m.CustomerID, m.Group, m.Outcome, m.Reason, nullInt(m.MessageID), nullInt(m.TaskID)}
		}
		err = insertRows(ctx, s.db.dialect, q, `INSERT INTO campaign_members (campaign_id, run, customer_id, grp, outcome,
			reason, message_id, task_id)`, "", 8, rows)
	}
	if err != nil {
		return fmt.Errorf("insert campaign members: %w", err)
	}
	return nil
}

// insertMembersArrays writes a batch's members on PostgreSQL in one
// statement with one array parameter per column, unnested into rows. A
// multi-row VALUES list binds 8 parameters per row and its text changes
// with the row count, so the server parses and plans 16,000 parameters per
// batch (and pgx prepares each new length); the arrays keep one statement
// text, prepared once, and cost the server a scan of eight arrays
// (docs/BENCHMARKS.md, campaign launch on PostgreSQL). The rows go in in
// array order, as the VALUES list's did.
func insertMembersArrays(ctx context.Context, q querier, members []campaign.Member) error {
	n := len(members)
	campaigns, runs, customers := make([]int64, n), make([]int32, n), make([]int64, n)
	groups, outcomes, reasons := make([]string, n), make([]string, n), make([]string, n)
	messages, tasks := make([]*int64, n), make([]*int64, n)
	for i, m := range members {
		campaigns[i], runs[i], customers[i] = m.CampaignID, int32(m.Run), m.CustomerID
		groups[i], outcomes[i], reasons[i] = m.Group, m.Outcome, m.Reason
		messages[i], tasks[i] = m.MessageID, m.TaskID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO campaign_members (campaign_id, run, customer_id, grp, outcome, reason,
		message_id, task_id)
		SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bigint[], $4::text[], $5::text[], $6::text[],
			$7::bigint[], $8::bigint[])`, campaigns, runs, customers, groups, outcomes, reasons, messages, tasks)
	return err
}

// SetRun implements campaign.Store.
func (s *CampaignStore) SetRun(ctx context.Context, owner string, r campaign.Run) error {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE campaign_runs SET status = $1, finished_at = $2, error = $3,
		lease_owner = ''
		WHERE campaign_id = $4 AND run = $5 AND ($6 = '' OR (lease_owner = $6 AND status = 'running'))`,
		r.Status, timeOrNil(r.FinishedAt), r.Error, r.CampaignID, r.Number, owner)
	if err != nil {
		return fmt.Errorf("campaign run status: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return conflict("campaign %d run %d is no longer held by this server", r.CampaignID, r.Number)
	}
	return nil
}

// ReadAhead implements campaign.Store: on PostgreSQL only (docs/BENCHMARKS.md,
// campaign launch).
func (s *CampaignStore) ReadAhead() bool { return s.db.dialect.IsPostgres() }

// MessageIDs implements campaign.Store.
func (s *CampaignStore) MessageIDs(ctx context.Context, keys []string) (map[string]int64, error) {
	return s.idsByKey(ctx, "outbox_messages", keys)
}

// idsByKey reads the ids of rows of table (a code constant with a unique
// dedup_key) by their keys, in the transaction that just wrote them.
func (s *CampaignStore) idsByKey(ctx context.Context, table string, keys []string) (map[string]int64, error) {
	out := make(map[string]int64, len(keys))
	q := s.db.writer(ctx) // the messages were just written in this transaction
	if s.db.dialect.IsPostgres() {
		// One array parameter: the same statement text whatever the
		// number of keys, so it is prepared once, not parsed per batch.
		err := queryEach(ctx, q, table+" ids", "SELECT id, dedup_key FROM "+table+" WHERE dedup_key = ANY($1::text[])",
			[]any{keys}, func(rows *sql.Rows) error {
				var id int64
				var k string
				err := rows.Scan(&id, &k)
				out[k] = id
				return err
			})
		return out, err
	}
	for start := 0; start < len(keys); start += maxBatchParams {
		part := keys[start:min(len(keys), start+maxBatchParams)]
		args := make([]any, len(part))
		for i, k := range part {
			args[i] = k
		}
		rows, err := q.QueryContext(ctx, "SELECT id, dedup_key FROM "+table+" WHERE dedup_key IN ("+
			s.db.dialect.params(1, len(part))+")", args...)
		if err != nil {
			return nil, fmt.Errorf("%s ids: %w", table, err)
		}
		for rows.Next() {
			var id int64
			var k string
			if err := rows.Scan(&id, &k); err != nil {
				rows.Close()
				return nil, err
			}
			out[k] = id
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// WithdrawQueued implements campaign.Store.
func (s *CampaignStore) WithdrawQueued(ctx context.Context, campaignID int64, reason string, now time.Time) (int64, error) {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE outbox_messages SET status = 'failed', failed_at = $1,
		updated_at = $1, last_error = $2 WHERE source_kind = 'campaign' AND source_id = $3 AND status = 'queued'`,
		now.UTC(), reason, campaignID)
	if err != nil {
		return 0, fmt.Errorf("withdraw campaign messages: %w", err)
	}
	return res.RowsAffected()
}

// Members implements campaign.Store.
func (s *CampaignStore) Members(ctx context.Context, campaignID int64, run int, scope customer.ScopeFilter, after int64,
	limit int) ([]campaign.Member, error) {
	var w where
	w.add("m.campaign_id = ?", campaignID)
	w.add("m.run = ?", run)
	w.add("m.customer_id > ?", after)
	scopeWhere(s.db.dialect, &w, scope)
	rows, err := s.db.reader(ctx).QueryContext(ctx, `SELECT m.campaign_id, m.run, m.customer_id, m.grp, m.outcome,
		m.reason, m.message_id, m.task_id, COALESCE(o.status, '')
		FROM campaign_members m JOIN customers c ON c.id = m.customer_id
		LEFT JOIN outbox_messages o ON o.id = m.message_id`+w.sql()+
		fmt.Sprintf(" ORDER BY m.customer_id LIMIT %d", limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("campaign members: %w", err)
	}
	return collect(rows, "campaign members", func(r *sql.Rows) (campaign.Member, error) {
		var m campaign.Member
		var msg, task sql.NullInt64
		err := r.Scan(&m.CampaignID, &m.Run, &m.CustomerID, &m.Group, &m.Outcome, &m.Reason, &msg, &task, &m.MessageStatus)
		m.MessageID, m.TaskID = optID(msg), optID(task)
		return m, err
	})
}

// TaskIDs implements campaign.Store.
func (s *CampaignStore) TaskIDs(ctx context.Context, keys []string) (map[string]int64, error) {
	return s.idsByKey(ctx, "tasks", keys)
}
