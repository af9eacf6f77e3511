package importer_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"kehu/internal/customer"
	"kehu/internal/importer"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// xlsxBytes writes rows into a workbook's first sheet.
func xlsxBytes(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (h *harness) aum(id int64) int64 {
	h.t.Helper()
	var n int64
	if err := h.raw.QueryRow("SELECT aum FROM customers WHERE id = $1", id).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func TestAssetKinds(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		h.bank.AddPortfolio(t)
		a1, b1 := h.bank.Customers["a1"], h.bank.Customers["b1"]
		h.run(importer.KindCustomers, "core_banking", "c.csv", csvBytes([][]string{personHeader,
			{"K-1", "郑凯", rid("33010619910909001"), "13600000001", "", "HZ-A", ""}}))
		k1 := h.customerBySource("core_banking", "K-1")

		// Accounts as XLSX: numbers as text, an Excel date serial, amounts
		// in 万 and with a currency sign.
		accounts := [][]any{{"账号", "客户号", "证件号码", "产品代码", "余额", "开户日期", "状态"},
			{"6222021000000001", "K-1", "", "CUR01", "12.5万", 45122, "正常"},
			{"6222021000000002", "", a1.IDNumber, "TD12", "¥50,000.00", "2024-01-02", ""},
			{testkit.AccountNo(1), "", a1.IDNumber, "CUR01", "200.00", "2019-05-06", ""},
			{"6222021000000003", "NOBODY", "", "CUR01", "1", "2024-01-02", ""},
			{testkit.AccountNo(4), "", a1.IDNumber, "CUR01", "1", "2024-01-02", ""},
			{"6222021000000004", "K-1", "", "NOPE", "1", "2024-01-02", ""},
		}
		j, rejects := h.run(importer.KindAccounts, "core_banking", "a.xlsx", xlsxBytes(t, accounts))
		if j.Encoding != importer.EncodingXLSX || j.Counts.Created != 2 || j.Counts.Updated != 1 || j.Counts.Rejected != 3 {
			t.Fatalf("accounts %+v %+v", j.Counts, rejects)
		}
		mustReject(t, rejects, 5, "customer_source_id", "no customer")
		mustReject(t, rejects, 6, "account_no", "belongs to another customer")
		mustReject(t, rejects, 7, "product_code", "NOPE")
		if got := h.aum(k1.ID); got != 12_500_000 {
			t.Errorf("K-1's AUM %d after the accounts, want ¥125,000.00", got)
		}
		accountsPath := filepath.Join(h.dir, "a.xlsx")
		_ = accountsPath
		accountsJob := j

		holdings := [][]string{{"账号", "产品代码", "市值", "成本", "购买日期"},
			{"6222021000000001", "WM-R2-180", "10,000.00", "9,800", "2025-10-01"},
			{"6222021000000001", "CUR01", "1", "1", "2025-10-01"},
		}
		j, rejects = h.run(importer.KindHoldings, "wealth", "h.csv", csvBytes(holdings))
		if j.Counts.Created != 1 || j.Counts.Rejected != 1 {
			t.Fatalf("holdings %+v %+v", j.Counts, rejects)
		}
		mustReject(t, rejects, 3, "product_code", "current_deposit")
		if got := h.aum(k1.ID); got != 13_500_000 {
			t.Errorf("K-1's AUM %d after the holding, want ¥135,000.00", got)
		}
		holdings[1][2] = "12,000.00"
		j, _ = h.run(importer.KindHoldings, "wealth", "h2.csv", csvBytes(holdings[:2]))
		if j.Counts.Updated != 1 || h.aum(k1.ID) != 13_700_000 {
			t.Errorf("holding revalued: %+v, AUM %d", j.Counts, h.aum(k1.ID))
		}

		txns := [][]string{{"流水号", "账号", "交易时间", "交易金额", "借贷标志", "余额", "交易类型", "渠道", "摘要"},
			{"T1", "6222021000000001", "2026-02-01 10:00:00", "500.00", "借", "124500", "transfer_out", "手机银行", "转账"},
			{"", "6222021000000001", "2026-02-02 10:00:00", "1,000", "贷", "125500", "salary", "批量", "工资"},
			{"T3", "6222029999999999", "2026-02-02 10:00:00", "1", "", "", "", "", ""},
			{"T4", "6222021000000001", "2026-02-02 10:00:00", "1", "", "", "", "飞鸽", ""},
		}
		j, rejects = h.run(importer.KindTransactions, "core_banking", "t.csv", csvBytes(txns))
		if j.Counts.Created != 2 || j.Counts.Rejected != 2 {
			t.Fatalf("transactions %+v %+v", j.Counts, rejects)
		}
		mustReject(t, rejects, 4, "account_no", "no account 6222 **** **** 9999")
		mustReject(t, rejects, 5, "channel", "飞鸽")
		var amounts string
		if err := raw.QueryRow("SELECT string_agg(CAST(amount AS TEXT), ',' ORDER BY occurred_at) FROM transactions WHERE customer_id = $1",
			k1.ID).Scan(&amounts); err != nil {
			// SQLite has group_concat, not string_agg.
			if err := raw.QueryRow("SELECT group_concat(amount, ',') FROM (SELECT amount FROM transactions WHERE customer_id = $1 ORDER BY occurred_at)",
				k1.ID).Scan(&amounts); err != nil {
				t.Fatal(err)
			}
		}
		if amounts != "-50000,100000" {
			t.Errorf("signed amounts %q", amounts)
		}
		j, _ = h.run(importer.KindTransactions, "core_banking", "t2.csv", csvBytes(txns[:3]))
		if j.Counts.Changes() != 0 || j.Counts.Unchanged != 2 {
			t.Errorf("transactions sent again: %+v", j.Counts)
		}

		rels := [][]string{{"客户号", "关联客户证件号码", "关系", "持股比例"},
			{"K-1", a1.IDNumber, "配偶", ""},
			{"K-1", b1.IDNumber, "配偶", "50%"},
		}
		j, rejects = h.run(importer.KindRelationships, "core_banking", "r.csv", csvBytes(rels))
		if j.Counts.Created != 1 || j.Counts.Rejected != 1 {
			t.Fatalf("relationships %+v %+v", j.Counts, rejects)
		}
		mustReject(t, rejects, 3, "share", "shareholders only")

		// The channel system names customers by core banking's number.
		events := [][]string{{"事件编号", "客户号", "客户来源系统", "发生时间", "渠道", "事件类型", "详情"},
			{"E1", "K-1", "core_banking", "2026-02-03 08:00:00", "手机银行", "app_login", `{"device":"iPhone"}`},
			{"E2", "K-1", "core_banking", "2026-02-03 08:01:00", "微信", "page_view", "理财频道"},
			{"E3", "K-1", "core_banking", "2026-02-03 08:02:00", "卫星", "page_view", ""},
		}
		j, rejects = h.run(importer.KindEvents, "crm_legacy", "e.csv", csvBytes(events))
		if j.Counts.Created != 2 || j.Counts.Rejected != 1 {
			t.Fatalf("events %+v %+v", j.Counts, rejects)
		}
		var detail string
		if err := raw.QueryRow("SELECT CAST(detail AS TEXT) FROM channel_events WHERE customer_id = $1 AND kind = 'page_view'",
			k1.ID).Scan(&detail); err != nil || detail != `{"text": "理财频道"}` && detail != `{"text":"理财频道"}` {
			t.Errorf("event detail %q %v", detail, err)
		}

		// Rolling back the accounts job: K-1's current account carries a
		// holding and transactions now, so it stays; a1's new time deposit
		// goes; the balance update of a1's existing account is not undone.
		_, res, err := h.engine.Rollback(context.Background(), accountsJob)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accounts != 1 || res.AccountsKept != 1 {
			t.Errorf("rollback of accounts %+v", res)
		}
		if n := h.count("accounts"); n != 5 {
			t.Errorf("%d accounts after the rollback, want 5 (4 of the portfolio + K-1's)", n)
		}
		// K-1 is referenced (accounts, events): rolling back the customers
		// job keeps it.
		jobs, _ := db.Imports().Jobs(context.Background(), importer.JobFilter{Limit: 100})
		first := jobs[len(jobs)-1]
		_, res, err = h.engine.Rollback(context.Background(), first)
		if err != nil || res.Customers != 0 || res.CustomersKept != 1 {
			t.Errorf("rollback of the customers job: %+v %v", res, err)
		}
		if _, err := db.Customers().GetCustomer(context.Background(), k1.ID, customer.ScopeFilter{}); err != nil {
			t.Errorf("K-1 gone: %v", err)
		}
	})
}

