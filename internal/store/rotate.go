package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kehu/internal/vault"
)

// rotationTables are the tables with sealed columns, in rotation order.
// key is the integer key the batches walk in order.
var rotationTables = []struct {
	table, key string
	cols       []string
}{
	{"customers", "id", []string{"id_number", "mobile", "email", "address"}},
	{"accounts", "id", []string{"account_no"}},
	// TOTP seeds are sealed by the auth service under the same keys.
	{"auth_state", "user_id", []string{"totp_secret"}},
}

// RotateOptions tunes RotateKeys.
type RotateOptions struct {
	// Batch is how many rows one transaction reads; default 500. Small
	// batches keep SQLite's single writer free for the server in between.
	Batch int
	// Progress, when set, is called after each committed batch.
	Progress func(table string, lastID, rewritten int64)
	// Now stamps progress rows; default time.Now.
	Now func() time.Time
}

// RotateResult says what RotateKeys did.
type RotateResult struct {
	// Rewritten counts re-encrypted rows per table, over all runs of this
	// rotation (a resumed run adds to the earlier count).
	Rewritten map[string]int64
	// Retired lists the data keys no value is sealed under any more; they
	// are marked retired in vault_keys and may be removed from the key file.
	Retired []string
}

// RotateKeys re-encrypts every sealed value that is not under the active
// key, table by table in id order, one transaction per batch. Progress (table,
// target key, last id) is committed with each batch, so a killed rotation
// continues where it stopped, and servers keep reading and writing
// meanwhile: every configured key still opens old values, and a row changed
// by a server during the batch is left alone (the server wrote it under the
// active key). Blind indexes do not change: the index key is stable.
func (db *DB) RotateKeys(ctx context.Context, opt RotateOptions) (RotateResult, error) {
	k, err := db.keyring()
	if err != nil {
		return RotateResult{}, err
	}
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	res := RotateResult{Rewritten: map[string]int64{}}
	for _, t := range rotationTables {
		n, err := db.rotateTable(ctx, k, t.table, t.key, t.cols, opt)
		res.Rewritten[t.table] = n
		if err != nil {
			return res, fmt.Errorf("rotate %s: %w", t.table, err)
		}
	}
	res.Retired, err = db.retireKeys(ctx, k.ActiveKeyID())
	return res, err
}

