package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"kehu/internal/customer"
	"kehu/internal/identity"
	"kehu/internal/importer"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestCustomerProvenance: a customer imported from core banking and then
// corrected in Kehu shows, per field, which system set the value, when and
// by which import, whether the Kehu edit holds against imports, and its
// source record — never a value.
func TestCustomerProvenance(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		idNo := testkit.ResidentID("33010619870707404")
		job := e.bank.RunImport(t, importer.KindCustomers, "core_banking", "p.csv", csvOf([][]string{
			{"客户号", "姓名", "证件号码", "手机号码", "机构号", "客户经理"},
			{"P-1", "柳青", idNo, "13500000044", "HZ-A", "rm_a"}}))
		if job.Counts.Created != 1 {
			var why []string
			_ = db.Imports().Rejects(context.Background(), job.ID, func(r importer.Reject) error {
				why = append(why, r.Column+": "+r.Reason)
				return nil
			})
			t.Fatalf("import %+v %v", job.Counts, why)
		}
		links, err := db.Identity().Links(context.Background(), "core_banking", []string{"P-1"})
		if err != nil || links["P-1"] == nil {
			t.Fatalf("link: %v %v", links, err)
		}
		cid := links["P-1"].CustomerID
		// A person corrects the name (priority: the edit holds) and adds an
		// e-mail (recent: a newer source record would replace it).
		// Edits go through the customer store wrapped as `kehu serve` wraps
		// it (identity.TrackEdits), which records source "kehu".
		e.bank.Clock.Advance(10 * time.Minute)
		tracked := customer.NewService(customer.Deps{Store: identity.TrackEdits(db.Customers(), db.Identity(), e.bank.Clock),
			Clock: e.bank.Clock, Audit: e.bank.Audit, Tx: db})
		name, email := "柳青青", "qing@example.cn"
		if _, err := tracked.Update(e.bank.As("rm_a"), cid, customer.Update{Name: &name, Email: &email}); err != nil {
			t.Fatal(err)
		}
		rm := e.login("rm_a")
		before := auditCount(t, db)
		r := e.do(call{method: "GET", path: "/api/v1/customers/" + id(cid) + "/provenance", token: rm.token})
		var p identity.FieldProvenance
		r.decode(t, &p)
		if r.Code != http.StatusOK || p.CustomerID != cid {
			t.Fatalf("provenance %d %s", r.Code, r.Body)
		}
		if n := auditCount(t, db) - before; n != 1 {
			t.Errorf("%d audit records, want 1", n)
		}
		for _, v := range []string{idNo, "13500000044", "qing@example.cn", "柳青"} {
			if strings.Contains(r.Body.String(), v) {
				t.Errorf("the provenance shows the value %q", v)
			}
		}
		got := map[string]identity.FieldOrigin{}
		for _, f := range p.Fields {
			got[f.Field] = f
		}
		edited := e.bank.Clock.Now()
		check := func(field, source string, rule string, kehuEdit, held bool, jobID int64) {
			t.Helper()
			f, ok := got[field]
			if !ok {
				t.Errorf("no provenance of %s: %+v", field, p.Fields)
				return
			}
			if f.SourceSystem != source || f.Rule != rule || f.KehuEdit != kehuEdit || f.Held != held || f.JobID != jobID {
				t.Errorf("%s: %+v, want %s %s edit=%v held=%v job %d", field, f, source, rule, kehuEdit, held, jobID)
			}
			if kehuEdit && !f.SetAt.Equal(edited) {
				t.Errorf("%s set at %v, want the edit's %v", field, f.SetAt, edited)
			}
		}
		check(identity.FieldName, identity.SourceKehu, identity.RulePriority, true, true, 0)
		check(identity.FieldEmail, identity.SourceKehu, identity.RuleRecent, true, false, 0)
		check(identity.FieldMobile, "core_banking", identity.RuleRecent, false, false, job.ID)
		check(identity.FieldIdentity, "core_banking", identity.RulePriority, false, false, job.ID)
		check(identity.FieldOrg, "core_banking", identity.RuleFirst, false, false, job.ID)
		if _, ok := got[identity.FieldAddress]; ok {
			t.Error("a field without a value has a provenance")
		}
		if len(p.Sources) != 1 || p.Sources[0].SourceSystem != "core_banking" || p.Sources[0].SourceID != "P-1" ||
			!p.Sources[0].Origin || p.Sources[0].MatchedBy != identity.MatchCreated || p.Sources[0].JobID != job.ID ||
			p.Sources[0].FirstSeen.IsZero() || p.Sources[0].LastSeen.IsZero() {
			t.Errorf("sources %+v", p.Sources)
		}
		if len(p.Systems) != 2 || p.Systems[0].Code != identity.SourceKehu || p.Systems[1].Code != "core_banking" ||
			p.Systems[1].Name == "" {
			t.Errorf("systems %+v", p.Systems)
		}
		// Another RM's customer: the same 404 as an unknown id.
		other := e.login("rm_b")
		for _, path := range []string{"/api/v1/customers/" + id(cid) + "/provenance", "/api/v1/customers/999999/provenance"} {
			if r := e.do(call{method: "GET", path: path, token: other.token}); r.Code != http.StatusNotFound {
				t.Errorf("rm_b %s: %d", path, r.Code)
			}
		}
	})
}

// provenanceCalls are the provenance route's documented answers for the
// conformance walk: 200, 401 without credentials, 403 for a role without
// customer.read (an integration account), 404 for an unknown id; and the
// 403 of the consents and level reads, met by the same account.
func provenanceCalls(e *env) []call {
	bm := e.login("branch_manager")
	path := "/api/v1/customers/" + id(e.bank.Customers["a1"].ID) + "/provenance"
	return []call{
		{method: "GET", path: path, token: bm.token},
		{method: "GET", path: path},
		{method: "GET", path: path, token: e.login("hq_integration").token},
		{method: "GET", path: "/api/v1/customers/999999/provenance", token: bm.token},
		// The other customer.read routes whose 403 only a role without
		// customer.read (the integration account) can meet.
		{method: "GET", path: "/api/v1/customers/" + id(e.bank.Customers["a1"].ID) + "/consents", token: e.login("hq_integration").token},
		{method: "GET", path: "/api/v1/customers/" + id(e.bank.Customers["a1"].ID) + "/level", token: e.login("hq_integration").token},
	}
}