func TestRollbackRemovesUnreferencedCustomers(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		a1 := h.bank.Customers["a1"]
		rows := [][]string{personHeader,
			{"N-1", "新客一", rid("33010619920101001"), "", "", "HZ-A", ""},
			{"N-2", "新客二", rid("33010619920101002"), "", "", "HZ-A", ""},
			{"N-3", a1.Name, a1.IDNumber, "13911119999", "", "HZ-A", ""},
		}
		j, _ := h.run(importer.KindCustomers, "cards", "n.csv", csvBytes(rows))
		if j.Counts.Created != 2 || j.Counts.Merged != 1 {
			t.Fatalf("import %+v", j.Counts)
		}
		// Someone opens N-2 before the rollback: that read is on the audit
		// trail, so N-2 is kept.
		n2 := h.customerBySource("cards", "N-2")
		if _, err := h.bank.CustomerService().Get(h.bank.As("admin"), n2.ID); err != nil {
			t.Fatal(err)
		}
		before := h.count("customers")
		done, res, err := h.engine.Rollback(context.Background(), j)
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != importer.StatusRolledBack || res.Customers != 1 || res.CustomersKept != 1 || res.Links != 1 {
			t.Errorf("rollback %+v %+v", done.Status, res)
		}
		if after := h.count("customers"); after != before-1 {
			t.Errorf("customers %d → %d", before, after)
		}
		// a1's merged link is gone; a1 itself (and its updated mobile) stays.
		links, _ := db.Identity().Links(context.Background(), "cards", []string{"N-1", "N-2", "N-3"})
		if links["N-1"] != nil || links["N-3"] != nil || links["N-2"] == nil {
			t.Errorf("links after rollback %+v", links)
		}
		if _, _, err := h.engine.Rollback(context.Background(), done); err == nil {
			t.Error("a second rollback was accepted")
		}
	})
}

// TestFeedJobCannotBeRolledBack: a feed's standing job holds everything the
// source system ever sent through the feed, so rollback refuses it.
func TestFeedJobCannotBeRolledBack(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		before := h.count("customers")
		feed := importer.Job{ID: 99, Kind: importer.KindCustomers, FileName: importer.FeedJobName,
			SHA256: importer.FeedJobKey(importer.KindCustomers, "core_banking"), Status: importer.StatusDone}
		_, _, err := h.engine.Rollback(context.Background(), feed)
		if kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("rollback of a feed job: %v", err)
		}
		if after := h.count("customers"); after != before {
			t.Errorf("customers %d → %d", before, after)
		}
	})
}
