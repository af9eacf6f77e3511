package privacy_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/privacy"
	"kehu/internal/search"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// newService wires a privacy service over the test bank like `kehu serve`.
func newService(b *testkit.Bank, threshold int64) *privacy.Service {
	return privacy.NewService(privacy.Deps{Store: b.DB.Privacy(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB, Config: privacy.Config{BulkThreshold: threshold}})
}

// raw runs fn on the database directly, as an inspector reading raw rows.
func raw(t *testing.T, db *store.DB, fn func(tx *sql.Tx) error) {
	t.Helper()
	if err := db.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// scalar reads one value of a query.
func scalar[T any](t *testing.T, db *store.DB, q string, args ...any) T {
	t.Helper()
	var v T
	raw(t, db, func(tx *sql.Tx) error { return tx.QueryRow(q, args...).Scan(&v) })
	return v
}

// actions returns the audit actions recorded after id, oldest first.
func actions(t *testing.T, db *store.DB, after int64) []string {
	t.Helper()
	var out []string
	raw(t, db, func(tx *sql.Tx) error {
		rows, err := tx.Query("SELECT action FROM audit_log WHERE id > $1 ORDER BY id", after)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out
}

func lastAuditID(t *testing.T, db *store.DB) int64 {
	return scalar[int64](t, db, "SELECT COALESCE(MAX(id), 0) FROM audit_log")
}

func TestRequestsWorkflow(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		s := newService(b, 0)
		a1 := b.Customers["a1"].ID
		hostile := `<script>alert(1)</script>'; DROP TABLE customers; --`
		// A teller at the counter files the request for a customer in scope...
		r, err := s.File(b.As("teller_a"), privacy.NewRequest{Kind: privacy.KindAccess, CustomerID: a1, Notes: hostile})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != privacy.StatusReceived || r.DueOn.String() != "2026-03-23" || r.Notes != hostile {
			t.Fatalf("filed %+v", r)
		}
		// ...but not for one outside it, and cannot handle it.
		if _, err := s.File(b.As("teller_a"), privacy.NewRequest{Kind: privacy.KindAccess, CustomerID: b.Customers["b1"].ID}); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("filing out of scope: %v, want not_found", err)
		}
		for name, call := range map[string]func(ctx context.Context) error{
			"start":  func(ctx context.Context) error { _, err := s.Start(ctx, r.ID); return err },
			"list":   func(ctx context.Context) error { _, err := s.Requests(ctx, privacy.RequestFilter{}); return err },
			"reject": func(ctx context.Context) error { _, err := s.Reject(ctx, r.ID, "no"); return err },
			"export": func(ctx context.Context) error { _, err := s.Export(ctx, a1); return err },
		} {
			for _, user := range []string{"teller_a", "rm_a", "hq_marketing"} {
				if err := call(b.As(user)); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
					t.Errorf("%s as %s: %v, want forbidden", name, user, err)
				}
			}
		}
		if _, err := s.File(b.As("teller_a"), privacy.NewRequest{Kind: "forget_me", CustomerID: a1}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("unknown kind: %v", err)
		}
		ctx := b.As("hq_compliance")
		if r, err = s.Start(ctx, r.ID); err != nil || r.Status != privacy.StatusInProgress || r.HandlerID == nil {
			t.Fatalf("start: %+v %v", r, err)
		}
		if _, err := s.Start(ctx, r.ID); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("second start: %v", err)
		}
		b.Clock.Advance(30 * 24 * time.Hour)
		if r, err = s.Request(ctx, r.ID); err != nil || !r.Overdue {
			t.Fatalf("after 30 days the request should be overdue: %+v %v", r, err)
		}
		if _, err := s.Reject(ctx, r.ID, " "); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("reject without reason: %v", err)
		}
		if r, err = s.Complete(ctx, r.ID, privacy.Completion{}); err != nil || r.Status != privacy.StatusCompleted || r.Overdue {
			t.Fatalf("complete: %+v %v", r, err)
		}
		// The branch manager of another city would not see it; this one does.
		p, err := s.Requests(b.As("branch_manager"), privacy.RequestFilter{})
		if err != nil || len(p.Items) != 1 {
			t.Fatalf("branch manager list: %+v %v", p, err)
		}
		before := lastAuditID(t, db)
		r2, _ := s.File(b.As("rm_a"), privacy.NewRequest{Kind: privacy.KindAccess, CustomerID: a1})
		if _, err := s.Reject(ctx, r2.ID, "identity not verified"); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(actions(t, db, before), ","); got != "privacy.request,privacy.request" {
			t.Errorf("audit of file+reject: %s", got)
		}
	})
}

