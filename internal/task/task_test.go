package task_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"kehu/internal/access"
	"kehu/internal/auth"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/task"
	"kehu/internal/testkit"
)

// setup is the test bank with three tasks: a churn alert on a1 (no
// assignee given: rm_a, its RM), a lobby alert on a3 in the lobby queue of
// outlet A, a call on b1 given to rm_b.
func setup(t *testing.T, db *store.DB) (*testkit.Bank, *task.Service, map[string]int64) {
	t.Helper()
	b := testkit.NewBank(t, db)
	svc := b.TaskService()
	due := b.Clock.Now().Add(24 * time.Hour)
	rows := []task.New{
		{Kind: task.ChurnAlert, Title: "90 天未登录未交易", Actions: []string{"电话问候", "介绍新产品"}, CustomerID: b.Customers["a1"].ID,
			DueAt: due, Priority: task.High, SourceKind: task.SourceJourney, SourceID: 3, DedupKey: "journey:3:a1:2026-03"},
		{Kind: task.LobbyAlert, Title: "客户到店请接待", CustomerID: b.Customers["a3"].ID,
			Queue: task.Queue{Role: access.LobbyManager, OrgID: b.OutletA.ID}, SourceKind: task.SourceJourney, SourceID: 4},
		{Kind: task.Call, Title: "回访", CustomerID: b.Customers["b1"].ID, AssigneeID: b.Users["rm_b"].ID,
			SourceKind: task.SourceManual},
	}
	n, err := svc.Create(b.As("hq_marketing"), rows)
	if err != nil || n != 3 {
		t.Fatalf("create: %d %v", n, err)
	}
	ids := map[string]int64{}
	for _, who := range []string{"rm_a", "rm_b", "branch_manager"} {
		p, err := svc.List(b.As(who), task.Filter{View: task.ViewMine})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range p.Items {
			ids[string(x.Kind)] = x.ID
		}
	}
	p, err := svc.List(b.As("lobby_a"), task.Filter{View: task.ViewQueue})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("lobby queue: %+v %v", p, err)
	}
	ids[string(p.Items[0].Kind)] = p.Items[0].ID
	return b, svc, ids
}

