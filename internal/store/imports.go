package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"kehu/internal/identity"
	"kehu/internal/importer"
	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// ImportStore implements importer.Store.
type ImportStore struct{ db *DB }

// Imports returns the import store.
func (db *DB) Imports() *ImportStore { return &ImportStore{db: db} }

const jobColumns = `id, kind, file_name, file_sha256, file_size, file_path, encoding, source_system, mapping, status,
	total, accepted, rejected, created, updated, unchanged, merged, suspected, checkpoint_line, error,
	COALESCE(created_by, 0), created_by_name, actor_role, COALESCE(actor_org_id, 0), created_at, started_at,
	finished_at, heartbeat_at`

func scanJob(row interface{ Scan(...any) error }) (importer.Job, error) {
	var j importer.Job
	var mapping string
	var started, finished, beat sql.NullTime
	c := &j.Counts
	err := row.Scan(&j.ID, &j.Kind, &j.FileName, &j.SHA256, &j.FileSize, &j.FilePath, &j.Encoding, &j.SourceSystem,
		&mapping, &j.Status, &c.Total, &c.Accepted, &c.Rejected, &c.Created, &c.Updated, &c.Unchanged, &c.Merged,
		&c.Suspected, &j.CheckpointLine, &j.Error, &j.CreatedBy, &j.CreatedByName, &j.ActorRole, &j.ActorOrgID,
		&j.CreatedAt, &started, &finished, &beat)
	if err != nil {
		return j, err
	}
	if mapping != "" {
		if err := json.Unmarshal([]byte(mapping), &j.Mapping); err != nil {
			return j, fmt.Errorf("job %d mapping: %w", j.ID, err)
		}
	}
	j.CreatedAt = j.CreatedAt.UTC()
	j.StartedAt, j.FinishedAt, j.HeartbeatAt = utcPtr(started), utcPtr(finished), utcPtr(beat)
	return j, nil
}

func utcPtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// CreateJob implements importer.Store. An active job of the same file and
// kind is looked up first, so the refusal can name it; the partial unique
// index import_jobs_active closes the race between two uploads.
func (s *ImportStore) CreateJob(ctx context.Context, j importer.Job) (importer.Job, error) {
	q := s.db.writer(ctx)
	if active, err := scanJob(q.QueryRowContext(ctx, "SELECT "+jobColumns+` FROM import_jobs
		WHERE kind = $1 AND file_sha256 = $2 AND status IN ('queued', 'running')`, j.Kind, j.SHA256)); err == nil {
		return importer.Job{}, kehu.Errorf(kehu.ECONFLICT, "this file is already being imported as job %d (%s, "+
			"started by %s): wait for it to finish; if it was interrupted, resume it or roll it back", active.ID,
			active.Status, active.CreatedByName)
	} else if err != sql.ErrNoRows {
		return importer.Job{}, fmt.Errorf("find active import: %w", err)
	}
	mapping := ""
	if len(j.Mapping) > 0 {
		b, _ := json.Marshal(j.Mapping)
		mapping = string(b)
	}
	err := q.QueryRowContext(ctx, `INSERT INTO import_jobs (kind, file_name, file_sha256, file_size, file_path, encoding,
		source_system, mapping, status, created_by, created_by_name, actor_role, actor_org_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		j.Kind, j.FileName, j.SHA256, j.FileSize, j.FilePath, j.Encoding, j.SourceSystem, mapping, j.Status,
		nullID(j.CreatedBy), j.CreatedByName, j.ActorRole, nullID(j.ActorOrgID), j.CreatedAt.UTC()).Scan(&j.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return importer.Job{}, kehu.Errorf(kehu.ECONFLICT, "this file is already being imported: wait for that import to finish")
		}
		return importer.Job{}, fmt.Errorf("create import job: %w", err)
	}
	return j, nil
}

// Job implements importer.Store.
func (s *ImportStore) Job(ctx context.Context, id int64) (importer.Job, error) {
	j, err := scanJob(s.db.reader(ctx).QueryRowContext(ctx, "SELECT "+jobColumns+" FROM import_jobs WHERE id = $1", id))
	if err != nil {
		return importer.Job{}, notFound(err, "import job")
	}
	return j, nil
}

// Jobs implements importer.Store: newest first through the primary key, or
// import_jobs_created_by for one user's.
func (s *ImportStore) Jobs(ctx context.Context, f importer.JobFilter) ([]importer.Job, error) {
	var w where
	if f.CreatedBy != 0 {
		w.add("created_by = ?", f.CreatedBy)
	}
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if f.Before > 0 {
		w.add("id < ?", f.Before)
	}
	args := append(w.args, kehu.ClampLimit(f.Limit))
	out := []importer.Job{}
	err := queryEach(ctx, s.db.reader(ctx), "import jobs", "SELECT "+jobColumns+" FROM import_jobs"+w.sql()+
		" ORDER BY id DESC LIMIT $"+fmt.Sprint(len(args)), args, func(rows *sql.Rows) error {
		j, err := scanJob(rows)
		out = append(out, j)
		return err
	})
	return out, err
}

// ClaimJob implements importer.Store.
func (s *ImportStore) ClaimJob(ctx context.Context, id int64, now, stale time.Time) (importer.Job, error) {
	res, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE import_jobs SET status = 'running',
		started_at = COALESCE(started_at, $1), heartbeat_at = $1, error = '', finished_at = NULL
		WHERE id = $2 AND (status IN ('queued', 'failed') OR status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < $3))`,
		now.UTC(), id, stale.UTC())
	if err != nil {
		if isUniqueViolation(err) {
			return importer.Job{}, kehu.Errorf(kehu.ECONFLICT, "the same file is being imported by another job")
		}
		return importer.Job{}, fmt.Errorf("claim import job %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		j, err := s.Job(ctx, id)
		if err != nil {
			return j, err
		}
		return j, kehu.Errorf(kehu.ECONFLICT, "import job %d is %s and cannot be run now", id, j.Status)
	}
	return s.Job(ctx, id)
}

// SaveProgress implements importer.Store.
func (s *ImportStore) SaveProgress(ctx context.Context, id int64, p importer.Progress) error {
	q := s.db.writer(ctx)
	if err := s.saveRejects(ctx, q, id, p.Rejects); err != nil {
		return err
	}
	c := p.Counts
	_, err := q.ExecContext(ctx, `UPDATE import_jobs SET total = $1, accepted = $2, rejected = $3, created = $4,
		updated = $5, unchanged = $6, merged = $7, suspected = $8, checkpoint_line = $9, heartbeat_at = $10 WHERE id = $11`,
		c.Total, c.Accepted, c.Rejected, c.Created, c.Updated, c.Unchanged, c.Merged, c.Suspected, p.Checkpoint,
		p.At.UTC(), id)
	if err != nil {
		return fmt.Errorf("save import progress: %w", err)
	}
	return nil
}

// saveRejects stores rejects, merging reasons of the same line and column;
// a batch redone after a crash finds its rejects stored and adds nothing.
func (s *ImportStore) saveRejects(ctx context.Context, q querier, id int64, rejects []importer.Reject) error {
	type key struct {
		line int64
		col  string
	}
	merged := map[key]int{}
	rows := make([][]any, 0, len(rejects))
	for _, r := range rejects {
		k := key{r.Line, r.Column}
		if i, ok := merged[k]; ok {
			rows[i][3] = rows[i][3].(string) + "; " + r.Reason
			continue
		}
		merged[k] = len(rows)
		rows = append(rows, []any{id, r.Line, r.Column, r.Reason})
	}
	if err := insertRows(ctx, s.db.dialect, q, "INSERT INTO import_rejects (job_id, line, col, reason)",
		"ON CONFLICT (job_id, line, col) DO NOTHING", 4, rows); err != nil {
		return fmt.Errorf("save rejects: %w", err)
	}
	return nil
}

// Heartbeat implements importer.Store.
func (s *ImportStore) Heartbeat(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, "UPDATE import_jobs SET heartbeat_at = $1 WHERE id = $2 AND status = 'running'",
		now.UTC(), id)
	return err
}

// FinishJob implements importer.Store.
func (s *ImportStore) FinishJob(ctx context.Context, id int64, status, errText string, now time.Time) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, "UPDATE import_jobs SET status = $1, error = $2, finished_at = $3 WHERE id = $4",
		status, errText, now.UTC(), id)
	if err != nil {
		return fmt.Errorf("finish import job %d: %w", id, err)
	}
	return nil
}

// SetEncoding implements importer.Store.
func (s *ImportStore) SetEncoding(ctx context.Context, id int64, encoding, source string) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, "UPDATE import_jobs SET encoding = $1, source_system = $2 WHERE id = $3",
		encoding, source, id)
	return err
}

