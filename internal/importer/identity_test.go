package importer_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"kehu/internal/customer"
	"kehu/internal/identity"
	"kehu/internal/importer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

var personHeader = []string{"客户号", "姓名", "证件号码", "手机号码", "地址", "机构号", "更新时间"}

// provenanceOf returns where a field of customer id came from.
func provenanceOf(t *testing.T, h *harness, id int64, field string) identity.Provenance {
	t.Helper()
	p, err := h.bank.IdentityService().Provenance(h.bank.As("admin"), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Fields {
		if f.Field == field {
			return f.Provenance
		}
	}
	t.Fatalf("no provenance of %s: %+v", field, p)
	return identity.Provenance{}
}

func TestSamePersonFromTwoSources(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		id := rid("33010619880808001")
		// The legacy CRM first, with a misspelt name.
		crm := [][]string{personHeader, {"L-77", "陈明名", id, "13700000001", "杭州市西湖区旧地址", "HZ-A", "2026-01-01 09:00:00"}}
		j, _ := h.run(importer.KindCustomers, "crm_legacy", "crm.csv", csvBytes(crm))
		if j.Counts.Created != 1 {
			t.Fatalf("crm import %+v", j.Counts)
		}
		// Core banking knows the same person (same ID number) under its own key.
		core := [][]string{personHeader, {"C-1", "陈明", id, "13700000001", "杭州市西湖区新地址", "HZ-B", "2026-02-01 09:00:00"}}
		j, _ = h.run(importer.KindCustomers, "core_banking", "core.csv", csvBytes(core))
		if j.Counts.Created != 0 || j.Counts.Merged != 1 || j.Counts.Updated != 1 {
			t.Fatalf("core import %+v: want one record merged into the existing customer", j.Counts)
		}
		c := h.customerBySource("core_banking", "C-1")
		if same := h.customerBySource("crm_legacy", "L-77"); same.ID != c.ID {
			t.Fatalf("two customers for one person: %d and %d", c.ID, same.ID)
		}
		if c.Name != "陈明" || c.Address != "杭州市西湖区新地址" || c.OrgID != h.bank.OutletA.ID {
			t.Errorf("after core: %+v (name by priority, address by recency, home branch kept)", c)
		}
		if p := provenanceOf(t, h, c.ID, identity.FieldName); p.SourceSystem != "core_banking" {
			t.Errorf("name provenance %+v", p)
		}
		if p := provenanceOf(t, h, c.ID, identity.FieldMobile); p.SourceSystem != "core_banking" || p.JobID != j.ID {
			t.Errorf("mobile provenance %+v: core's later observation of the same value now backs it", p)
		}
		// The CRM changes its record later: its name loses to core banking
		// (priority), its newer address and mobile win (most recent).
		crm2 := [][]string{personHeader, {"L-77", "陈明明", id, "13700000002", "杭州市滨江区", "HZ-A", "2026-03-01 09:00:00"}}
		j, _ = h.run(importer.KindCustomers, "crm_legacy", "crm2.csv", csvBytes(crm2))
		c = h.customerBySource("core_banking", "C-1")
		if c.Name != "陈明" || c.Address != "杭州市滨江区" || c.Mobile != "13700000002" || j.Counts.Updated != 1 {
			t.Errorf("after crm2 (%+v): %+v", j.Counts, c)
		}
		p := provenanceOf(t, h, c.ID, identity.FieldAddress)
		if p.SourceSystem != "crm_legacy" || !p.SetAt.Equal(time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)) {
			t.Errorf("address provenance %+v: which system, when (Beijing 09:00 = 01:00 UTC)", p)
		}
		// Re-sending core's old file observes nothing new: the CRM's newer
		// address stays.
		j, _ = h.run(importer.KindCustomers, "core_banking", "core.csv", csvBytes(core))
		if j.Counts.Changes() != 0 {
			t.Errorf("re-sent core file changed %+v", j.Counts)
		}
		if again := h.customerBySource("core_banking", "C-1"); again.Address != "杭州市滨江区" {
			t.Errorf("address flipped back to %q", again.Address)
		}
		// Every change of the existing customer is on the audit trail with
		// old and new values (masked).
		var updates int
		if err := raw.QueryRow("SELECT count(*) FROM audit_log WHERE action = 'customer.update' AND customer_id = $1",
			c.ID).Scan(&updates); err != nil {
			t.Fatal(err)
		}
		if updates != 2 {
			t.Errorf("%d customer.update records, want 2 (core, crm2)", updates)
		}
	})
}

func TestEditInKehuOutranksImports(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		id := rid("33010619880808003")
		rows := [][]string{personHeader, {"C-9", "孙莉", id, "13700000009", "", "HZ-A", ""}}
		h.run(importer.KindCustomers, "core_banking", "a.csv", csvBytes(rows))
		c := h.customerBySource("core_banking", "C-9")
		// A teller corrects the name through Kehu, with the edit tracker wired
		// as `kehu serve` wires it.
		svc := customer.NewService(customer.Deps{Store: identity.TrackEdits(db.Customers(), db.Identity(), h.bank.Clock),
			Clock: h.bank.Clock, Audit: h.bank.Audit, Tx: db})
		name := "孙丽"
		if _, err := svc.Update(h.bank.As("teller_a"), c.ID, customer.Update{Name: &name}); err != nil {
			t.Fatal(err)
		}
		if p := provenanceOf(t, h, c.ID, identity.FieldName); p.SourceSystem != identity.SourceKehu {
			t.Fatalf("name provenance after the edit %+v", p)
		}
		// Core banking then sends a changed record with the old name: the
		// person's correction stays.
		rows[1][3] = "13700000010"
		j, _ := h.run(importer.KindCustomers, "core_banking", "b.csv", csvBytes(rows))
		c = h.customerBySource("core_banking", "C-9")
		if c.Name != "孙丽" || c.Mobile != "13700000010" || j.Counts.Updated != 1 {
			t.Errorf("after the edit and a new core record (%+v): %+v", j.Counts, c)
		}
	})
}