// TestCreate: the default assignee is the customer's RM; a second create
// of the same keys creates nothing; a bad row fails the batch naming the
// field; creation joins the caller's transaction.
func TestCreate(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		b, svc, ids := setup(t, db)
		ctx := b.As("rm_a")
		got, err := svc.Get(ctx, ids["churn_alert"])
		if err != nil || got.AssigneeID != b.Users["rm_a"].ID || got.Priority != task.High || got.DueAt == nil ||
			len(got.Actions) != 2 || got.CustomerName != "张伟" || got.Status != task.Open {
			t.Fatalf("churn alert: %+v %v", got, err)
		}
		again := []task.New{{Kind: task.ChurnAlert, Title: "重复", CustomerID: b.Customers["a1"].ID,
			SourceKind: task.SourceJourney, SourceID: 3, DedupKey: "journey:3:a1:2026-03"},
			{Kind: task.LobbyAlert, Title: "重复", CustomerID: b.Customers["a3"].ID,
				Queue: task.Queue{Role: access.LobbyManager, OrgID: b.OutletA.ID}, SourceKind: task.SourceJourney, SourceID: 4}}
		if n, err := svc.Create(context.Background(), again); err != nil || n != 0 {
			t.Fatalf("retried journey created %d (%v)", n, err)
		}
		bad := []task.New{again[0], {Kind: "lunch", Title: "", CustomerID: 1, SourceKind: task.SourceManual}}
		_, err = svc.Create(context.Background(), bad)
		if kehu.ErrorCode(err) != kehu.EINVALID || len(kehu.ErrorFields(err)) != 2 || kehu.ErrorMessage(err) != "task 1: validation failed" {
			t.Fatalf("bad row: %v %+v", err, kehu.ErrorFields(err))
		}
		if _, err := svc.Create(context.Background(), []task.New{{Kind: task.Call, Title: "x", CustomerID: 999999,
			SourceKind: task.SourceManual}}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("unknown customer: %v", err)
		}
		// In the caller's transaction: rolled back with it.
		rollback := errors.New("launch failed")
		err = db.WithTx(context.Background(), func(ctx context.Context) error {
			n, err := svc.Create(ctx, []task.New{{Kind: task.CampaignCall, Title: "外呼", CustomerID: b.Customers["a2"].ID,
				SourceKind: task.SourceCampaign, SourceID: 9}})
			if err != nil || n != 1 {
				t.Errorf("create in tx: %d %v", n, err)
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if p, _ := svc.List(ctx, task.Filter{SourceKind: task.SourceCampaign}); len(p.Items) != 0 {
			t.Fatalf("a rolled-back launch left %d tasks", len(p.Items))
		}
		// A customer without an RM: the RM queue of the home outlet.
		if _, err := raw.ExecContext(context.Background(), `UPDATE customers SET owner_id = NULL WHERE id = $1`,
			b.Customers["a2"].ID); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.Create(context.Background(), []task.New{{Kind: task.FollowUp, Title: "跟进", CustomerID: b.Customers["a2"].ID,
			SourceKind: task.SourceManual}}); err != nil || n != 1 {
			t.Fatalf("no RM: %d %v", n, err)
		}
		p, err := svc.List(b.As("rm_a2"), task.Filter{View: task.ViewQueue})
		if err != nil || len(p.Items) != 1 || p.Items[0].Queue == nil || p.Items[0].Queue.Role != access.RelationshipMgr {
			t.Fatalf("RM queue: %+v %v", p, err)
		}
	})
}

// TestScope: an RM sees their own tasks only; the branch manager sees the
// branch; an out-of-scope task is not found; lists are audited once.
func TestScope(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, ids := setup(t, db)
		for who, want := range map[string]int{"rm_a": 1, "rm_b": 1, "rm_a2": 0, "branch_manager": 0} {
			p, err := svc.List(b.As(who), task.Filter{})
			if err != nil || len(p.Items) != want {
				t.Errorf("%s mine: %d %v", who, len(p.Items), err)
			}
		}
		if _, err := svc.Get(b.As("rm_a"), ids["call"]); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("rm_a reads rm_b's task: %v", err)
		}
		if _, err := svc.List(b.As("rm_a"), task.Filter{View: task.ViewTeam}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("an RM's team view: %v", err)
		}
		if _, err := svc.List(b.As("hq_integration"), task.Filter{}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("integration: %v", err)
		}
		before, _ := db.CountRows(context.Background(), "audit_log")
		p, err := svc.List(b.As("branch_manager"), task.Filter{View: task.ViewTeam})
		if err != nil || len(p.Items) != 3 {
			t.Fatalf("branch team view: %d %v", len(p.Items), err)
		}
		if after, _ := db.CountRows(context.Background(), "audit_log"); after-before != 1 {
			t.Errorf("%d audit records for one list", after-before)
		}
		// A teller of outlet A sees the outlet's tasks in the team view
		// but no lobby queue of theirs.
		if p, err := svc.List(b.As("teller_a"), task.Filter{View: task.ViewQueue}); err != nil || len(p.Items) != 0 {
			t.Errorf("teller queue: %d %v", len(p.Items), err)
		}
		if p, err := svc.List(b.As("teller_b"), task.Filter{View: task.ViewTeam}); err != nil || len(p.Items) != 1 {
			t.Errorf("teller_b team: %d %v", len(p.Items), err)
		}
		if _, err := svc.List(b.As("rm_a"), task.Filter{View: "all", Status: "lost"}); kehu.ErrorCode(err) != kehu.EINVALID ||
			len(kehu.ErrorFields(err)) != 2 {
			t.Errorf("bad filter: %v", err)
		}
		c, err := svc.Counts(b.As("lobby_a"))
		if err != nil || c.Mine != 0 || c.Queue != 1 {
			t.Errorf("lobby counts: %+v %v", c, err)
		}
	})
}