// Rejects implements importer.Store, in line order (the primary key).
func (s *ImportStore) Rejects(ctx context.Context, id int64, fn func(importer.Reject) error) error {
	return queryEach(ctx, s.db.reader(ctx), "import rejects", "SELECT line, col, reason FROM import_rejects WHERE job_id = $1 "+
		"ORDER BY line, col", []any{id}, func(rows *sql.Rows) error {
		var r importer.Reject
		if err := rows.Scan(&r.Line, &r.Column, &r.Reason); err != nil {
			return err
		}
		return fn(r)
	})
}

// RejectedLines implements importer.Store.
func (s *ImportStore) RejectedLines(ctx context.Context, id, upTo int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	err := queryEach(ctx, s.db.reader(ctx), "rejected lines", "SELECT DISTINCT line FROM import_rejects WHERE job_id = $1 AND line <= $2",
		[]any{id, upTo}, func(rows *sql.Rows) error {
			var l int64
			err := rows.Scan(&l)
			out[l] = true
			return err
		})
	return out, err
}

// Refs implements importer.Store: the organisations, users, products and
// source systems, small enough to hold for a job.
func (s *ImportStore) Refs(ctx context.Context) (*importer.Refs, error) {
	r := &importer.Refs{Orgs: map[int64]importer.OrgRef{}, OrgCodes: map[string]int64{}, Users: map[int64]importer.UserRef{},
		Usernames: map[string]int64{}, Products: map[string]importer.ProductRef{}, Sources: map[string]bool{}}
	q := s.db.reader(ctx)
	if err := queryEach(ctx, q, "orgs", "SELECT id, code, path FROM orgs", nil, func(rows *sql.Rows) error {
		var o importer.OrgRef
		err := rows.Scan(&o.ID, &o.Code, &o.Path)
		r.Orgs[o.ID], r.OrgCodes[o.Code] = o, o.ID
		return err
	}); err != nil {
		return nil, err
	}
	if err := queryEach(ctx, q, "users", "SELECT id, username, org_id, disabled FROM users", nil, func(rows *sql.Rows) error {
		var u importer.UserRef
		var disabled bool
		err := rows.Scan(&u.ID, &u.Username, &u.OrgID, &disabled)
		u.Active = !disabled
		r.Users[u.ID], r.Usernames[strings.ToLower(u.Username)] = u, u.ID
		return err
	}); err != nil {
		return nil, err
	}
	if err := queryEach(ctx, q, "products", "SELECT id, code, type FROM products", nil, func(rows *sql.Rows) error {
		var p importer.ProductRef
		err := rows.Scan(&p.ID, &p.Code, &p.Type)
		r.Products[p.Code] = p
		return err
	}); err != nil {
		return nil, err
	}
	err := queryEach(ctx, q, "source systems", "SELECT code FROM source_systems", nil, func(rows *sql.Rows) error {
		var c string
		err := rows.Scan(&c)
		r.Sources[c] = true
		return err
	})
	return r, err
}

