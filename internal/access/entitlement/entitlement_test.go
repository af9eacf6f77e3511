package entitlement_test

import (
	"context"
	"testing"
	"time"

	"kehu/internal/access"
	"kehu/internal/access/entitlement"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// addUser adds a user of role at o to the bank (the test bank's call-centre
// agent sits at head office and so sees every customer already).
func addUser(t *testing.T, b *testkit.Bank, name, role string, orgID int64, path string) {
	t.Helper()
	u, err := b.Auth.AddUser(context.Background(), authUser(name, role, orgID))
	if err != nil {
		t.Fatal(err)
	}
	u.OrgPath = path
	b.Users[name] = u
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if kehu.ErrorCode(err) != code {
		t.Fatalf("%s: error %v (code %q), want %q", what, err, kehu.ErrorCode(err), code)
	}
}

// sees reports whether user can read c, checking that Get and a name search
// agree.
func sees(t *testing.T, b *testkit.Bank, user string, c customer.Customer) bool {
	t.Helper()
	_, getErr := b.CustomerService().Get(b.As(user), c.ID)
	if getErr != nil && kehu.ErrorCode(getErr) != kehu.ENOTFOUND {
		t.Fatal(getErr)
	}
	p, err := b.CustomerService().List(b.As(user), customer.Filter{Query: c.Name})
	if err != nil {
		t.Fatal(err)
	}
	inList := false
	for _, x := range p.Items {
		inList = inList || x.ID == c.ID
	}
	if inList != (getErr == nil) {
		t.Fatalf("%s: Get and List disagree about customer %d", user, c.ID)
	}
	return getErr == nil
}

func TestRequestApproveExpire(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.EntitlementService()
		b1 := b.Customers["b1"]
		if sees(t, b, "rm_a", b1) {
			t.Fatal("rm_a sees b1 before any grant")
		}
		r, err := svc.Request(b.As("rm_a"), entitlement.NewRequest{CustomerID: b1.ID, Scope: entitlement.GrantCustomer,
			Reason: "客户来电 <script>alert(1)</script>", Hours: 2})
		if err != nil {
			t.Fatal(err)
		}
		// A request for an id that does not exist is filed just the same.
		if _, err := svc.Request(b.As("rm_a"), entitlement.NewRequest{CustomerID: 999999, Scope: entitlement.GrantCustomer,
			Reason: "probe", Hours: 1}); err != nil {
			t.Fatalf("request for unknown id: %v", err)
		}
		mine, err := svc.Requests(b.As("rm_a"), "", true)
		if err != nil || len(mine) != 2 || mine[0].CustomerName != "" || mine[1].CustomerName != "" {
			t.Fatalf("mine: %v %+v (names must stay hidden from the requester)", err, mine)
		}
		// rm_a cannot approve (no permission), nor can the requester approve their own.
		_, err = svc.Approve(b.As("rm_a"), r.ID, "")
		wantCode(t, "rm approves", err, kehu.EFORBIDDEN)
		inbox, err := svc.Requests(b.As("branch_manager"), entitlement.StatusPending, false)
		if err != nil || len(inbox) != 1 || inbox[0].CustomerName != b1.Name {
			t.Fatalf("inbox: %v %+v", err, inbox)
		}
		_, err = svc.Deny(b.As("branch_manager"), r.ID, "")
		wantCode(t, "deny without comment", err, kehu.EINVALID)
		got, err := svc.Approve(b.As("branch_manager"), r.ID, "ok")
		if err != nil || got.Status != entitlement.StatusApproved || got.ExpiresAt == nil {
			t.Fatalf("approve: %v %+v", err, got)
		}
		_, err = svc.Approve(b.As("hq_compliance"), r.ID, "again")
		wantCode(t, "second decision", err, kehu.ECONFLICT)
		if !sees(t, b, "rm_a", b1) {
			t.Fatal("rm_a does not see b1 after approval")
		}
		if _, err := b.AccountService().Summary(b.As("rm_a"), b1.ID); err != nil {
			t.Fatalf("summary with grant: %v", err)
		}
		// A grant opens reading, never writing.
		mobile := "13912345678"
		_, err = b.CustomerService().Update(b.As("rm_a"), b1.ID, customer.Update{Mobile: &mobile})
		wantCode(t, "update with grant", err, kehu.ENOTFOUND)
		b.Clock.Advance(2*time.Hour - time.Second)
		if !sees(t, b, "rm_a", b1) {
			t.Fatal("grant ended early")
		}
		b.Clock.Advance(time.Second)
		if sees(t, b, "rm_a", b1) {
			t.Fatal("rm_a still sees b1 after expiry")
		}
		if _, err := b.AccountService().Summary(b.As("rm_a"), b1.ID); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Fatalf("summary after expiry: %v", err)
		}
		exp, err := svc.Requests(b.As("rm_a"), entitlement.StatusExpired, true)
		if err != nil || len(exp) != 1 || exp[0].StatusAt(b.Clock.Now()) != entitlement.StatusExpired {
			t.Fatalf("expired list: %v %+v", err, exp)
		}
		_, err = svc.Revoke(b.As("rm_a"), r.ID, "")
		wantCode(t, "revoke expired", err, kehu.ECONFLICT)
	})
}