// rotateTable runs the batches of one table from its saved position.
func (db *DB) rotateTable(ctx context.Context, k *vault.Keyring, table, key string, cols []string, opt RotateOptions) (int64, error) {
	active := k.ActiveKeyID()
	var target string
	var last, rewritten int64
	var done bool
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT target_key, last_id, rewritten, done FROM vault_rotation
		WHERE table_name = $1`, table).Scan(&target, &last, &rewritten, &done)
	if err != nil && !isNoRows(err) {
		return 0, err
	}
	if target != active { // a new rotation (or the first): start over
		last, rewritten, done = 0, 0, false
	}
	for !done {
		if err := ctx.Err(); err != nil {
			return rewritten, err
		}
		err := db.WithTx(ctx, func(ctx context.Context) error {
			n, next, changed, err := db.rotateBatch(ctx, k, table, key, cols, last, opt.Batch)
			if err != nil {
				return err
			}
			last, rewritten, done = next, rewritten+changed, n < opt.Batch
			_, err = db.writer(ctx).ExecContext(ctx, `INSERT INTO vault_rotation
				(table_name, target_key, last_id, rewritten, done, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (table_name) DO UPDATE SET target_key = excluded.target_key, last_id = excluded.last_id,
				rewritten = excluded.rewritten, done = excluded.done, updated_at = excluded.updated_at`,
				table, active, last, rewritten, done, opt.Now().UTC())
			return err
		})
		if err != nil {
			return rewritten, err
		}
		if opt.Progress != nil {
			opt.Progress(table, last, rewritten)
		}
	}
	return rewritten, nil
}

// rotateBatch re-seals the rows after id after under the active key and
// returns how many rows it read, the last id read and how many it changed.
// table, key and cols are code constants.
func (db *DB) rotateBatch(ctx context.Context, k *vault.Keyring, table, key string, cols []string, after int64, limit int) (int, int64, int64, error) {
	q := db.writer(ctx)
	rows, err := q.QueryContext(ctx, "SELECT "+key+", "+strings.Join(cols, ", ")+" FROM "+table+
		" WHERE "+key+" > $1 ORDER BY "+key+" LIMIT $2", after, limit)
	if err != nil {
		return 0, after, 0, err
	}
	type row struct {
		id   int64
		vals []string
	}
	var batch []row
	for rows.Next() {
		r := row{vals: make([]string, len(cols))}
		dest := []any{&r.id}
		for i := range r.vals {
			dest = append(dest, &r.vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return 0, after, 0, err
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, after, 0, err
	}
	// UPDATE ... WHERE id = ? AND each column still holds what was read: a
	// row a server changed meanwhile is skipped, never overwritten.
	var set, same []string
	for i, c := range cols {
		set = append(set, c+" = $"+strconv.Itoa(i+1))
		same = append(same, c+" = $"+strconv.Itoa(len(cols)+i+2))
	}
	update := "UPDATE " + table + " SET " + strings.Join(set, ", ") + " WHERE " + key + " = $" + strconv.Itoa(len(cols)+1) +
		" AND " + strings.Join(same, " AND ")
	var changed int64
	for _, r := range batch {
		fresh, stale, err := reseal(k, table, cols, r.vals)
		if err != nil {
			return 0, after, 0, fmt.Errorf("row %d: %w", r.id, err)
		}
		if !stale {
			continue
		}
		args := make([]any, 0, 2*len(cols)+1)
		for _, v := range fresh {
			args = append(args, v)
		}
		args = append(args, r.id)
		for _, v := range r.vals {
			args = append(args, v)
		}
		res, err := q.ExecContext(ctx, update, args...)
		if err != nil {
			return 0, after, 0, fmt.Errorf("row %d: %w", r.id, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			changed++
		}
	}
	if len(batch) > 0 {
		after = batch[len(batch)-1].id
	}
	return len(batch), after, changed, nil
}

// reseal returns the row's values sealed under the active key and whether
// any of them was under another key.
func reseal(k *vault.Keyring, table string, cols, vals []string) ([]string, bool, error) {
	out := make([]string, len(vals))
	stale := false
	for i, v := range vals {
		out[i] = v
		id, err := vault.KeyIDOf(v)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", cols[i], err)
		}
		if v == "" || id == k.ActiveKeyID() {
			continue
		}
		plain, err := k.Decrypt(table+"."+cols[i], v)
		if err != nil {
			return nil, false, err
		}
		if out[i], err = k.Encrypt(table+"."+cols[i], plain); err != nil {
			return nil, false, err
		}
		stale = true
	}
	return out, stale, nil
}

// retireKeys checks that no value is left under another key (a full scan:
// the one place rotation reads whole columns) and then marks every other
// data key retired, so a later start without them is allowed.
func (db *DB) retireKeys(ctx context.Context, active string) ([]string, error) {
	prefix := "v1:" + active + ":"
	for _, t := range rotationTables {
		var conds []string
		for _, c := range t.cols {
			conds = append(conds, "("+c+" <> '' AND substr("+c+", 1, "+strconv.Itoa(len(prefix))+") <> $1)")
		}
		var left int64
		if err := db.reader(ctx).QueryRowContext(ctx, "SELECT count(*) FROM "+t.table+" WHERE "+
			strings.Join(conds, " OR "), prefix).Scan(&left); err != nil {
			return nil, fmt.Errorf("verify %s: %w", t.table, err)
		}
		if left > 0 {
			// Rows written meanwhile under an old key (a server not yet
			// restarted with the new key file): run rotate again.
			return nil, fmt.Errorf("%d rows of %s are still under an older key: restart every server with the new key file and run rotate again", left, t.table)
		}
	}
	var retired []string
	err := db.WithTx(ctx, func(ctx context.Context) error {
		rows, err := db.writer(ctx).QueryContext(ctx, `SELECT key_id FROM vault_keys
			WHERE purpose = 'data' AND key_id <> $1 AND NOT retired ORDER BY key_id`, active)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			retired = append(retired, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = db.writer(ctx).ExecContext(ctx, `UPDATE vault_keys SET retired = TRUE
			WHERE purpose = 'data' AND key_id <> $1`, active)
		return err
	})
	return retired, err
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