// ActorOf implements importer.Store.
func (s *ImportStore) ActorOf(ctx context.Context, userID int64) (kehu.Actor, bool, error) {
	var a kehu.Actor
	var disabled bool
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT u.id, u.username, u.role, u.org_id, o.path, u.disabled
		FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1`, userID).
		Scan(&a.UserID, &a.Username, &a.Role, &a.OrgID, &a.OrgPath, &disabled)
	if err != nil {
		return a, false, notFound(err, "user")
	}
	return a, !disabled, nil
}

// customerInfoColumns read a customer, or the survivor it was merged into.
const customerInfoColumns = `c.id, c.org_id, c.owner_id, c.status, m.id, m.org_id, m.owner_id, m.status`

func scanCustomerInfo(scan func(...any) error, extra ...any) (importer.CustomerInfo, error) {
	var c importer.CustomerInfo
	var owner, mID, mOrg, mOwner sql.NullInt64
	var mStatus sql.NullString
	err := scan(append([]any{&c.ID, &c.OrgID, &owner, &c.Status, &mID, &mOrg, &mOwner, &mStatus}, extra...)...)
	if mID.Valid {
		c.ID, c.OrgID, c.Status, owner = mID.Int64, mOrg.Int64, mStatus.String, mOwner
	}
	if owner.Valid {
		c.OwnerID = &owner.Int64
	}
	return c, err
}

// CustomersBySource implements importer.Store (customer_sources' unique
// index), following a merge one step.
func (s *ImportStore) CustomersBySource(ctx context.Context, source string, ids []string) (map[string]importer.CustomerInfo, error) {
	out := map[string]importer.CustomerInfo{}
	err := inChunks(uniqueStrings(ids), lookupChunk, func(chunk []string) error {
		return queryEach(ctx, s.db.reader(ctx), "customers by source id", "SELECT "+customerInfoColumns+`, s.source_id
			FROM customer_sources s JOIN customers c ON c.id = s.customer_id LEFT JOIN customers m ON m.id = c.merged_into
			WHERE s.source_system = $1 AND s.source_id IN (`+s.db.dialect.params(2, len(chunk))+")",
			append([]any{source}, anySlice(chunk)...), func(rows *sql.Rows) error {
				var id string
				c, err := scanCustomerInfo(rows.Scan, &id)
				out[id] = c
				return err
			})
	})
	return out, err
}

// CustomersByIdentity implements importer.Store (customers_identity).
func (s *ImportStore) CustomersByIdentity(ctx context.Context, keys []importer.IdentityRef) (map[importer.IdentityRef]importer.CustomerInfo, error) {
	out := map[importer.IdentityRef]importer.CustomerInfo{}
	byType := map[string][]string{}
	for _, k := range keys {
		byType[k.IDType] = append(byType[k.IDType], k.Index)
	}
	for idType, idx := range byType {
		err := inChunks(uniqueStrings(idx), lookupChunk, func(chunk []string) error {
			return queryEach(ctx, s.db.reader(ctx), "customers by identity", "SELECT "+customerInfoColumns+`, c.id_number_bidx
				FROM customers c LEFT JOIN customers m ON m.id = c.merged_into
				WHERE c.id_type = $1 AND c.id_number_bidx IN (`+s.db.dialect.params(2, len(chunk))+")",
				append([]any{idType}, anySlice(chunk)...), func(rows *sql.Rows) error {
					var index string
					c, err := scanCustomerInfo(rows.Scan, &index)
					out[importer.IdentityRef{IDType: idType, Index: index}] = c
					return err
				})
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CustomersByID implements importer.Store.
func (s *ImportStore) CustomersByID(ctx context.Context, ids []int64) (map[int64]importer.CustomerInfo, error) {
	out := map[int64]importer.CustomerInfo{}
	err := inChunks(uniqueIDs(ids), lookupChunk, func(chunk []int64) error {
		return queryEach(ctx, s.db.reader(ctx), "customers by id", "SELECT "+customerInfoColumns+`, c.id
			FROM customers c LEFT JOIN customers m ON m.id = c.merged_into WHERE c.id IN (`+s.db.dialect.params(1, len(chunk))+")",
			anySlice(chunk), func(rows *sql.Rows) error {
				var id int64
				c, err := scanCustomerInfo(rows.Scan, &id)
				out[id] = c
				return err
			})
	})
	return out, err
}

const accountInfoColumns = `id, account_no_bidx, customer_id, product_id, currency, balance, credit_limit, status, org_id,
	opened_on, matures_on`

// AccountsByIndex implements importer.Store (accounts_number).
func (s *ImportStore) AccountsByIndex(ctx context.Context, indexes []string) (map[string]importer.AccountInfo, error) {
	out := map[string]importer.AccountInfo{}
	err := inChunks(uniqueStrings(indexes), lookupChunk, func(chunk []string) error {
		return queryEach(ctx, s.db.reader(ctx), "accounts", "SELECT "+accountInfoColumns+" FROM accounts WHERE account_no_bidx IN ("+
			s.db.dialect.params(1, len(chunk))+")", anySlice(chunk), func(rows *sql.Rows) error {
			var a importer.AccountInfo
			err := rows.Scan(&a.ID, &a.Index, &a.CustomerID, &a.ProductID, &a.Currency, &a.Balance, &a.CreditLimit,
				&a.Status, &a.OrgID, &a.OpenedOn, &a.MaturesOn)
			out[a.Index] = a
			return err
		})
	})
	return out, err
}

// Keys implements importer.Store (the import_keys primary key).
func (s *ImportStore) Keys(ctx context.Context, kind, source string, keys []string) (map[string]importer.ImportKey, error) {
	out := map[string]importer.ImportKey{}
	err := inChunks(uniqueStrings(keys), lookupChunk, func(chunk []string) error {
		return queryEach(ctx, s.db.reader(ctx), "import keys", "SELECT source_key, row_id, job_id, line FROM import_keys "+
			"WHERE kind = $1 AND source_system = $2 AND source_key IN ("+s.db.dialect.params(3, len(chunk))+")",
			append([]any{kind, source}, anySlice(chunk)...), func(rows *sql.Rows) error {
				k := importer.ImportKey{Kind: kind, Source: source}
				err := rows.Scan(&k.Key, &k.RowID, &k.JobID, &k.Line)
				out[k.Key] = k
				return err
			})
	})
	return out, err
}

const holdingColumns = "id, account_id, customer_id, product_id, amount, cost, acquired_on, matures_on"

func scanHolding(rows *sql.Rows) (importer.HoldingInfo, error) {
	var h importer.HoldingInfo
	err := rows.Scan(&h.ID, &h.AccountID, &h.CustomerID, &h.ProductID, &h.Amount, &h.Cost, &h.AcquiredOn, &h.MaturesOn)
	return h, err
}

// HoldingsByID implements importer.Store.
func (s *ImportStore) HoldingsByID(ctx context.Context, ids []int64) (map[int64]importer.HoldingInfo, error) {
	out := map[int64]importer.HoldingInfo{}
	err := inChunks(uniqueIDs(ids), lookupChunk, func(chunk []int64) error {
		return queryEach(ctx, s.db.reader(ctx), "holdings", "SELECT "+holdingColumns+" FROM holdings WHERE id IN ("+
			s.db.dialect.params(1, len(chunk))+")", anySlice(chunk), func(rows *sql.Rows) error {
			h, err := scanHolding(rows)
			out[h.ID] = h
			return err
		})
	})
	return out, err
}

// HoldingsByCustomer implements importer.Store (holdings_customer).
func (s *ImportStore) HoldingsByCustomer(ctx context.Context, ids []int64) ([]importer.HoldingInfo, error) {
	var out []importer.HoldingInfo
	err := inChunks(uniqueIDs(ids), lookupChunk, func(chunk []int64) error {
		return queryEach(ctx, s.db.reader(ctx), "holdings", "SELECT "+holdingColumns+" FROM holdings WHERE customer_id IN ("+
			s.db.dialect.params(1, len(chunk))+") ORDER BY id", anySlice(chunk), func(rows *sql.Rows) error {
			h, err := scanHolding(rows)
			out = append(out, h)
			return err
		})
	})
	return out, err
}

// RelationshipsOf implements importer.Store (the relationships unique
// index leads with from_customer_id).
func (s *ImportStore) RelationshipsOf(ctx context.Context, fromIDs []int64) ([]importer.RelInfo, error) {
	var out []importer.RelInfo
	err := inChunks(uniqueIDs(fromIDs), lookupChunk, func(chunk []int64) error {
		return queryEach(ctx, s.db.reader(ctx), "relationships", "SELECT id, from_customer_id, to_customer_id, kind, share_bp "+
			"FROM relationships WHERE from_customer_id IN ("+s.db.dialect.params(1, len(chunk))+")", anySlice(chunk),
			func(rows *sql.Rows) error {
				var r importer.RelInfo
				err := rows.Scan(&r.ID, &r.From, &r.To, &r.Kind, &r.ShareBP)
				out = append(out, r)
				return err
			})
	})
	return out, err
}

// InsertAccounts implements importer.Store; it returns the new ids by blind
// index.
func (s *ImportStore) InsertAccounts(ctx context.Context, accounts []importer.AccountWrite) (map[string]int64, error) {
	out := map[string]int64{}
	rows := make([][]any, 0, len(accounts))
	for _, a := range accounts {
		rows = append(rows, []any{a.CustomerID, a.ProductID, a.Sealed, a.Currency, a.Balance, a.CreditLimit, a.Status,
			a.OrgID, a.OpenedOn, a.MaturesOn, a.Index})
	}
	err := insertReturning(ctx, s.db.dialect, s.db.writer(ctx), `INSERT INTO accounts (customer_id, product_id, account_no, currency,
		balance, credit_limit, status, org_id, opened_on, matures_on, account_no_bidx)`, "id, account_no_bidx", 11, rows,
		func(r *sql.Rows) error {
			var id int64
			var index string
			err := r.Scan(&id, &index)
			out[index] = id
			return err
		})
	if err != nil {
		if isUniqueViolation(err) {
			return nil, kehu.Errorf(kehu.ECONFLICT, "an account with the same number was created meanwhile")
		}
		return nil, fmt.Errorf("insert accounts: %w", err)
	}
	return out, nil
}

// UpdateAccount implements importer.Store.
func (s *ImportStore) UpdateAccount(ctx context.Context, a importer.AccountInfo) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE accounts SET product_id = $1, currency = $2, balance = $3,
		credit_limit = $4, status = $5, org_id = $6, opened_on = $7, matures_on = $8 WHERE id = $9`,
		a.ProductID, a.Currency, a.Balance, a.CreditLimit, a.Status, a.OrgID, a.OpenedOn, a.MaturesOn, a.ID)
	if err != nil {
		return fmt.Errorf("update account %d: %w", a.ID, err)
	}
	return nil
}

// InsertHolding implements importer.Store.
func (s *ImportStore) InsertHolding(ctx context.Context, h importer.HoldingInfo) (int64, error) {
	var id int64
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO holdings (customer_id, account_id, product_id, amount, cost,
		acquired_on, matures_on) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		h.CustomerID, h.AccountID, h.ProductID, h.Amount, h.Cost, h.AcquiredOn, h.MaturesOn).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert holding: %w", err)
	}
	return id, nil
}