func TestExportHasTheDataAndIsAudited(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		port := b.AddPortfolio(t)
		s := newService(b, 0)
		a1 := b.Customers["a1"]
		if _, err := s.SetConsents(b.As("rm_a"), a1.ID, []privacy.ConsentChange{{Channel: privacy.ChannelSMS, Granted: true}}, "counter"); err != nil {
			t.Fatal(err)
		}
		before := lastAuditID(t, db)
		e, err := s.Export(b.As("hq_compliance"), a1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Customer.IDNumber != a1.IDNumber || e.Customer.Mobile != a1.Mobile || e.Customer.Name != a1.Name {
			t.Errorf("export is not in clear: %+v", e.Customer)
		}
		if len(e.Accounts) != port.Accounts || len(e.Holdings) != port.Holdings || len(e.Transactions) != port.Transactions {
			t.Errorf("export has %d accounts, %d holdings, %d transactions; want %+v", len(e.Accounts), len(e.Holdings),
				len(e.Transactions), port)
		}
		if len(e.Tags) != 3 || len(e.Relationships) != 3 || len(e.Consents) != 1 || e.Format != privacy.ExportFormat {
			t.Errorf("export tags %d relationships %d consents %d", len(e.Tags), len(e.Relationships), len(e.Consents))
		}
		if !strings.HasPrefix(e.Accounts[0].AccountNo, "622202") {
			t.Errorf("account number not opened: %q", e.Accounts[0].AccountNo)
		}
		if got := strings.Join(actions(t, db, before), ","); got != "customer.export" {
			t.Errorf("export recorded %q, want one customer.export", got)
		}
		// The record says what was handed over, section by section, with
		// no value of it, and the total as its count.
		var changes string
		var count int
		raw(t, db, func(tx *sql.Tx) error {
			return tx.QueryRow("SELECT changes, count FROM audit_log WHERE id > $1", before).Scan(&changes, &count)
		})
		parts, err := audit.DecodeChanges(changes)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("customer=1 accounts=%d holdings=%d transactions=%d relationships=3 tags=3 events=%d interactions=%d "+
			"consents=1 privacy_requests=%d", port.Accounts, port.Holdings, port.Transactions, len(e.Events), len(e.Interactions),
			len(e.Requests))
		var got []string
		for _, c := range parts {
			got = append(got, c.Field+"="+c.New)
			if c.Old != "" {
				t.Errorf("section %s has an old value %q", c.Field, c.Old)
			}
		}
		if strings.Join(got, " ") != want || count != e.Rows() {
			t.Errorf("export record: %s (count %d), want %s (count %d)", strings.Join(got, " "), count, want, e.Rows())
		}
		if strings.Contains(changes, a1.Name) || strings.Contains(changes, a1.Mobile) {
			t.Errorf("the export record holds personal data: %s", changes)
		}
		if _, err := s.Export(b.As("branch_manager"), 999999); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("unknown customer: %v", err)
		}
	})
}

func TestConsentWithdrawIsImmediate(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		s := newService(b, 0)
		a1, a2 := b.Customers["a1"].ID, b.Customers["a2"].ID
		ids := []int64{a1, a2}
		all := []privacy.ConsentChange{{Channel: privacy.ChannelSMS, Granted: true}, {Channel: privacy.ChannelWeChat, Granted: true}}
		if _, err := s.SetConsents(b.As("rm_a"), a1, all, "counter"); err != nil {
			t.Fatal(err)
		}
		got, err := s.Consented(b.As("hq_marketing"), privacy.ChannelSMS, ids)
		if err != nil || !got[a1] || got[a2] {
			t.Fatalf("consented after grant: %v %v", got, err)
		}
		// The call centre may withdraw on the phone but not grant; it reaches
		// the callers by break glass.
		b.BreakGlass(t, "hq_callcenter", a1)
		b.BreakGlass(t, "hq_callcenter", a2)
		if _, err := s.SetConsents(b.As("hq_callcenter"), a2, all, "phone"); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("call centre granting: %v", err)
		}
		cs, err := s.SetConsents(b.As("hq_callcenter"), a1, []privacy.ConsentChange{{Channel: privacy.ChannelSMS}}, "phone")
		if err != nil {
			t.Fatal(err)
		}
		if cs[0].Channel != privacy.ChannelSMS || cs[0].Granted || cs[0].ChangedAt == nil {
			t.Errorf("after withdrawal: %+v", cs[0])
		}
		if got, _ := s.Consented(b.As("hq_marketing"), privacy.ChannelSMS, ids); got[a1] {
			t.Error("withdrawn consent still counts")
		}
		if got, _ := s.Consented(b.As("hq_marketing"), privacy.ChannelWeChat, ids); !got[a1] {
			t.Error("another channel's consent was lost")
		}
		for _, bad := range [][]privacy.ConsentChange{nil, {{Channel: "fax"}}, {{Channel: "sms"}, {Channel: "sms"}}} {
			if _, err := s.SetConsents(b.As("rm_a"), a1, bad, "counter"); kehu.ErrorCode(err) != kehu.EINVALID {
				t.Errorf("%v: %v", bad, err)
			}
		}
		if _, err := s.SetConsents(b.As("rm_a"), b.Customers["b1"].ID, all, "counter"); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("out of scope: %v", err)
		}
	})
}

