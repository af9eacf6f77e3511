package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
)

// TestStmtCacheEvictsAndStaysUsable fills a two-entry cache with three
// statements while other goroutines keep using them: the least recently
// used is evicted and closed only when no call is running on it, and every
// call still answers.
func TestStmtCacheEvictsAndStaysUsable(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.write.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')"); err != nil {
		t.Fatal(err)
	}
	c := newStmtCache(db.read, 2)
	defer c.close()
	queries := []string{"SELECT v FROM t WHERE id = $1", "SELECT v FROM t WHERE id = $1 AND 1 = 1",
		"SELECT v FROM t WHERE id = $1 AND 2 = 2"}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 6 {
		wg.Go(func() {
			q := hotQuerier{cache: c}
			for i := range 50 {
				var v string
				id := (w+i)%3 + 1
				if err := q.QueryRowContext(ctx, queries[(w*7+i)%3], id).Scan(&v); err != nil {
					errs <- err
					return
				}
				if want := string(rune('a' + id - 1)); v != want {
					errs <- &mismatch{want, v}
					return
				}
				rows, err := q.QueryContext(ctx, queries[i%3], id)
				if err != nil {
					errs <- err
					return
				}
				for rows.Next() {
				}
				if err := rows.Close(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Entries != 2 || st.Evictions == 0 || st.Hits == 0 {
		t.Fatalf("stats %+v: want 2 entries, evictions and hits", st)
	}
	if st.Prepares-st.Evictions != st.Entries {
		t.Fatalf("stats %+v: prepares less evictions must be the entries", st)
	}
}

// TestHotQuerierInTransaction checks the transaction path: a statement not
// cached yet runs unprepared and is prepared once WithTx has ended; inside a
// later transaction the cached statement runs on the transaction's
// connection and sees its uncommitted writes; a query iterated while the
// same query runs again (nested) is not disturbed.
func TestHotQuerierInTransaction(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.write.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	const ins = "INSERT INTO t (id, v) VALUES ($1, $2)"
	const get = "SELECT v FROM t WHERE id = $1"
	err = db.WithTx(ctx, func(ctx context.Context) error {
		_, err := db.hotWriter(ctx).ExecContext(ctx, ins, 1, "a")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := db.writeStmts.Stats(); st.Prepares != 1 || st.Hits != 0 {
		t.Fatalf("after the first transaction: %+v, want the insert prepared afterwards", st)
	}
	err = db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := db.hotWriter(ctx).ExecContext(ctx, ins, 2, "b"); err != nil {
			return err
		}
		var v string
		if err := db.hotReader(ctx).QueryRowContext(ctx, get, 2).Scan(&v); err != nil || v != "b" {
			t.Errorf("read of the transaction's own write: %q %v", v, err)
		}
		// The same multi-row query, nested while the first is open.
		outer, err := db.hotReader(ctx).QueryContext(ctx, "SELECT id FROM t ORDER BY id")
		if err != nil {
			return err
		}
		defer outer.Close()
		var seen []int
		for outer.Next() {
			var id int
			if err := outer.Scan(&id); err != nil {
				return err
			}
			seen = append(seen, id)
			inner, err := db.hotReader(ctx).QueryContext(ctx, "SELECT id FROM t ORDER BY id")
			if err != nil {
				return err
			}
			for inner.Next() {
			}
			inner.Close()
		}
		if len(seen) != 2 {
			t.Errorf("outer query saw %v, want both rows", seen)
		}
		return outer.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := db.writeStmts.Stats(); st.Hits < 1 {
		t.Fatalf("second transaction's insert did not use the cache: %+v", st)
	}
	var v string
	if err := db.hotReader(ctx).QueryRowContext(ctx, get, 2).Scan(&v); err != nil || v != "b" {
		t.Fatalf("committed row: %q %v", v, err)
	}
}

type mismatch struct{ want, got string }

func (m *mismatch) Error() string { return "want " + m.want + ", got " + m.got }