// UpdateHolding implements importer.Store.
func (s *ImportStore) UpdateHolding(ctx context.Context, h importer.HoldingInfo) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, `UPDATE holdings SET account_id = $1, product_id = $2, amount = $3, cost = $4,
		acquired_on = $5, matures_on = $6 WHERE id = $7`, h.AccountID, h.ProductID, h.Amount, h.Cost, h.AcquiredOn,
		h.MaturesOn, h.ID)
	if err != nil {
		return fmt.Errorf("update holding %d: %w", h.ID, err)
	}
	return nil
}

// InsertTransaction implements importer.Store.
func (s *ImportStore) InsertTransaction(ctx context.Context, t importer.TxnWrite) (int64, error) {
	var id int64
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO transactions (account_id, customer_id, occurred_at, amount,
		balance_after, kind, channel, counterparty, description) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		t.AccountID, t.CustomerID, t.OccurredAt.UTC(), t.Amount, t.BalanceAfter, t.Kind, t.Channel, t.Counterparty,
		t.Description).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert transaction: %w", err)
	}
	return id, nil
}

// InsertRelationship implements importer.Store.
func (s *ImportStore) InsertRelationship(ctx context.Context, r importer.RelInfo, now time.Time) (int64, error) {
	var id int64
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO relationships (from_customer_id, to_customer_id, kind, share_bp,
		created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`, r.From, r.To, r.Kind, r.ShareBP, now.UTC()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert relationship: %w", err)
	}
	return id, nil
}

// UpdateRelationshipShare implements importer.Store.
func (s *ImportStore) UpdateRelationshipShare(ctx context.Context, id int64, share int) error {
	_, err := s.db.writer(ctx).ExecContext(ctx, "UPDATE relationships SET share_bp = $1 WHERE id = $2", share, id)
	return err
}

// InsertEvent implements importer.Store. Imported events are history: like
// the demo's, they carry no event_id of a feed.
func (s *ImportStore) InsertEvent(ctx context.Context, e importer.EventWrite) (int64, error) {
	var detail any
	if e.Detail != "" {
		detail = e.Detail
	}
	var id int64
	err := s.db.writer(ctx).QueryRowContext(ctx, `INSERT INTO channel_events (customer_id, occurred_at, channel, kind,
		product_id, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, e.CustomerID, e.OccurredAt.UTC(), e.Channel,
		e.Kind, e.ProductID, detail).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert channel event: %w", err)
	}
	return id, nil
}