// TestClaimRace: two lobby managers claim the same queued task at once:
// one wins, the other gets a conflict; the winner completes it.
func TestClaimRace(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, ids := setup(t, db)
		u, err := b.Auth.AddUser(context.Background(), auth.NewUser{Username: "lobby_a2", Password: testkit.Password,
			Role: access.LobbyManager, OrgID: b.OutletA.ID})
		if err != nil {
			t.Fatal(err)
		}
		u.OrgPath = b.OutletA.Path
		b.Users["lobby_a2"] = u
		id := ids["lobby_alert"]
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, who := range []string{"lobby_a", "lobby_a2"} {
			wg.Go(func() { _, errs[i] = svc.Claim(b.As(who), id) })
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch kehu.ErrorCode(err) {
			case "":
				if won >= 0 {
					t.Fatal("both claims won")
				}
				won = i
			case kehu.ECONFLICT:
			default:
				t.Fatalf("claim %d: %v", i, err)
			}
		}
		if won < 0 {
			t.Fatalf("no claim won: %v", errs)
		}
		winner, loser := []string{"lobby_a", "lobby_a2"}[won], []string{"lobby_a", "lobby_a2"}[1-won]
		got, err := svc.Get(b.As(winner), id)
		if err != nil || got.AssigneeID != b.Users[winner].ID || got.ClaimedAt == nil {
			t.Fatalf("claimed task: %+v %v", got, err)
		}
		if _, err := svc.Claim(b.As(loser), id); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("late claim: %v", err)
		}
		if _, err := svc.Complete(b.As(winner), id, "  "); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("empty outcome: %v", err)
		}
		done, err := svc.Complete(b.As(winner), id, "已接待，客户咨询大额存单")
		if err != nil || done.Status != task.Done || done.ClosedBy != b.Users[winner].ID || done.Outcome == "" {
			t.Fatalf("complete: %+v %v", done, err)
		}
		if _, err := svc.Complete(b.As(winner), id, "again"); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("complete twice: %v", err)
		}
		if p, _ := svc.List(b.As(winner), task.Filter{Status: task.Done}); len(p.Items) != 1 {
			t.Fatalf("done list: %+v", p)
		}
	})
}

// TestManage: only the assignee completes; a manager of the branch cancels
// and reassigns within the branch; nobody hands a task outside their
// subtree.
func TestManage(t *testing.T) {
	testkit.EachEngineRaw(t, func(t *testing.T, db *store.DB, raw *sql.DB) {
		b, svc, ids := setup(t, db)
		churn, call := ids["churn_alert"], ids["call"]
		if _, err := svc.Complete(b.As("branch_manager"), churn, "done"); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("a manager completes an RM's task: %v", err)
		}
		if _, err := svc.Cancel(b.As("teller_a"), churn, "x"); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("a teller cancels: %v", err)
		}
		if _, err := svc.Reassign(b.As("rm_a"), churn, task.Assignment{AssigneeID: b.Users["rm_b"].ID}); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Fatalf("rm_a hands a task to outlet B: %v", err)
		}
		got, err := svc.Reassign(b.As("rm_a"), churn, task.Assignment{AssigneeID: b.Users["rm_a2"].ID})
		if err != nil || got.AssigneeID != b.Users["rm_a2"].ID {
			t.Fatalf("hand to a colleague: %+v %v", got, err)
		}
		if _, err := svc.Reassign(b.As("branch_manager"), call, task.Assignment{AssigneeID: 999999}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Fatalf("unknown user: %v", err)
		}
		if _, err := svc.Reassign(b.As("branch_manager"), call, task.Assignment{AssigneeID: b.Users["rm_a2"].ID,
			Reason: strings.Repeat("长", task.MaxOutcome+1)}); kehu.ErrorCode(err) != kehu.EINVALID || kehu.ErrorFields(err)[0].Field != "reason" {
			t.Fatalf("a reason too long: %v", err)
		}
		got, err = svc.Reassign(b.As("branch_manager"), call, task.Assignment{Queue: &task.Queue{Role: access.LobbyManager, OrgID: b.OutletA.ID}})
		if err != nil || got.AssigneeID != 0 || got.Queue == nil || got.Queue.OrgID != b.OutletA.ID {
			t.Fatalf("to a queue: %+v %v", got, err)
		}
		if c, _ := svc.Counts(b.As("lobby_a")); c.Queue != 2 {
			t.Fatalf("lobby queue after reassign: %+v", c)
		}
		got, err = svc.Cancel(b.As("branch_manager"), call, "客户已销户")
		if err != nil || got.Status != task.Cancelled || got.ClosedBy != b.Users["branch_manager"].ID {
			t.Fatalf("cancel: %+v %v", got, err)
		}
		if _, err := svc.Claim(b.As("lobby_a"), call); kehu.ErrorCode(err) != kehu.ECONFLICT {
			t.Fatalf("claim a cancelled task: %v", err)
		}
		var n int
		if err := raw.QueryRowContext(context.Background(), `SELECT count(*) FROM audit_log WHERE action IN
			('task.reassign','task.cancel') AND customer_id IS NOT NULL`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%d audit records of the changes (%v)", n, err)
		}
	})
}
