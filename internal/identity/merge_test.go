package identity_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/identity"
	"kehu/internal/ingest"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// mergeFixture is the test bank with a1's portfolio and a duplicate of a1
// (same name, a passport instead of the resident ID, an e-mail and address
// a1 lacks) owning one of every kind of row, queued as a suspected pair.
type mergeFixture struct {
	bank   *testkit.Bank
	raw    *sql.DB
	merger *identity.Merger
	a1     customer.Customer
	dup    customer.Customer
	pair   int64
}

func newMergeFixture(t *testing.T, db *store.DB, raw *sql.DB) *mergeFixture {
	t.Helper()
	b := testkit.NewBank(t, db)
	b.AddPortfolio(t)
	f := &mergeFixture{bank: b, raw: raw, merger: b.Merger(), a1: b.Customers["a1"]}
	owner := b.Users["rm_a"].ID
	dup, err := b.CustomerService().Create(b.As("admin"), customer.New{Type: customer.Individual, Name: "张伟",
		IDType: customer.Passport, IDNumber: "E12345678", Gender: "M", Mobile: "13800000001",
		Email: "zhang.wei@example.cn", Address: "浙江省杭州市西湖区文三路1号", OrgID: b.OutletA.ID, OwnerID: &owner})
	if err != nil {
		t.Fatal(err)
	}
	f.dup = dup
	f.plantRows(t)
	f.pair = f.queue(t, f.a1.ID, dup.ID)
	return f
}