func TestSuspectedDuplicatesQueued(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		a1, a2, a3 := h.bank.Customers["a1"], h.bank.Customers["a2"], h.bank.Customers["a3"]
		header := []string{"客户号", "姓名", "证件类型", "证件号码", "手机号码", "出生日期", "机构号"}
		rows := [][]string{header,
			// a1's name and mobile, another birth date: a new customer, queued.
			{"W-1", a1.Name, "护照", "E10000001", a1.Mobile, "1986-01-01", "HZ-A"},
			// a2's mobile and birth date under another name: new, queued.
			{"W-2", "王小芳", "护照", "E10000002", a2.Mobile, a2.BirthDate.String(), "HZ-A"},
			// a3's name, mobile and birth date: the same person, merged.
			{"W-3", a3.Name, "护照", "E10000003", a3.Mobile, a3.BirthDate.String(), "HZ-A"},
		}
		j, rejects := h.run(importer.KindCustomers, "wealth", "w.csv", csvBytes(rows))
		if j.Counts.Created != 2 || j.Counts.Merged != 1 || j.Counts.Suspected != 2 || len(rejects) != 0 {
			t.Fatalf("job %+v rejects %+v", j.Counts, rejects)
		}
		if w3 := h.customerBySource("wealth", "W-3"); w3.ID != a3.ID || w3.IDType != customer.ResidentID {
			t.Errorf("W-3 resolved to %+v, want a3 with its resident ID kept (priority)", w3)
		}
		q := identity.NewQueue(db.Identity(), h.bank.CustomerService())
		pairs, _, err := q.List(h.bank.As("admin"), identity.DuplicateFilter{Status: identity.DupPending})
		if err != nil {
			t.Fatal(err)
		}
		w1, w2 := h.customerBySource("wealth", "W-1"), h.customerBySource("wealth", "W-2")
		want := map[[2]int64]string{{a1.ID, w1.ID}: identity.DupNameMobile, {a2.ID, w2.ID}: identity.DupMobileBirth}
		if len(pairs) != 2 {
			t.Fatalf("queue %+v", pairs)
		}
		for _, p := range pairs {
			if want[[2]int64{p.CustomerID, p.OtherID}] != p.Rule || p.Status != identity.DupPending || p.JobID != j.ID ||
				len(p.Evidence) != 2 {
				t.Errorf("pair %+v", p)
			}
		}
		got, err := q.Get(h.bank.As("branch_manager"), pairs[0].ID)
		if err != nil || got.ID != pairs[0].ID {
			t.Errorf("get in scope: %+v %v", got, err)
		}
		// Outlet B's teller may see neither customer: the pair is not there.
		if _, err := q.Get(h.bank.As("teller_b"), pairs[0].ID); err == nil {
			t.Error("a pair outside the reader's scope was shown")
		}
		if list, _, _ := q.List(h.bank.As("teller_b"), identity.DuplicateFilter{}); len(list) != 0 {
			t.Errorf("teller_b sees %+v", list)
		}
	})
}

func TestImportScope(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		h := newHarness(t, db, raw)
		rows := [][]string{personHeader,
			{"B-1", "钱进", rid("33010619880808005"), "", "", "HZ-B", ""},
			{"B-2", h.bank.Customers["b1"].Name, h.bank.Customers["b1"].IDNumber, "", "", "HZ-A", ""},
		}
		path := h.file("scope.csv", csvBytes(rows))
		// A branch manager of the city branch reaches both outlets: fine.
		scope, err := h.bank.CustomerService().WriteScope(h.bank.As("branch_manager"), "data.import")
		if err != nil {
			t.Fatal(err)
		}
		j, err := h.engine.Run(h.bank.As("branch_manager"), h.job(importer.KindCustomers, "core_banking", path), path, &scope)
		if err != nil || j.Counts.Accepted != 2 {
			t.Fatalf("branch manager: %+v %v %+v", j.Counts, err, h.rejects(j.ID))
		}
		// A narrower scope (outlet A only) refuses outlet B's org and b1.
		narrow := customer.ScopeFilter{OrgPath: h.bank.OutletA.Path}
		rows[1][0], rows[2][0] = "B-3", "B-4"
		path = h.file("scope2.csv", csvBytes(rows))
		j, err = h.engine.Run(h.bank.As("branch_manager"), h.job(importer.KindCustomers, "crm_legacy", path), path, &narrow)
		if err != nil {
			t.Fatal(err)
		}
		rejects := h.rejects(j.ID)
		mustReject(t, rejects, 2, "org_id", "outside your data scope")
		mustReject(t, rejects, 3, "id_number", "outside your data scope")
		_ = context.Background()
	})
}
