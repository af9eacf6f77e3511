package importer_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"kehu/internal/cnid"
	"kehu/internal/customer"
	"kehu/internal/importer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

var customerHeader = []string{"客户号", "姓名", "证件类型", "证件号码", "手机号码", "性别", "出生日期", "地址", "机构号", "客户经理",
	"风险等级", "风险测评日期", "注册资本"}

func uscc(first17 string) string {
	c, err := cnid.USCCCheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

func TestCustomerRowsValidated(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		good := rid("33010619800101001")
		badCheck := good[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", good[17])+1)%11])
		corp := uscc("91330106MA2B3C4X7")
		rows := [][]string{customerHeader,
			{"S1", "陈明", "身份证", good, "139 1111 2222", "男", "1980-01-01", "浙江省杭州市西湖区文三路1号", "HZ-A", "rm_a", "C3", "2025-01-02", ""},
			{"S2", "周一", "身份证", badCheck, "13911112223", "", "", "", "HZ-A", "", "", "", ""},
			{"S3", "周二", "身份证", rid("33010619800101002"), "13911112224", "男", "", "", "HZ-A", "", "", "", ""},
			{"S4", "周三", "身份证", rid("33010619800101003"), "1391111", "", "", "", "HZ-A", "", "", "", ""},
			{"S5", "周四", "身份证", rid("33010619800101004"), "", "", "", "", "HZ-Z", "", "", "", ""},
			{"S6", "周五", "身份证", rid("33010619800101005"), "", "", "", "", "HZ-A", "nobody", "C9", "", ""},
			{"S7", "周六", "身份证"},
			{"S1", "陈明", "身份证", good, "13911112222", "男", "", "", "HZ-A", "", "", "", ""},
			{"S9", "杭州明远科技有限公司", "统一社会信用代码", corp, "", "", "", "浙江省杭州市滨江区", "HZ-A", "", "", "", "1,000万"},
			{"S10", "　吴十 ", "护照", "E12345678", "１３９１１１１２２２９", "F", "1975/6/7", "", "HZ-B", "", "稳健型", "", ""},
		}
		j, rejects := h.run(importer.KindCustomers, "core_banking", "c.csv", csvBytes(rows))
		if j.Status != importer.StatusDone || j.Counts.Total != 10 || j.Counts.Created != 3 || j.Counts.Rejected != 7 {
			t.Logf("rejects %+v", rejects)
		}
		mustReject(t, rejects, 3, "id_number", "check digit")
		mustReject(t, rejects, 4, "gender", "does not match the resident ID")
		mustReject(t, rejects, 5, "mobile", "11 digits")
		mustReject(t, rejects, 6, "org_id", "HZ-Z")
		mustReject(t, rejects, 7, "owner_id", "nobody")
		mustReject(t, rejects, 7, "risk_level", "C9")
		mustReject(t, rejects, 8, "", "the header has 13")
		mustReject(t, rejects, 9, "source_id", "line 2")
		for _, r := range rejects {
			if strings.Contains(r.Reason, badCheck) || strings.Contains(r.Reason, "1391111") && r.Line != 5 {
				t.Errorf("reject %+v holds a personal value in clear", r)
			}
		}
		if r, _ := rejectAt(rejects, 3, "id_number"); !strings.Contains(r.Reason, "330***********") {
			t.Errorf("the ID number is not masked like the vault masks it: %q", r.Reason)
		}
		c := h.customerBySource("core_banking", "S1")
		if c.Mobile != "13911112222" || c.Gender != "M" || c.RiskLevel != 3 || c.OwnerID == nil ||
			*c.OwnerID != h.bank.Users["rm_a"].ID || c.OrgID != h.bank.OutletA.ID || c.RegionCode != "330106" {
			t.Errorf("S1 stored as %+v", c)
		}
		co := h.customerBySource("core_banking", "S9")
		if co.Type != customer.Corporate || co.IDType != customer.USCC || co.RegisteredCapital != 10_000_000_00 {
			t.Errorf("S9 stored as %+v", co)
		}
		p := h.customerBySource("core_banking", "S10")
		if p.Name != "吴十" || p.Mobile != "13911112229" || p.IDType != customer.Passport || p.BirthDate.String() != "1975-06-07" ||
			p.RiskLevel != 2 {
			t.Errorf("S10 (full-width digits, spaces, 稳健型) stored as %+v", p)
		}
		// Encrypted at rest: the columns hold ciphertext, the blind index finds it.
		var stored, index string
		if err := raw.QueryRow("SELECT id_number, id_number_bidx FROM customers WHERE id = $1", c.ID).Scan(&stored, &index); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, good) || !strings.HasPrefix(stored, "v1:") || index == "" {
			t.Errorf("id_number stored as %q", stored)
		}
	})
}