func TestRectifyGoesThroughValidation(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		s := newService(b, 0)
		a1 := b.Customers["a1"].ID
		ctx := b.As("branch_manager")
		r, err := s.File(ctx, privacy.NewRequest{Kind: privacy.KindRectify, CustomerID: a1, Notes: "wrong e-mail"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Complete(ctx, r.ID, privacy.Completion{}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("rectify without corrections: %v", err)
		}
		bad := "not-an-email"
		if _, err := s.Complete(ctx, r.ID, privacy.Completion{Corrections: &customer.Update{Email: &bad}}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("invalid correction: %v", err)
		}
		if r, _ = s.Request(ctx, r.ID); r.Status != privacy.StatusReceived {
			t.Errorf("a failed rectification changed the request: %s", r.Status)
		}
		good := "zhang.wei@example.cn"
		before := lastAuditID(t, db)
		if r, err = s.Complete(ctx, r.ID, privacy.Completion{Corrections: &customer.Update{Email: &good}}); err != nil || r.Status != privacy.StatusCompleted {
			t.Fatalf("rectify: %+v %v", r, err)
		}
		c, _ := db.Customers().GetCustomer(context.Background(), a1, customer.ScopeFilter{})
		if c.Email != good {
			t.Errorf("email = %q", c.Email)
		}
		if got := strings.Join(actions(t, db, before), ","); got != "customer.update,privacy.rectify,privacy.request" {
			t.Errorf("audit: %s", got)
		}
	})
}