func TestApproverRules(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.EntitlementService()
		// A manager of outlet B requests access to an outlet-A customer; a
		// manager at outlet B cannot approve requests about outlet A.
		addUser(t, b, "mgr_b", access.BranchManager, b.OutletB.ID, b.OutletB.Path)
		r, err := svc.Request(b.As("mgr_b"), entitlement.NewRequest{CustomerID: b.Customers["a1"].ID,
			Scope: entitlement.GrantCustomer, Reason: "joint visit", Hours: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Approve(b.As("mgr_b"), r.ID, "")
		wantCode(t, "self approval", err, kehu.ENOTFOUND) // outside their subtree: not even visible
		addUser(t, b, "mgr_b2", access.BranchManager, b.OutletB.ID, b.OutletB.Path)
		_, err = svc.Approve(b.As("mgr_b2"), r.ID, "")
		wantCode(t, "approver outside subtree", err, kehu.ENOTFOUND)
		// The city manager may not decide their own request either.
		own, err := svc.Request(b.As("branch_manager"), entitlement.NewRequest{CustomerID: b.Customers["a1"].ID,
			Scope: entitlement.GrantC2Fields, Reason: "check", Hours: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Approve(b.As("branch_manager"), own.ID, "")
		wantCode(t, "own request", err, kehu.EFORBIDDEN)
		if _, err := svc.Approve(b.As("hq_compliance"), own.ID, "fine"); err != nil {
			t.Fatal(err)
		}
		ok, err := svc.HasGrant(b.As("branch_manager"), b.Customers["a1"].ID, entitlement.GrantC2Fields)
		if err != nil || !ok {
			t.Fatalf("c2 grant: %v %v", ok, err)
		}
		// Revoking ends the grant at once.
		got, err := svc.Approve(b.As("branch_manager"), r.ID, "")
		if err != nil || got.Status != entitlement.StatusApproved {
			t.Fatal(err)
		}
		if !sees(t, b, "mgr_b", b.Customers["a1"]) {
			t.Fatal("grant did not open a1")
		}
		if _, err := svc.Revoke(b.As("mgr_b"), r.ID, "done"); err != nil {
			t.Fatal(err)
		}
		if sees(t, b, "mgr_b", b.Customers["a1"]) {
			t.Fatal("revoked grant still open")
		}
		// Invalid input is named field by field.
		_, err = svc.Request(b.As("rm_a"), entitlement.NewRequest{Scope: "all", Hours: 1000})
		wantCode(t, "bad request", err, kehu.EINVALID)
	})
}

func TestBreakGlass(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.EntitlementService()
		addUser(t, b, "cc_b", access.CallCenterAgent, b.OutletB.ID, b.OutletB.Path)
		a1 := b.Customers["a1"]
		if sees(t, b, "cc_b", a1) {
			t.Fatal("cc_b sees a1 before break glass")
		}
		_, err := svc.BreakGlass(b.As("rm_a"), entitlement.NewBreakGlass{CustomerID: a1.ID, Reason: "x", Ticket: "T1"})
		wantCode(t, "rm breaks glass", err, kehu.EFORBIDDEN)
		_, err = svc.BreakGlass(b.As("cc_b"), entitlement.NewBreakGlass{CustomerID: a1.ID})
		wantCode(t, "no reason", err, kehu.EINVALID)
		_, err = svc.BreakGlass(b.As("cc_b"), entitlement.NewBreakGlass{CustomerID: 999999, Reason: "x", Ticket: "T1"})
		wantCode(t, "unknown customer", err, kehu.ENOTFOUND)
		g, err := svc.BreakGlass(b.As("cc_b"), entitlement.NewBreakGlass{CustomerID: a1.ID, Reason: "来电挂失", Ticket: "CALL-1"})
		if err != nil || !g.ExpiresAt.Equal(b.Clock.Now().Add(15*time.Minute)) {
			t.Fatalf("break glass: %v %+v", err, g)
		}
		if !sees(t, b, "cc_b", a1) {
			t.Fatal("break glass did not open a1")
		}
		b.Clock.Advance(15 * time.Minute)
		if sees(t, b, "cc_b", a1) {
			t.Fatal("break glass still open after 15 minutes")
		}
		no := false
		q, err := svc.BreakGlassQueue(b.As("hq_compliance"), &no)
		if err != nil || len(q) != 1 || q[0].CustomerName != a1.Name || q[0].Ticket != "CALL-1" {
			t.Fatalf("queue: %v %+v", err, q)
		}
		_, err = svc.BreakGlassQueue(b.As("branch_manager"), &no)
		wantCode(t, "manager reads queue", err, kehu.EFORBIDDEN)
		_, err = svc.Review(b.As("hq_compliance"), g.ID, "")
		wantCode(t, "review without comment", err, kehu.EINVALID)
		if _, err := svc.Review(b.As("hq_compliance"), g.ID, "matches call CALL-1"); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Review(b.As("hq_compliance"), g.ID, "again")
		wantCode(t, "second review", err, kehu.ECONFLICT)
		if q, _ := svc.BreakGlassQueue(b.As("hq_compliance"), &no); len(q) != 0 {
			t.Fatalf("reviewed opening still queued: %+v", q)
		}
	})
}