// InsertKeys implements importer.Store.
func (s *ImportStore) InsertKeys(ctx context.Context, keys []importer.ImportKey) error {
	rows := make([][]any, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, []any{k.Kind, k.Source, k.Key, k.RowID, k.JobID, k.Line})
	}
	if err := insertRows(ctx, s.db.dialect, s.db.writer(ctx), "INSERT INTO import_keys (kind, source_system, source_key, row_id, job_id, line)",
		"ON CONFLICT (kind, source_system, source_key) DO NOTHING", 6, rows); err != nil {
		return fmt.Errorf("insert import keys: %w", err)
	}
	return nil
}

// RecomputeAUM implements importer.Store: AUM is deposits (current and time
// deposit balances) plus the market value of holdings, as the demo bank
// and the level rule count it.
func (s *ImportStore) RecomputeAUM(ctx context.Context, ids []int64, levelOf func(int64) string) error {
	type row struct {
		id, aum, sum int64
		level        string
	}
	var changed []row
	err := inChunks(uniqueIDs(ids), lookupChunk, func(chunk []int64) error {
		return queryEach(ctx, s.db.reader(ctx), "aum", `SELECT c.id, c.aum, c.level,
			COALESCE((SELECT SUM(a.balance) FROM accounts a JOIN products p ON p.id = a.product_id
				WHERE a.customer_id = c.id AND p.type IN ('current_deposit', 'time_deposit')), 0)
			+ COALESCE((SELECT SUM(h.amount) FROM holdings h WHERE h.customer_id = c.id), 0)
			FROM customers c WHERE c.id IN (`+s.db.dialect.params(1, len(chunk))+")", anySlice(chunk), func(rows *sql.Rows) error {
			var r row
			if err := rows.Scan(&r.id, &r.aum, &r.level, &r.sum); err != nil {
				return err
			}
			next := r.level
			if levelOf != nil {
				next = levelOf(r.sum)
			}
			if r.sum != r.aum || next != r.level {
				r.aum, r.level = r.sum, next
				changed = append(changed, r)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, r := range changed {
		if _, err := s.db.writer(ctx).ExecContext(ctx, "UPDATE customers SET aum = $1, level = $2 WHERE id = $3",
			r.aum, r.level, r.id); err != nil {
			return fmt.Errorf("update aum of %d: %w", r.id, err)
		}
	}
	return nil
}

// ImportSealer seals and indexes personal values for the importer's
// workers, exactly as the customer and account stores do.
type ImportSealer struct {
	k *vault.Keyring
	// printKey keys the field fingerprints and row digests: derived from
	// the blind-index key, so it is as secret and as stable as that key.
	printKey []byte
}

// ImportSealer returns the sealer; it fails without keys.
func (db *DB) ImportSealer() (*ImportSealer, error) {
	k, err := db.keyring()
	if err != nil {
		return nil, err
	}
	return &ImportSealer{k: k, printKey: []byte(k.BlindIndex(vault.IndexKind("import_print_key"), "v1"))}, nil
}

// SealCustomer implements importer.Sealer.
func (s *ImportSealer) SealCustomer(idNumber, mobile, email, address string) (identity.Sealed, error) {
	out := identity.Sealed{IDNumber: idNumber, Mobile: mobile, Email: email, Address: address,
		IDNumberIndex: s.k.BlindIndex(vault.IndexIDNumber, idNumber), MobileIndex: s.k.BlindIndex(vault.IndexMobile, mobile)}
	err := sealAll(s.k, sealedCustomerColumns, []*string{&out.IDNumber, &out.Mobile, &out.Email, &out.Address})
	return out, err
}

// SealAccountNo implements importer.Sealer.
func (s *ImportSealer) SealAccountNo(no string) (string, string, error) {
	sealed, err := s.k.Encrypt(colAccountNo, no)
	return sealed, s.k.BlindIndex(vault.IndexAccountNo, no), err
}

// IDNumberIndex implements importer.Sealer.
func (s *ImportSealer) IDNumberIndex(v string) string { return s.k.BlindIndex(vault.IndexIDNumber, v) }

// AccountNoIndex implements importer.Sealer.
func (s *ImportSealer) AccountNoIndex(v string) string {
	return s.k.BlindIndex(vault.IndexAccountNo, v)
}

// fingerprintLen keeps 48 bits: enough to notice that a field's value
// changed, short enough to store a dozen per source record.
const fingerprintLen = 8

// keyed returns base64(SHA-256(printKey ‖ 0 ‖ parts joined by 0x1f)). A
// secret prefix makes it a keyed digest (not reversible by guessing a mobile
// without the key); length extension does not matter for a value that is
// only compared. It costs one hash, where an HMAC through the vault would
// cost two plus allocations — an import computes a dozen per row.
func (s *ImportSealer) keyed(parts ...string) string {
	sum := s.sum(parts...)
	return base64.RawStdEncoding.EncodeToString(sum[:])
}

// sum is keyed's SHA-256 before encoding.
func (s *ImportSealer) sum(parts ...string) [sha256.Size]byte {
	n := len(s.printKey) + 1
	for _, p := range parts {
		n += len(p) + 1
	}
	buf := make([]byte, 0, n)
	buf = append(append(buf, s.printKey...), 0)
	for i, p := range parts {
		if i > 0 {
			buf = append(buf, 0x1f)
		}
		buf = append(buf, p...)
	}
	return sha256.Sum256(buf)
}

// Fingerprint implements identity.Fingerprinter: the first fingerprintLen
// characters of keyed(field, value), encoded from the six bytes they hold
// rather than from all 32.
func (s *ImportSealer) Fingerprint(field, value string) string {
	sum := s.sum(field, value)
	return base64.RawStdEncoding.EncodeToString(sum[:fingerprintLen*6/8])
}

// Digest implements importer.Sealer.
func (s *ImportSealer) Digest(parts ...string) string { return s.keyed(parts...) }

// importCacheMiB is the page cache of the write connection during an
// import: the customer table's dozen indexes of a million customers stay in
// memory (store.BulkLoader uses the same for the demo).
const importCacheMiB = 512

// appendCacheMiB is the write connection's page cache during a load that
// only appends to customers (an initial load with every customers index it
// would insert into at random deferred). A large cache then only costs: each
// new page is a fresh allocation instead of a recycled buffer, and 300,000
// customers were inserted in 8–9.7 s with 512 MiB against 5.5–6.9 s with
// 64 MiB (docs/BENCHMARKS.md). 64 MiB still holds the source links' indexes
// of several million records, which take keys in the source's order.
const appendCacheMiB = 64

// AppendOnlyCache implements importer.Store: the page cache of an
// append-only load (appendCacheMiB) or of an import (importCacheMiB). On
// PostgreSQL it does nothing.
func (s *ImportStore) AppendOnlyCache(ctx context.Context, on bool) error {
	if s.db.dialect.IsPostgres() {
		return nil
	}
	mib := importCacheMiB
	if on {
		mib = appendCacheMiB
	}
	if _, err := s.db.writer(ctx).ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -mib*1024)); err != nil {
		return fmt.Errorf("import: page cache: %w", err)
	}
	return nil
}

// importMmapBytes is how much of the database file the write connection
// reads through a memory map during an import (SQLite caps it at its
// compile-time maximum, 2 GiB for modernc). A million customers make a
// table larger than the page cache; every page the cache misses — the
// identity lookups' index pages, and the dozen full scans that build the
// deferred indexes — is then a memory read instead of a pread system call
// (the index builds of a million customers took a quarter of the time in a
// test of the bare engine). Written pages still go through the pager and
// the WAL, so durability does not change.
const importMmapBytes = 1 << 34

// TuneForImport gives the SQLite write connection a large page cache, a
// memory map of the file and a rarer WAL checkpoint while an import runs, as store.BulkLoader does for a
// load: random inserts into the customer indexes (identity and mobile blind
// indexes, names) then stay in memory instead of re-reading pages. It
// returns the function that restores the settings (and checkpoints the
// WAL). Durability is untouched: every batch commits with synchronous=FULL.
// On PostgreSQL it does nothing.
func (s *ImportStore) TuneForImport(ctx context.Context) (func(), error) {
	if s.db.dialect.IsPostgres() {
		return func() {}, nil
	}
	var restore []string
	for _, p := range []struct {
		name string
		bulk int64
	}{{"cache_size", -importCacheMiB * 1024}, {"wal_autocheckpoint", 65536}, {"mmap_size", importMmapBytes}} {
		var old int64
		if err := s.db.write.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&old); err != nil {
			return nil, fmt.Errorf("import: read %s: %w", p.name, err)
		}
		if _, err := s.db.write.ExecContext(ctx, fmt.Sprintf("PRAGMA %s = %d", p.name, p.bulk)); err != nil {
			return nil, fmt.Errorf("import: set %s: %w", p.name, err)
		}
		restore = append(restore, fmt.Sprintf("PRAGMA %s = %d", p.name, old))
	}
	restore = append(restore, "PRAGMA wal_checkpoint(PASSIVE)")
	return func() {
		for _, q := range restore {
			_, _ = s.db.write.ExecContext(context.WithoutCancel(ctx), q)
		}
	}, nil
}
