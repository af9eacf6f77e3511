package ingest_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"kehu/internal/cnid"
	"kehu/internal/customer"
	"kehu/internal/ingest"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// rid completes a resident ID number from its first 17 digits.
func rid(first17 string) string {
	c, err := cnid.ResidentCheckDigit(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

func (f *fixture) feed(t *testing.T, kind ingest.Kind, key string, lines ...any) ingest.Result {
	t.Helper()
	res, err := f.svc.Ingest(f.bank.As("admin"), ingest.Batch{Kind: kind, Key: key, Body: ndjson(t, lines...)})
	if err != nil {
		t.Fatalf("%s batch: %v", kind, err)
	}
	return res
}

func errorOn(res ingest.Result, line int, field, reason string) bool {
	for _, e := range res.Errors {
		if e.Line == line && e.Field == field && strings.Contains(e.Reason, reason) {
			return true
		}
	}
	return false
}

// TestUpsertFeedsReuseTheImport feeds customers, accounts and transactions
// as JSON lines: they are validated and applied exactly as import rows, a
// re-sent record changes nothing and counts as a duplicate, and an account
// balance moves the customer's AUM after commit.
func TestUpsertFeedsReuseTheImport(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{})
		ctx := context.Background()
		chen := map[string]any{"source_system": "core_banking", "source_id": "CIF-001", "name": "陈明",
			"id_number": rid("33010619800101001"), "mobile": "13911112222", "org_id": "HZ-A", "owner_id": "rm_a"}
		zhou := map[string]any{"source_system": "core_banking", "source_id": "CIF-002", "name": "周一",
			"id_number": rid("33010619800101002"), "mobile": "1391111", "org_id": "HZ-A"}
		res := f.feed(t, ingest.Customers, "c-1", chen, zhou,
			map[string]any{"source_system": "core_banking", "source_id": "CIF-003", "name": "吴三", "colour": "red"},
			map[string]any{"source_id": "CIF-004", "name": "郑四"},
			map[string]any{"source_system": "mainframe", "source_id": "CIF-005", "name": "王五", "id_number": rid("33010619800101005"), "org_id": "HZ-A"},
			map[string]any{"source_system": "core_banking", "source_id": "CIF-006", "name": []int{1}})
		if res.Accepted != 1 || res.Rejected != 5 || res.Duplicates != 0 {
			t.Fatalf("customers %+v", res)
		}
		for _, want := range []struct {
			line          int
			field, reason string
		}{{2, "mobile", "11 digits"}, {3, "colour", "not a known field"}, {4, "source_system", "is required"},
			{5, "source_system", "not a configured"}, {6, "name", "must be a string"}} {
			if !errorOn(res, want.line, want.field, want.reason) {
				t.Errorf("no error %+v in %+v", want, res.Errors)
			}
		}
		if res.Errors[0].Key != "CIF-002" {
			t.Errorf("error key %q, want the source id", res.Errors[0].Key)
		}
		var chenID int64
		if err := raw.QueryRow(`SELECT customer_id FROM customer_sources WHERE source_system = 'core_banking'
			AND source_id = 'CIF-001'`).Scan(&chenID); err != nil {
			t.Fatal(err)
		}
		// The same record again changes nothing; a new mobile updates it.
		if res = f.feed(t, ingest.Customers, "", chen); res.Duplicates != 1 || res.Accepted != 0 {
			t.Fatalf("re-sent customer %+v", res)
		}
		chen["mobile"] = "13911113333"
		if res = f.feed(t, ingest.Customers, "", chen); res.Accepted != 1 {
			t.Fatalf("changed customer %+v", res)
		}
		got, err := db.Customers().GetCustomer(ctx, chenID, customer.ScopeFilter{})
		if err != nil || got.Mobile != "13911113333" {
			t.Fatalf("after the update: %q %v", got.Mobile, err)
		}

		account := map[string]any{"source_system": "core_banking", "account_no": "6222021000000101",
			"customer_source_id": "CIF-001", "product_code": "CUR01", "balance": 125000.5, "opened_on": "2024-01-02"}
		res = f.feed(t, ingest.Accounts, "a-1", account,
			map[string]any{"source_system": "core_banking", "account_no": "6222021000000102", "customer_source_id": "NOBODY",
				"product_code": "CUR01", "balance": "1", "opened_on": "2024-01-02"})
		if res.Accepted != 1 || res.Rejected != 1 || !errorOn(res, 2, "customer_source_id", "no customer") {
			t.Fatalf("accounts %+v", res)
		}
		if strings.Contains(res.Errors[0].Reason, "6222021000000102") || res.Errors[0].Key != "" {
			t.Errorf("an account number in clear in the report: %+v", res.Errors[0])
		}
		if aum := customerAUM(t, raw, chenID); aum != 12_500_050 {
			t.Errorf("AUM after the account %d, want ¥125,000.50", aum)
		}
		if last := f.got[len(f.got)-1]; last.Kind != ingest.Accounts || len(last.CustomerIDs) != 1 || last.CustomerIDs[0] != chenID {
			t.Errorf("subscribers told %+v", last)
		}
		told := len(f.got)
		if res = f.feed(t, ingest.Accounts, "", account); res.Duplicates != 1 {
			t.Fatalf("re-sent account %+v", res)
		}
		if len(f.got) != told {
			t.Errorf("a batch that changed nothing was announced: %+v", f.got[len(f.got)-1])
		}

		txn := map[string]any{"source_system": "core_banking", "reference": "T-9001", "account_no": "6222021000000101",
			"occurred_at": "2026-03-01 10:00:00", "amount": "500.00", "direction": "借", "kind": "transfer_out", "channel": "手机银行"}
		if res = f.feed(t, ingest.Transactions, "", txn, txn); res.Accepted != 1 || res.Rejected != 1 ||
			!errorOn(res, 2, "reference", "line 1") || res.Errors[0].Key != "T-9001" {
			t.Fatalf("transactions %+v", res)
		}
		if res = f.feed(t, ingest.Transactions, "", txn); res.Duplicates != 1 {
			t.Fatalf("re-sent transaction %+v", res)
		}
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM transactions WHERE customer_id = $1`, chenID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d transactions stored (%v), want 1", n, err)
		}
		// One audit record per batch, besides the import's own per-customer
		// record of the changed customer (old → new).
		var batches int
		if err := raw.QueryRow(`SELECT count(*) FROM audit_log WHERE action = $1`, ingest.AuditBatch).Scan(&batches); err != nil || batches != 7 {
			t.Errorf("%d batch audit records, want 7", batches)
		}
	})
}

func TestUpsertLinesThatAreNotObjects(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		f := newFixture(t, db, raw, ingest.Config{})
		_, err := f.svc.Ingest(f.bank.As("admin"), ingest.Batch{Kind: ingest.Customers, Body: []byte("[1]\nnope\n\"x\"\n")})
		if kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("nothing parsed: %v", err)
		}
		res := f.feed(t, ingest.Holdings, "", "{}", `{"source_system":"wealth"} {}`)
		if res.Rejected != 2 || !errorOn(res, 1, "source_system", "required") || !errorOn(res, 2, "", "exactly one") {
			t.Fatalf("%+v", res)
		}
	})
}

func customerAUM(t *testing.T, raw *sql.DB, id int64) int64 {
	t.Helper()
	var aum int64
	if err := raw.QueryRow(`SELECT aum FROM customers WHERE id = $1`, id).Scan(&aum); err != nil {
		t.Fatal(err)
	}
	return aum
}