// plantRows gives the duplicate rows of every table a merge touches, some
// of which conflict with a1's.
func (f *mergeFixture) plantRows(t *testing.T) {
	t.Helper()
	b, d, a1 := f.bank, f.dup.ID, f.a1.ID
	a2, b1 := b.Customers["a2"].ID, b.Customers["b1"].ID
	now := b.Clock.Now()
	sealed, index, err := b.DB.SealAccountNo(testkit.AccountNo(10))
	if err != nil {
		t.Fatal(err)
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO accounts (id, customer_id, product_id, account_no, account_no_bidx, balance, status, org_id, opened_on)
			VALUES (10, $1, 1, $2, $3, 880000, 'active', $4, '2021-04-01')`, []any{d, sealed, index, b.OutletA.ID}},
		{`INSERT INTO holdings (customer_id, account_id, product_id, amount, cost, acquired_on) VALUES ($1, 10, 3, 500000, 500000, '2025-01-02')`, []any{d}},
		{`INSERT INTO transactions (account_id, customer_id, occurred_at, amount, balance_after, kind, channel)
			VALUES (10, $1, $2, 1000, 880000, 'deposit', 'counter'), (10, $1, $3, -500, 879500, 'payment', 'mobile')`,
			[]any{d, now.Add(-48 * time.Hour), now.Add(-24 * time.Hour)}},
		// spouse a2 duplicates a1's own (stays), parent of b1 moves, child
		// a2 (the other direction) moves, sibling a1 would point at itself (stays).
		{`INSERT INTO relationships (from_customer_id, to_customer_id, kind, created_at) VALUES
			($1, $2, 'spouse', $5), ($1, $3, 'parent', $5), ($2, $1, 'child', $5), ($1, $4, 'sibling', $5)`,
			[]any{d, a2, b1, a1, now}},
		{`INSERT INTO channel_events (customer_id, occurred_at, channel, kind, detail) VALUES
			($1, $2, 'mobile_app', 'app_login', '{"device":"iPhone"}'), ($1, $2, 'branch', 'branch_visit', NULL)`,
			[]any{d, now.Add(-time.Hour)}},
		{`INSERT INTO interactions (customer_id, user_id, occurred_at, channel, purpose, response, note)
			VALUES ($1, $2, $3, 'phone', '理财到期提醒', 'interested', '客户有意向')`, []any{d, b.Users["rm_a"].ID, now}},
		{`INSERT INTO tags (id, name, kind) VALUES (4, '高净值潜客', 'manual')`, nil},
		{`INSERT INTO customer_tags (customer_id, tag_id, created_at, reason) VALUES ($1, 1, $2, ''), ($1, 4, $2, '网点推荐')`,
			[]any{d, now}},
		// a1 granted SMS earlier; the duplicate withdrew it later (the later
		// statement wins); e-mail consent exists only on the duplicate.
		{`INSERT INTO customer_consents (customer_id, channel, granted, changed_at, source) VALUES
			($1, 'sms', TRUE, $3, 'branch_form'), ($2, 'sms', FALSE, $4, 'phone'), ($2, 'email', TRUE, $4, 'app')`,
			[]any{a1, d, now.Add(-72 * time.Hour), now.Add(-2 * time.Hour)}},
		{`INSERT INTO customer_preferences (customer_id, preferred_channel, contact_time, note, updated_at)
			VALUES ($1, 'phone', '工作日晚上', '', $2)`, []any{d, now}},
		{`INSERT INTO customer_sources (source_system, source_id, customer_id, origin, matched_by, observed_at, linked_at) VALUES
			('core_banking', 'C-0001', $1, TRUE, 'created', $3, $3),
			('crm_legacy', 'L-0009', $2, TRUE, 'created', $4, $4),
			('cards', 'K-0003', $2, FALSE, 'name_mobile_birth', $4, $4)`,
			[]any{a1, d, now.Add(-96 * time.Hour), now.Add(-50 * time.Hour)}},
		{`INSERT INTO customer_field_provenance (customer_id, field, source_system, set_at) VALUES ($1, 'address', 'cards', $2)`,
			[]any{d, now.Add(-30 * time.Hour)}},
	}
	for _, s := range stmts {
		if _, err := f.raw.Exec(s.q, s.args...); err != nil {
			t.Fatalf("%s: %v", s.q, err)
		}
	}
}

// queue files a suspected pair, as the import's resolution does.
func (f *mergeFixture) queue(t *testing.T, x, y int64) int64 {
	t.Helper()
	x, y = min(x, y), max(x, y)
	var id int64
	err := f.raw.QueryRow(`INSERT INTO duplicate_candidates (customer_id, other_id, rule, score, evidence, status, created_at)
		VALUES ($1, $2, 'name_mobile', 80, 'name,mobile', 'pending', $3) RETURNING id`, x, y, f.bank.Clock.Now()).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// snapshot returns every row of every table but the audit trail and the
// merge log, as text, per table.
func snapshot(t *testing.T, raw *sql.DB, engine string) map[string][]string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if engine == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	tables := column[string](t, raw, q)
	out := map[string][]string{}
	for _, table := range tables {
		switch table {
		case "audit_log", "audit_chain", "customer_merges", "customer_merge_moves":
			continue
		}
		rows, err := raw.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				fmt.Fprintf(&b, "%s=%v|", cols[i], v)
			}
			out[table] = append(out[table], b.String())
		}
		rows.Close()
		sort.Strings(out[table])
	}
	return out
}

func column[T any](t *testing.T, raw *sql.DB, q string, args ...any) []T {
	t.Helper()
	rows, err := raw.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func diffSnapshots(t *testing.T, before, after map[string][]string) {
	t.Helper()
	for table, rows := range before {
		if !slices.Equal(rows, after[table]) {
			t.Errorf("%s differs after undo:\nbefore %v\nafter  %v", table, rows, after[table])
		}
	}
	for table := range after {
		if _, ok := before[table]; !ok {
			t.Errorf("table %s appeared", table)
		}
	}
}

func count(t *testing.T, raw *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func engineOf(t *testing.T) string {
	if strings.HasSuffix(t.Name(), "/postgres") {
		return "postgres"
	}
	return "sqlite"
}

func TestMergeMovesEverythingAndUndoRestoresExactly(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newMergeFixture(t, db, raw)
		a1, d := f.a1.ID, f.dup.ID
		before := snapshot(t, raw, engineOf(t))
		f.bank.Clock.Advance(time.Minute)
		ctx := f.bank.As("branch_manager")
		m, err := f.merger.Merge(ctx, f.pair, a1, "同一客户：护照与身份证两条记录")
		if err != nil {
			t.Fatal(err)
		}
		// The tombstone.
		var into sql.NullInt64
		var status string
		if err := raw.QueryRow(`SELECT merged_into, status FROM customers WHERE id = $1`, d).Scan(&into, &status); err != nil ||
			into.Int64 != a1 || status != identity.StatusMerged {
			t.Fatalf("tombstone: %v %q %v", into, status, err)
		}
		// Every row of the duplicate moved, except those that would
		// duplicate a1's own or point a1 at itself.
		left := map[string]int{
			"accounts": 0, "holdings": 0, "transactions": 0, "channel_events": 0, "interactions": 0,
			"customer_preferences": 0, "customer_sources": 0,
		}
		for table, want := range left {
			if n := count(t, raw, "SELECT count(*) FROM "+table+" WHERE customer_id = $1", d); n != want {
				t.Errorf("%s: %d rows left on the tombstone, want %d", table, n, want)
			}
		}
		if n := count(t, raw, `SELECT count(*) FROM relationships WHERE from_customer_id = $1 OR to_customer_id = $1`, d); n != 2 {
			t.Errorf("%d relationships left on the tombstone, want 2 (the duplicate spouse and the sibling of a1)", n)
		}
		if n := count(t, raw, `SELECT count(*) FROM relationships WHERE from_customer_id = to_customer_id`); n != 0 {
			t.Error("a relationship links a customer to itself")
		}
		if n := count(t, raw, `SELECT count(*) FROM customer_tags WHERE customer_id = $1`, d); n != 1 {
			t.Errorf("tags on the tombstone: %d, want 1 (the one a1 carries too)", n)
		}
		if n := count(t, raw, `SELECT count(*) FROM customer_tags WHERE customer_id = $1 AND tag_id = 4`, a1); n != 1 {
			t.Error("tag 4 did not move")
		}
		var sms bool
		if err := raw.QueryRow(`SELECT granted FROM customer_consents WHERE customer_id = $1 AND channel = 'sms'`, a1).Scan(&sms); err != nil || sms {
			t.Errorf("the later SMS withdrawal was not honoured: %v %v", sms, err)
		}
		if n := count(t, raw, `SELECT count(*) FROM customer_consents WHERE customer_id = $1 AND channel = 'email'`, a1); n != 1 {
			t.Error("the e-mail consent did not move")
		}
		if n := count(t, raw, `SELECT count(*) FROM customer_sources WHERE customer_id = $1 AND origin`, a1); n != 1 {
			t.Errorf("a1 has %d origin records, want its own only", n)
		}
		// a1 lacked an e-mail and an address: they come from the duplicate,
		// with their provenance (explicit for the address, the duplicate's
		// origin record for the e-mail).
		got, err := db.Customers().GetCustomer(context.Background(), a1, customer.ScopeFilter{})
		if err != nil || got.Email != "zhang.wei@example.cn" || got.Address == "" || got.Mobile != f.a1.Mobile {
			t.Fatalf("survivor after merge: %+v %v", got, err)
		}
		if !slices.Equal(m.Fields, []string{identity.FieldEmail, identity.FieldAddress}) {
			t.Errorf("filled %v", m.Fields)
		}
		prov := column[string](t, raw, `SELECT field || ':' || source_system FROM customer_field_provenance
			WHERE customer_id = $1 ORDER BY field`, a1)
		if !slices.Equal(prov, []string{"address:cards", "email:crm_legacy"}) {
			t.Errorf("provenance of the filled fields: %v", prov)
		}
		if m.Moved["accounts"] != 1 || m.Moved["transactions"] != 2 || m.Moved["relationships"] != 2 || m.Moved["customer_tags"] != 1 {
			t.Errorf("moved %v", m.Moved)
		}
		// One audit record, with old → new.
		recs, err := db.Audit().SearchRecords(context.Background(), audit.Filter{Action: identity.AuditMerge}, 10)
		if err != nil || len(recs) != 1 || recs[0].CustomerID != a1 || recs[0].Reason == "" {
			t.Fatalf("merge audit %+v %v", recs, err)
		}
		changes := map[string]audit.Change{}
		for _, c := range recs[0].Changes {
			changes[c.Field] = c
		}
		if c := changes["merged_into"]; c.New != fmt.Sprint(a1) {
			t.Errorf("audit merged_into %+v", c)
		}
		if c := changes["email"]; c.Old != "" || c.New == "" || c.New == "zhang.wei@example.cn" {
			t.Errorf("audit e-mail must be old → new, masked: %+v", c)
		}

		f.bank.Clock.Advance(time.Minute)
		undone, err := f.merger.Undo(ctx, m.ID, "误合并")
		if err != nil {
			t.Fatal(err)
		}
		if undone.Status != identity.MergeUndone || undone.UndoneAt == nil {
			t.Fatalf("undo answered %+v", undone)
		}
		diffSnapshots(t, before, snapshot(t, raw, engineOf(t)))
		if n := count(t, raw, `SELECT count(*) FROM audit_log WHERE action = $1`, identity.AuditUnmerge); n != 1 {
			t.Errorf("%d unmerge audit records", n)
		}
	})
}

func TestMergeConflictsAndScope(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newMergeFixture(t, db, raw)
		mgr := f.bank.As("branch_manager")
		code := func(err error) string { return kehu.ErrorCode(err) }
		if _, err := f.merger.Merge(mgr, f.pair, f.bank.Customers["b1"].ID, ""); code(err) != kehu.EINVALID {
			t.Errorf("a survivor outside the pair: %v", err)
		}
		if _, err := f.merger.Merge(f.bank.As("rm_a"), f.pair, f.a1.ID, ""); code(err) != kehu.EFORBIDDEN {
			t.Errorf("an RM merged: %v", err)
		}
		m, err := f.merger.Merge(mgr, f.pair, f.dup.ID, "") // the other direction is the reviewer's choice
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.merger.Merge(mgr, f.pair, f.dup.ID, ""); code(err) != kehu.ECONFLICT {
			t.Errorf("second merge of the pair: %v", err)
		}
		if _, err := f.merger.Dismiss(mgr, f.pair, "复核"); code(err) != kehu.ECONFLICT {
			t.Errorf("dismissing a merged pair: %v", err)
		}
		// An erased customer is not merged.
		erased := f.queue(t, f.bank.Customers["a3"].ID, f.bank.Customers["a2"].ID)
		if _, err := raw.Exec(`UPDATE customers SET status = 'erased' WHERE id = $1`, f.bank.Customers["a3"].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.merger.Merge(mgr, erased, f.bank.Customers["a2"].ID, ""); code(err) != kehu.ECONFLICT {
			t.Errorf("merging an erased customer: %v", err)
		}
		// Another pair with the tombstone cannot be merged.
		other := f.queue(t, f.a1.ID, f.bank.Customers["a2"].ID)
		if _, err := f.merger.Merge(mgr, other, f.bank.Customers["a2"].ID, ""); code(err) != kehu.ECONFLICT {
			t.Errorf("merging a tombstone again: %v", err)
		}
		if _, err := f.merger.Undo(mgr, m.ID, "复核"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.merger.Undo(mgr, m.ID, "复核"); code(err) != kehu.ECONFLICT {
			t.Errorf("undo of an undone merge: %v", err)
		}
		// Undo put the pair back in the queue; dismissing it keeps it out.
		c, err := f.merger.Dismiss(mgr, f.pair, "不是同一人")
		if err != nil || c.Status != identity.DupDismissed {
			t.Fatalf("dismiss: %+v %v", c, err)
		}
		if _, err := f.merger.Merge(mgr, f.pair, f.a1.ID, ""); code(err) != kehu.ECONFLICT {
			t.Errorf("merging a dismissed pair: %v", err)
		}
		// A customer homed at the provincial branch is outside the city
		// manager's subtree: the pair is not found, for the admin it is.
		owner := f.bank.Users["rm_a"].ID
		far, err := f.bank.CustomerService().Create(f.bank.As("admin"), customer.New{Type: customer.Individual, Name: "张伟",
			IDType: customer.Passport, IDNumber: "G99887766", Gender: "M", OrgID: f.bank.Province.ID, OwnerID: &owner})
		if err != nil {
			t.Fatal(err)
		}
		outside := f.queue(t, f.a1.ID, far.ID)
		if _, err := f.merger.Merge(mgr, outside, f.a1.ID, ""); code(err) != kehu.ENOTFOUND {
			t.Errorf("merging out of scope: %v", err)
		}
		if _, err := f.merger.Pair(mgr, outside); code(err) != kehu.ENOTFOUND {
			t.Errorf("reading a pair out of scope: %v", err)
		}
		pairs, _, err := f.merger.Pairs(mgr, identity.DuplicateFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pairs {
			if p.ID == outside {
				t.Error("the out-of-scope pair is listed")
			}
		}
		am, err := f.merger.Merge(f.bank.As("admin"), outside, f.a1.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.merger.Undo(mgr, am.ID, "复核"); code(err) != kehu.ENOTFOUND {
			t.Errorf("undo of an out-of-scope merge: %v", err)
		}
	})
}

func TestUndoRefusedWhenTheSurvivorWasMergedSince(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newMergeFixture(t, db, raw)
		mgr := f.bank.As("branch_manager")
		first, err := f.merger.Merge(mgr, f.pair, f.a1.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		next := f.queue(t, f.a1.ID, f.bank.Customers["a2"].ID)
		second, err := f.merger.Merge(mgr, next, f.bank.Customers["a2"].ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.merger.Undo(mgr, first.ID, "复核"); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("undo under a later merge: %v", err)
		}
		// Events fed for the first tombstone reach the last survivor.
		ids, err := db.Ingest().ResolveCustomers(context.Background(), []ingest.CustomerRef{{ID: f.dup.ID}}, customer.ScopeFilter{})
		if err != nil || len(ids) != 1 || ids[0] != f.bank.Customers["a2"].ID {
			t.Fatalf("a chain of merges resolves to %v (%v), want a2", ids, err)
		}
		if _, err := f.merger.Undo(mgr, second.ID, "复核"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.merger.Undo(mgr, first.ID, "复核"); err != nil {
			t.Fatalf("undo in reverse order: %v", err)
		}
	})
}

func TestPairsShowBothCustomersMasked(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newMergeFixture(t, db, raw)
		pairs, next, err := f.merger.Pairs(f.bank.As("branch_manager"), identity.DuplicateFilter{Status: identity.DupPending})
		if err != nil || next != 0 || len(pairs) != 1 {
			t.Fatalf("%+v %d %v", pairs, next, err)
		}
		p := pairs[0]
		left, right := p.Subjects[0], p.Subjects[1]
		if left.Customer.ID != f.a1.ID || right.Customer.ID != f.dup.ID {
			t.Fatalf("order %d %d", left.Customer.ID, right.Customer.ID)
		}
		if left.Customer.IDNumber == f.a1.IDNumber || len(left.Customer.Masked) == 0 {
			t.Errorf("the ID number is shown in clear to a branch manager: %+v", left.Customer)
		}
		if left.Records["accounts"] != 3 || right.Records["accounts"] != 1 || right.Records["relationships"] != 4 {
			t.Errorf("records %v %v", left.Records, right.Records)
		}
		if n := count(t, raw, `SELECT count(*) FROM audit_log WHERE action = $1 AND count = 2`, identity.AuditDuplicateList); n != 1 {
			t.Errorf("%d list audit records", n)
		}
	})
}

// TestMergeKnowsEveryCustomerReference reads the schema's foreign keys to
// customers: each must be moved by a merge or listed as kept, with a reason.
func TestMergeKnowsEveryCustomerReference(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		var refs []string
		if engineOf(t) == "postgres" {
			refs = column[string](t, raw, `SELECT c.conrelid::regclass::text || '.' || a.attname FROM pg_constraint c
				JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
				WHERE c.contype = 'f' AND c.confrelid = 'customers'::regclass`)
		} else {
			for _, table := range column[string](t, raw, `SELECT name FROM sqlite_master WHERE type = 'table'`) {
				refs = append(refs, column[string](t, raw, `SELECT $1 || '.' || "from" FROM pragma_foreign_key_list($1)
					WHERE "table" = 'customers'`, table)...)
			}
		}
		known := map[string]bool{}
		for _, r := range store.MovedByMerge() {
			known[r] = true
		}
		for r := range store.KeptByMerge {
			known[r] = true
		}
		for _, r := range refs {
			if !known[r] {
				t.Errorf("%s references customers: decide whether a merge moves it (store/merge.go)", r)
			}
		}
	})
}
