package sales_test

import (
	"context"
	"testing"

	"kehu/internal/kehu"
	"kehu/internal/sales"
	"kehu/internal/store"
	"kehu/internal/task"
	"kehu/internal/testkit"
)

// TestLeads: created in bulk with the customer's RM as default assignee and
// once per dedup key; an RM sees their own, the branch manager the branch;
// status moves forward and a converted lead is closed.
func TestLeads(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.LeadService()
		rows := []sales.NewLead{
			{CustomerID: b.Customers["a1"].ID, SourceKind: task.SourceCampaign, SourceID: 5, Note: "浏览理财未购买"},
			{CustomerID: b.Customers["b1"].ID, SourceKind: task.SourceCampaign, SourceID: 5},
			{CustomerID: b.Customers["a3"].ID, SourceKind: task.SourceJourney, SourceID: 2, AssigneeID: b.Users["rm_a"].ID},
		}
		if n, err := svc.Create(b.As("hq_marketing"), rows); err != nil || n != 3 {
			t.Fatalf("create: %d %v", n, err)
		}
		if n, err := svc.Create(context.Background(), rows); err != nil || n != 0 {
			t.Fatalf("retry created %d (%v)", n, err)
		}
		if _, err := svc.Create(context.Background(), []sales.NewLead{{CustomerID: 1, SourceKind: "web"}}); kehu.ErrorCode(err) != kehu.EINVALID ||
			kehu.ErrorMessage(err) != "lead 0: validation failed" {
			t.Fatalf("bad source: %v", err)
		}
		mine, err := svc.List(b.As("rm_a"), sales.Filter{})
		if err != nil || len(mine.Items) != 2 || mine.Items[1].CustomerName != "张伟" || mine.Items[1].Note != "浏览理财未购买" {
			t.Fatalf("rm_a: %+v %v", mine, err)
		}
		if p, err := svc.List(b.As("rm_b"), sales.Filter{}); err != nil || len(p.Items) != 1 {
			t.Fatalf("rm_b: %+v %v", p, err)
		}
		if _, err := svc.List(b.As("rm_b"), sales.Filter{View: task.ViewTeam}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("rm team view: %v", err)
		}
		if team, err := svc.List(b.As("teller_b"), sales.Filter{View: task.ViewTeam}); err != nil || len(team.Items) != 1 {
			t.Fatalf("teller_b team: %+v %v", team, err)
		}
		// Marketing sees names masked, as on every customer page.
		team, err := svc.List(b.As("hq_marketing"), sales.Filter{View: task.ViewTeam, SourceKind: task.SourceJourney})
		if err != nil || len(team.Items) != 1 || team.Items[0].CustomerName != "李*" {
			t.Fatalf("marketing team (masked name): %+v %v", team, err)
		}
		if p, err := svc.List(b.As("branch_manager"), sales.Filter{View: task.ViewTeam, SourceKind: task.SourceCampaign}); err != nil || len(p.Items) != 2 {
			t.Fatalf("branch: %+v %v", p, err)
		}
		id := mine.Items[1].ID
		st := func(s sales.Status) *sales.Status { return &s }
		if _, err := svc.Update(b.As("rm_b"), id, sales.Update{Status: st(sales.Contacted)}); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Fatalf("rm_b updates rm_a's lead: %v", err)
		}
		if _, err := svc.Update(b.As("teller_a"), id, sales.Update{Status: st(sales.Contacted)}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("a teller updates: %v", err)
		}
		l, err := svc.Update(b.As("rm_a"), id, sales.Update{Status: st(sales.Qualified)})
		if err != nil || l.Status != sales.Qualified {
			t.Fatalf("qualify: %+v %v", l, err)
		}
		if _, err := svc.Update(b.As("rm_a"), id, sales.Update{Status: st(sales.Contacted)}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("backwards: %v", err)
		}
		note := "已购买"
		if l, err = svc.Update(b.As("branch_manager"), id, sales.Update{Status: st(sales.Converted), Note: &note}); err != nil ||
			l.Status != sales.Converted || l.Note != note {
			t.Fatalf("convert: %+v %v", l, err)
		}
		if _, err := svc.Update(b.As("rm_a"), id, sales.Update{Status: st(sales.Lost)}); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("a converted lead changed: %v", err)
		}
		if _, err := svc.Update(b.As("rm_a"), id, sales.Update{}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("empty update: %v", err)
		}
	})
}