func TestOwnership(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		svc := b.EntitlementService()
		a1, b1 := b.Customers["a1"], b.Customers["b1"]
		rmA2 := b.Users["rm_a2"].ID
		err := svc.Transfer(b.As("rm_a"), entitlement.TransferInput{CustomerIDs: []int64{a1.ID}, OwnerID: rmA2, Reason: "x"})
		wantCode(t, "rm transfers", err, kehu.EFORBIDDEN)
		err = svc.Transfer(b.As("branch_manager"), entitlement.TransferInput{CustomerIDs: []int64{a1.ID},
			OwnerID: b.Users["teller_a"].ID, Reason: "x"})
		wantCode(t, "to a teller", err, kehu.EINVALID)
		err = svc.Transfer(b.As("branch_manager"), entitlement.TransferInput{CustomerIDs: []int64{a1.ID}, OwnerID: rmA2})
		wantCode(t, "no reason", err, kehu.EINVALID)
		// A batch is all or nothing: an unknown id stops it.
		err = svc.Transfer(b.As("branch_manager"), entitlement.TransferInput{CustomerIDs: []int64{a1.ID, 999999},
			OwnerID: rmA2, Reason: "离职交接"})
		wantCode(t, "batch with unknown id", err, kehu.ENOTFOUND)
		if !sees(t, b, "rm_a", a1) {
			t.Fatal("failed batch moved a1")
		}
		if err := svc.Transfer(b.As("branch_manager"), entitlement.TransferInput{CustomerIDs: []int64{a1.ID, b.Customers["a2"].ID},
			OwnerID: rmA2, Reason: "离职交接"}); err != nil {
			t.Fatal(err)
		}
		if sees(t, b, "rm_a", a1) || !sees(t, b, "rm_a2", a1) {
			t.Fatal("transfer did not move a1 from rm_a to rm_a2")
		}
		// A secondary RM sees the customer as their own.
		if err := svc.AddSecondary(b.As("branch_manager"), a1.ID, b.Users["rm_a"].ID); err != nil {
			t.Fatal(err)
		}
		if !sees(t, b, "rm_a", a1) {
			t.Fatal("secondary RM does not see a1")
		}
		err = svc.AddSecondary(b.As("branch_manager"), a1.ID, b.Users["rm_a"].ID)
		wantCode(t, "added twice", err, kehu.ECONFLICT)
		o, err := svc.Owners(b.As("rm_a"), a1.ID)
		if err != nil || o.Primary == nil || o.Primary.ID != rmA2 || len(o.Secondaries) != 1 || len(o.History) != 1 ||
			o.History[0].Reason != "离职交接" || o.History[0].FromOwnerName != "rm_a" {
			t.Fatalf("owners: %v %+v", err, o)
		}
		_, err = svc.Owners(b.As("rm_a"), b1.ID)
		wantCode(t, "owners out of scope", err, kehu.ENOTFOUND)
		if err := svc.RemoveSecondary(b.As("branch_manager"), a1.ID, b.Users["rm_a"].ID); err != nil {
			t.Fatal(err)
		}
		if sees(t, b, "rm_a", a1) {
			t.Fatal("removed secondary still sees a1")
		}
		// A manager of outlet B cannot move outlet-A customers or hand to outlet-A RMs.
		addUser(t, b, "mgr_b", access.BranchManager, b.OutletB.ID, b.OutletB.Path)
		err = svc.Transfer(b.As("mgr_b"), entitlement.TransferInput{CustomerIDs: []int64{a1.ID}, OwnerID: b.Users["rm_b"].ID, Reason: "x"})
		wantCode(t, "other branch's customer", err, kehu.ENOTFOUND)
		err = svc.Transfer(b.As("mgr_b"), entitlement.TransferInput{CustomerIDs: []int64{b1.ID}, OwnerID: rmA2, Reason: "x"})
		wantCode(t, "other branch's RM", err, kehu.EINVALID)
	})
}