func TestEraseAnonymisesButKeepsAMLRecords(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		port := b.AddPortfolio(t)
		s := newService(b, 0)
		orig := b.Customers["a1"]
		ctx := b.As("branch_manager")
		r, err := s.File(ctx, privacy.NewRequest{Kind: privacy.KindErase, CustomerID: orig.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Complete(ctx, r.ID, privacy.Completion{}); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("erase with open accounts: %v, want conflict", err)
		}
		raw(t, db, func(tx *sql.Tx) error {
			_, err := tx.Exec("UPDATE accounts SET status = 'closed' WHERE customer_id = $1", orig.ID)
			return err
		})
		if r, err = s.Complete(ctx, r.ID, privacy.Completion{}); err != nil || r.Status != privacy.StatusCompleted {
			t.Fatalf("erase: %+v %v", r, err)
		}
		var name, idn, mobile, email, addr, bidx, mbidx, status, retained string
		raw(t, db, func(tx *sql.Tx) error {
			return tx.QueryRow(`SELECT name, id_number, mobile, email, address, id_number_bidx, mobile_bidx, status,
				retained_for FROM customers WHERE id = $1`, orig.ID).
				Scan(&name, &idn, &mobile, &email, &addr, &bidx, &mbidx, &status, &retained)
		})
		if strings.Contains(name, orig.Name) || idn != "" || mobile != "" || email != "" || addr != "" ||
			status != "erased" || retained != privacy.AMLReason || mbidx != "" || !strings.HasPrefix(bidx, "erased:") {
			t.Errorf("raw row after erasure: %q %q %q %q %q %q %q %q %q", name, idn, mobile, email, addr, bidx, mbidx, status, retained)
		}
		kept := scalar[int](t, db, "SELECT count(*) FROM transactions WHERE customer_id = $1", orig.ID)
		flagged := scalar[int](t, db, `SELECT count(*) FROM transactions WHERE customer_id = $1
			AND retained_for = 'aml_retention' AND retained_until IS NOT NULL`, orig.ID)
		tags := scalar[int](t, db, "SELECT count(*) FROM customer_tags WHERE customer_id = $1", orig.ID)
		if kept != port.Transactions || flagged != kept || tags != 0 {
			t.Errorf("transactions kept %d flagged %d (want %d), tags left %d", kept, flagged, port.Transactions, tags)
		}
		rels := scalar[int](t, db, "SELECT count(*) FROM relationships WHERE from_customer_id = $1 AND kind IN ('spouse','sibling')", orig.ID)
		kept = scalar[int](t, db, "SELECT count(*) FROM relationships WHERE from_customer_id = $1 AND retained_for = 'aml_retention'", orig.ID)
		if rels != 0 || kept != 1 {
			t.Errorf("family relationships left: %d", rels)
		}
		// Not found again by ID number, mobile, name, initials or full
		// pinyin (name_key and name_pinyin follow the erased name).
		if py := scalar[string](t, db, "SELECT name_pinyin FROM customers WHERE id = $1", orig.ID); py != search.NamePinyin(name) {
			t.Errorf("name_pinyin after erasure %q, want %q", py, search.NamePinyin(name))
		}
		cs := b.CustomerService()
		for _, q := range []string{orig.IDNumber, orig.Mobile, orig.Name, "zw", "zhangwei"} {
			p, err := cs.List(b.As("admin"), customer.Filter{Query: q})
			if err != nil || len(p.Items) != 0 {
				t.Errorf("search %.3s after erasure found %d: %v", q, len(p.Items), err)
			}
		}
		if _, err := s.File(ctx, privacy.NewRequest{Kind: privacy.KindErase, CustomerID: orig.ID}); err != nil {
			t.Fatal(err)
		}
		// Companies are not data subjects.
		rc, _ := s.File(ctx, privacy.NewRequest{Kind: privacy.KindErase, CustomerID: b.Customers["corp_a"].ID})
		if _, err := s.Complete(ctx, rc.ID, privacy.Completion{}); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Errorf("erasing a company: %v", err)
		}
	})
}

func TestBulkExportNeedsApprovalAboveThreshold(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		s := newService(b, 2)
		rm := b.As("rm_a")
		sink := func(customer.Customer) error { return nil }
		_, err := s.BulkExport(rm, customer.Filter{}, sink)
		var need *privacy.ApprovalRequiredError
		if !errors.As(err, &need) || kehu.ErrorCode(err) != kehu.EFORBIDDEN || need.Customers != 3 {
			t.Fatalf("over threshold without approval: %v", err)
		}
		alerts, err := s.Alerts(b.As("hq_compliance"), privacy.AlertFilter{})
		if err != nil || len(alerts.Items) != 1 || alerts.Items[0].Kind != privacy.AlertBulkRefused || alerts.Items[0].Username != "rm_a" {
			t.Fatalf("alerts: %+v %v", alerts, err)
		}
		if _, err := s.Alerts(rm, privacy.AlertFilter{}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("rm reading alerts: %v", err)
		}
		ap, err := s.RequestApproval(rm, "year-end review of my book", 10)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Decide(b.As("rm_a"), ap.ID, true, ""); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("rm approving: %v", err)
		}
		if _, err := s.Decide(b.As("branch_manager"), ap.ID, true, "ok"); err != nil {
			t.Fatal(err)
		}
		var got []customer.Customer
		n, err := s.BulkExport(rm, customer.Filter{}, func(c customer.Customer) error { got = append(got, c); return nil })
		if err != nil || n != 3 || len(got) != 3 {
			t.Fatalf("approved export: %d %v", n, err)
		}
		// The approval is used up.
		if _, err := s.BulkExport(rm, customer.Filter{}, sink); !errors.Is(err, privacy.ErrApprovalRequired) {
			t.Errorf("second export on a used approval: %v", err)
		}
		// Under the threshold per request, but the day's total counts.
		s10 := newService(b, 4)
		if _, err := s10.BulkExport(b.As("rm_a2"), customer.Filter{}, sink); err != nil {
			t.Errorf("one customer under a threshold of 4: %v", err)
		}
		if _, err := s10.BulkExport(rm, customer.Filter{}, sink); !errors.Is(err, privacy.ErrApprovalRequired) {
			t.Errorf("rm_a was shown 3 today already; 3 more cross 4: %v", err)
		}
	})
}