func TestReimportChangesNothing(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		var rows [][]string
		rows = append(rows, customerHeader)
		for i := range 30 {
			rows = append(rows, []string{fmt.Sprintf("R%d", i), fmt.Sprintf("测试%d", i), "身份证",
				rid(fmt.Sprintf("33010619900201%03d", i)), fmt.Sprintf("1390000%04d", i),
				"", "", "浙江省杭州市", "HZ-A", "", "C2", "", ""})
		}
		first, _ := h.run(importer.KindCustomers, "core_banking", "a.csv", csvBytes(rows))
		if first.Counts.Created != 30 || first.Counts.Rejected != 0 {
			t.Fatalf("first import %+v", first.Counts)
		}
		before := snapshot(t, h)
		h.bank.Clock.Advance(24 * time.Hour)
		second, _ := h.run(importer.KindCustomers, "core_banking", "a.csv", csvBytes(rows))
		if second.Counts.Changes() != 0 || second.Counts.Unchanged != 30 || second.Counts.Merged != 0 {
			t.Errorf("second import %+v, want zero changes", second.Counts)
		}
		if after := snapshot(t, h); after != before {
			t.Errorf("the re-import changed the database:\n%s\n%s", before, after)
		}
	})
}

// snapshot summarises what a re-import must not change.
func snapshot(t *testing.T, h *harness) string {
	t.Helper()
	var s string
	err := h.raw.QueryRow(`SELECT (SELECT count(*) FROM customers) || '/' || (SELECT count(*) FROM customer_sources)
		|| '/' || (SELECT count(*) FROM customer_field_provenance) || '/' || (SELECT count(*) FROM duplicate_candidates)
		|| '/' || (SELECT max(updated_at) FROM customers) || '/' || (SELECT count(*) FROM audit_log WHERE action = 'customer.update')`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConcurrentImportRefused(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		path := h.file("same.csv", csvBytes([][]string{customerHeader}))
		first := h.job(importer.KindCustomers, "core_banking", path)
		_, err := db.Imports().CreateJob(h.operator(), importer.Job{Kind: importer.KindCustomers, FileName: "copy.csv",
			SHA256: first.SHA256, SourceSystem: "core_banking", Status: importer.StatusQueued, CreatedAt: h.bank.Clock.Now()})
		if err == nil || !strings.Contains(err.Error(), "already being imported as job") {
			t.Fatalf("a second import of the same file: %v", err)
		}
		// Another kind of the same bytes is another import.
		if _, err := db.Imports().CreateJob(h.operator(), importer.Job{Kind: importer.KindAccounts, FileName: "x.csv",
			SHA256: first.SHA256, SourceSystem: "core_banking", Status: importer.StatusQueued, CreatedAt: h.bank.Clock.Now()}); err != nil {
			t.Errorf("another kind: %v", err)
		}
		// Once the first is done, the file may be imported again.
		if _, err := h.engine.Run(h.operator(), first, path, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := h.engine.Run(h.operator(), first, path, nil); err == nil {
			t.Error("a finished job ran again")
		}
		h.job(importer.KindCustomers, "core_banking", path)
	})
}

func TestUnreadableFileFailsTheJob(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		path := h.file("wrong.csv", []byte("foo,bar\n1,2\n"))
		j, err := h.engine.Run(h.operator(), h.job(importer.KindCustomers, "core_banking", path), path, nil)
		if err == nil || j.Status != importer.StatusFailed || !strings.Contains(j.Error, "no column for") {
			t.Errorf("job %+v, err %v", j, err)
		}
		stored, _ := db.Imports().Job(context.Background(), j.ID)
		if stored.Status != importer.StatusFailed || stored.Error == "" {
			t.Errorf("stored %+v", stored)
		}
	})
}
