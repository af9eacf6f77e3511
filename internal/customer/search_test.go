package customer_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/cnid"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// searchBank is the test bank plus customers whose names exercise the
// search classes: pinyin initials with zh/ch/sh, polyphonic surnames,
// company names that share a word.
type searchBank struct {
	*testkit.Bank
	svc  *customer.Service
	keys map[int64]string // customer id → key in Customers
}

func newSearchBank(t *testing.T, db *store.DB) *searchBank {
	t.Helper()
	b := testkit.NewBank(t, db)
	b.AddPortfolio(t) // accounts: a1 holds testkit.AccountNo(1..3), b1 AccountNo(4)
	sb := &searchBank{Bank: b, svc: b.CustomerService(), keys: map[int64]string{}}
	for i, c := range []struct {
		key, name, owner string
		outlet           int64
		corporate        bool
	}{
		{"zhangsan", "张三", "rm_a", b.OutletA.ID, false},
		{"zhangshan", "张山", "rm_a2", b.OutletA.ID, false},
		{"shan", "单建明", "rm_a", b.OutletA.ID, false},
		{"dang", "党建明", "rm_b", b.OutletB.ID, false},
		{"zeng", "曾国藩", "rm_b", b.OutletB.ID, false},
		{"zou", "邹森", "rm_a", b.OutletA.ID, false},
		{"hengxin_hz", "杭州恒信贸易有限公司", "rm_a", b.OutletA.ID, true},
		{"hengxin_cq", "重庆恒信贸易有限公司", "rm_b", b.OutletB.ID, true},
		{"hengxin", "恒信科技有限公司", "rm_b", b.OutletB.ID, true},
	} {
		owner := b.Users[c.owner].ID
		n := customer.New{Type: customer.Individual, Name: c.name, OrgID: c.outlet, OwnerID: &owner,
			IDNumber: testkit.ResidentID("3301061980010" + strconv.Itoa(1000+i)), Mobile: "1391111" + strconv.Itoa(1000+i)}
		if c.corporate {
			n.Type, n.Mobile = customer.Corporate, ""
			n.IDNumber = cnid.BuildUSCC("91", "330106", "MA2H0X"+strconv.Itoa(100+i))
		}
		created, err := sb.svc.Create(b.As("admin"), n)
		if err != nil {
			t.Fatalf("create %s: %v", c.key, err)
		}
		if b.Customers[c.key], err = db.Customers().GetCustomer(b.As("admin"), created.ID, customer.ScopeFilter{}); err != nil {
			t.Fatal(err)
		}
	}
	for k, c := range b.Customers {
		sb.keys[c.ID] = k
	}
	return sb
}

// search lists every hit of q for user, paging limit rows at a time, and
// checks the count agrees with the hits.
func (sb *searchBank) search(t *testing.T, user, q string, limit int) []string {
	t.Helper()
	var got []string
	var after kehu.Cursor
	for pages := 0; ; pages++ {
		p, err := sb.svc.List(sb.As(user), customer.Filter{Query: q, Limit: limit, After: after, Count: pages == 0})
		if err != nil {
			t.Fatalf("%s searching %q: %v", user, q, err)
		}
		for _, c := range p.Items {
			got = append(got, sb.keys[c.ID])
		}
		if pages == 0 && p.Total < int64(len(p.Items)) {
			t.Errorf("%s searching %q: total %d below the %d hits of page 1", user, q, p.Total, len(p.Items))
		}
		if p.NextCursor.AfterID == 0 {
			if pages == 0 && p.Total != int64(len(got)) {
				t.Errorf("%s searching %q: total %d, hits %v", user, q, p.Total, got)
			}
			return got
		}
		if pages > 50 {
			t.Fatalf("%s searching %q: paging does not end: %v", user, q, got)
		}
		after = p.NextCursor
	}
}

func TestSearchClasses(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		sb := newSearchBank(t, db)
		c := sb.Customers
		for _, tt := range []struct {
			q    string
			want []string
		}{
			// Pinyin initials as first letters or zh/ch/sh, in key order:
			// 张三 "zhs", 张山 "zhsh", 邹森 "zs".
			{"zs", []string{"zhangsan", "zhangshan", "zou"}},
			{"ZS", []string{"zhangsan", "zhangshan", "zou"}},
			{"zhs", []string{"zhangsan", "zhangshan"}},
			{"zhsh", []string{"zhangshan"}},
			// Polyphonic surnames: 单 reads shan, 曾 zeng.
			{"sjm", []string{"shan"}},
			{"shjm", []string{"shan"}},
			{"djm", []string{"dang"}},
			{"zgf", []string{"zeng"}},
			{"cgf", nil},
			// Name prefix, in name order (byte order of UTF-8).
			{"张", []string{"zhangsan", "a1", "zhangshan"}},
			{"张三", []string{"zhangsan"}},
			{"杭州", []string{"hengxin_hz", "corp_a"}},
			// A word inside company names, after the names that start with it.
			{"恒信", []string{"hengxin", "hengxin_hz", "hengxin_cq"}},
			{"贸易有限", []string{"hengxin_hz", "hengxin_cq"}},
			{"重庆", []string{"hengxin_cq"}},
			{"cqhx", []string{"hengxin_cq"}},
			// Identifiers, exact, through their blind indexes.
			{c["zhangsan"].Mobile, []string{"zhangsan"}},
			{"+86 " + c["zhangsan"].Mobile[:3] + " " + c["zhangsan"].Mobile[3:7] + " " + c["zhangsan"].Mobile[7:], []string{"zhangsan"}},
			{c["shan"].IDNumber, []string{"shan"}},
			{strings.ToLower(c["hengxin_cq"].IDNumber), []string{"hengxin_cq"}},
			{testkit.AccountNo(2), []string{"a1"}},
			{testkit.AccountNo(4), []string{"b1"}},
			{strconv.FormatInt(c["dang"].ID, 10), []string{"dang"}},
			// Partial identifiers find nothing: no contains search on
			// encrypted columns (a short number is a customer number).
			{c["zhangsan"].Mobile[3:], nil},
			{c["shan"].IDNumber[10:], nil},
			{testkit.AccountNo(2)[4:], nil},
			{"138000", nil},
			// Hostile input is a bound parameter and matches nothing.
			{"' OR 1=1 --", nil},
			{"'; DROP TABLE customers; --", nil},
			{"%", nil},
			{"_", nil},
			{"张%", nil},
			{"恒%信", nil},
			{`\`, nil},
			{"zs' OR '1'='1", nil},
			{"<script>alert(1)</script>", nil},
			// Bytes no name holds are dropped (PostgreSQL refuses NUL).
			{"张\x00三", []string{"zhangsan"}},
			{"\xff\xfe", nil},
		} {
			got := sb.search(t, "admin", tt.q, 50)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("admin searching %q = %v, want %v", tt.q, got, tt.want)
			}
		}
	})
}

func TestSearchIsScoped(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		sb := newSearchBank(t, db)
		c := sb.Customers
		for _, tt := range []struct {
			user, q string
			want    []string
		}{
			{"rm_a", "zs", []string{"zhangsan", "zou"}},
			{"rm_a2", "zs", []string{"zhangshan"}},
			{"rm_b", "zs", nil},
			{"rm_a", "张", []string{"zhangsan", "a1"}},
			{"rm_b", "zgf", []string{"zeng"}},
			{"rm_a", "zgf", nil},
			{"rm_a", "恒信", []string{"hengxin_hz"}},
			{"rm_b", "恒信", []string{"hengxin", "hengxin_cq"}},
			{"teller_b", "jm", nil},
			{"teller_b", "djm", []string{"dang"}},
			{"teller_a", "sjm", []string{"shan"}},
			{"teller_a", "zs", []string{"zhangsan", "zhangshan", "zou"}},
			{"branch_manager", "zs", []string{"zhangsan", "zhangshan", "zou"}},
			// Exact identifiers of out-of-scope customers: nothing, and a
			// count of zero.
			{"rm_b", c["zhangsan"].Mobile, nil},
			{"rm_b", c["shan"].IDNumber, nil},
			{"rm_a", testkit.AccountNo(4), nil},
			{"rm_a", strconv.FormatInt(c["dang"].ID, 10), nil},
			{"teller_a", c["hengxin_cq"].IDNumber, nil},
			{"hq_callcenter", "zs", nil},
		} {
			got := sb.search(t, tt.user, tt.q, 50)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("%s searching %q = %v, want %v", tt.user, tt.q, got, tt.want)
			}
		}
		// A company that changes RM or outlet is found by its new people
		// only (the pieces table follows org_id and owner_id).
		rmA2, rmA := sb.Users["rm_a2"].ID, sb.Users["rm_a"].ID
		if _, err := sb.svc.Update(sb.As("admin"), c["hengxin_hz"].ID, customer.Update{OwnerID: &rmA2}); err != nil {
			t.Fatal(err)
		}
		outletA := sb.OutletA.ID
		if _, err := sb.svc.Update(sb.As("admin"), c["hengxin_cq"].ID, customer.Update{OrgID: &outletA, OwnerID: &rmA}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			user, q string
			want    []string
		}{
			{"rm_a", "恒信", []string{"hengxin_cq"}},
			{"rm_a2", "恒信", []string{"hengxin_hz"}},
			{"rm_b", "恒信", []string{"hengxin"}},
			{"teller_a", "贸易", []string{"hengxin_hz", "hengxin_cq"}},
			{"teller_b", "贸易", nil},
		} {
			got := sb.search(t, tt.user, tt.q, 50)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("after the moves, %s searching %q = %v, want %v", tt.user, tt.q, got, tt.want)
			}
		}
	})
}

func TestSearchPaging(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		sb := newSearchBank(t, db)
		for _, q := range []string{"zs", "z", "恒信", "张", "s", "h"} {
			all := sb.search(t, "admin", q, 200)
			for _, limit := range []int{1, 2, 3} {
				paged := sb.search(t, "admin", q, limit)
				if strings.Join(paged, ",") != strings.Join(all, ",") {
					t.Errorf("%q by %d: %v, in one page %v", q, limit, paged, all)
				}
			}
			seen := map[string]bool{}
			for _, k := range all {
				if seen[k] {
					t.Errorf("%q lists %s twice: %v", q, k, all)
				}
				seen[k] = true
			}
		}
		// Exact hits rank before names: a customer number that is also the
		// start of a company name. Pages of one row cross the two classes.
		id := strconv.FormatInt(sb.Customers["zou"].ID, 10)
		owner := sb.Users["rm_a"].ID
		if _, err := sb.svc.Create(sb.As("admin"), customer.New{Type: customer.Corporate, Name: id + "号仓储有限公司",
			IDNumber: cnid.BuildUSCC("91", "330106", "MA2H0Y001"), OrgID: sb.OutletA.ID, OwnerID: &owner}); err != nil {
			t.Fatal(err)
		}
		p, err := sb.svc.List(sb.As("admin"), customer.Filter{Query: id, Limit: 1})
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != sb.Customers["zou"].ID || p.NextCursor.AfterID == 0 {
			t.Fatalf("first page of %q: %+v, %v", id, p, err)
		}
		p, err = sb.svc.List(sb.As("admin"), customer.Filter{Query: id, Limit: 1, After: p.NextCursor})
		if err != nil || len(p.Items) != 1 || p.Items[0].Name != id+"号仓储有限公司" || p.NextCursor.AfterID != 0 {
			t.Fatalf("second page of %q: %+v, %v", id, p, err)
		}
	})
}

// TestSearchIsAuditedOnce checks a search leaves one customer.list record
// per request whatever the number of classes it looked in, and that the
// record holds no query (it may be an ID number or a mobile).
func TestSearchIsAuditedOnce(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		sb := newSearchBank(t, db)
		count := func() []audit.Record {
			p, err := sb.Audit.Search(sb.As("hq_compliance"), audit.Filter{Action: audit.CustomerList, Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			return p.Items
		}
		before := len(count())
		mobile := sb.Customers["zhangsan"].Mobile
		for _, q := range []string{"恒信", "zs", mobile} {
			if _, err := sb.svc.List(sb.As("rm_a"), customer.Filter{Query: q, Count: true}); err != nil {
				t.Fatal(err)
			}
		}
		recs := count()
		if len(recs) != before+3 {
			t.Fatalf("%d customer.list records after 3 searches, want %d", len(recs), before+3)
		}
		for _, r := range recs {
			if strings.Contains(fmt.Sprint(r.Object, r.Reason, r.Changes), mobile) {
				t.Errorf("audit record %d holds the searched mobile", r.ID)
			}
		}
	})
}

// TestNameKeyFollowsTheName checks create and update keep name_key (and so
// the pinyin search) in step with the name.
func TestNameKeyFollowsTheName(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		sb := newSearchBank(t, db)
		id := sb.Customers["zou"].ID
		name := "曾小红"
		if _, err := sb.svc.Update(sb.As("admin"), id, customer.Update{Name: &name}); err != nil {
			t.Fatal(err)
		}
		if got := sb.search(t, "admin", "zxh", 50); strings.Join(got, ",") != "zou" {
			t.Errorf("after renaming to %s, zxh finds %v", name, got)
		}
		if got := sb.search(t, "admin", "zs", 50); strings.Join(got, ",") != "zhangsan,zhangshan" {
			t.Errorf("after renaming, zs finds %v", got)
		}
		// A company's words follow its name too (the triggers on customers).
		corp := "重庆长江物流有限公司"
		if _, err := sb.svc.Update(sb.As("admin"), sb.Customers["hengxin_cq"].ID, customer.Update{Name: &corp}); err != nil {
			t.Fatal(err)
		}
		if got := sb.search(t, "admin", "恒信", 50); strings.Join(got, ",") != "hengxin,hengxin_hz" {
			t.Errorf("after renaming, 恒信 finds %v", got)
		}
		if got := sb.search(t, "admin", "长江物流", 50); strings.Join(got, ",") != "hengxin_cq" {
			t.Errorf("after renaming, 长江物流 finds %v", got)
		}
	})
}

// TestSearchFullPinyin checks full pinyin typed whole, with spaces or cut
// short finds names, after the exact, name and initials classes, in
// (name_pinyin, id) order, in scope, paged, and following a rename.
func TestSearchFullPinyin(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		sb := newSearchBank(t, db)
		for i, c := range []struct {
			key, name, owner string
			outlet           int64
		}{
			{"zhangwei_b", "张维", "rm_b", sb.OutletB.ID}, // same pinyin as a1 张伟
			{"lv", "吕布", "rm_a", sb.OutletA.ID},
			{"anning", "安宁", "rm_a", sb.OutletA.ID}, // key "an": an initials hit for "an"
			{"anbang", "安邦", "rm_b", sb.OutletB.ID}, // key "ab": a full-pinyin hit only
			{"shantf", "单田芳", "rm_b", sb.OutletB.ID},
		} {
			owner := sb.Users[c.owner].ID
			created, err := sb.svc.Create(sb.As("admin"), customer.New{Type: customer.Individual, Name: c.name, OrgID: c.outlet,
				OwnerID: &owner, IDNumber: testkit.ResidentID("3301061981010" + strconv.Itoa(1000+i)),
				Mobile: "1392222" + strconv.Itoa(1000+i)})
			if err != nil {
				t.Fatalf("create %s: %v", c.key, err)
			}
			sb.Customers[c.key], sb.keys[created.ID] = created, c.key
		}
		for _, tt := range []struct {
			user, q string
			want    []string
		}{
			{"admin", "zhangwei", []string{"a1", "zhangwei_b"}},
			{"admin", "zhang wei", []string{"a1", "zhangwei_b"}},
			{"admin", "ZhangWei", []string{"a1", "zhangwei_b"}},
			{"admin", "zhangw", []string{"a1", "zhangwei_b"}},
			// The initials class still answers consonant strings.
			{"admin", "zw", []string{"a1", "zhangwei_b"}},
			// Every 张 by full pinyin, in pinyin order: zhangsan,
			// zhangshan, zhangwei (by id).
			{"admin", "zhang", []string{"zhangsan", "zhangshan", "a1", "zhangwei_b"}},
			{"admin", "zhangs", []string{"zhangsan", "zhangshan"}},
			{"admin", "zhangsh", []string{"zhangshan"}},
			// ü is typed v.
			{"admin", "lvbu", []string{"lv"}},
			{"admin", "lubu", nil},
			// Surname readings: 单 is shan, 曾 zeng.
			{"admin", "shanjianming", []string{"shan"}},
			{"admin", "shan", []string{"shan", "shantf"}},
			{"admin", "danjianming", nil},
			{"admin", "zengguofan", []string{"zeng"}},
			// Company names, place readings included.
			{"admin", "chongqinghengxin", []string{"hengxin_cq"}},
			{"admin", "hangzhou", []string{"hengxin_hz", "corp_a"}},
			// Initials hits rank before full-pinyin hits: 安宁 (key "an")
			// first although "anbang" sorts before "anning".
			{"admin", "an", []string{"anning", "anbang"}},
			// Scope.
			{"rm_a", "zhangwei", []string{"a1"}},
			{"rm_b", "zhangwei", []string{"zhangwei_b"}},
			{"rm_b", "an", []string{"anbang"}},
			{"teller_b", "lvbu", nil},
			{"teller_a", "lvbu", []string{"lv"}},
			{"teller_a", "shan", []string{"shan"}},
			{"hq_callcenter", "zhangwei", nil},
		} {
			got := sb.search(t, tt.user, tt.q, 50)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("%s searching %q = %v, want %v", tt.user, tt.q, got, tt.want)
			}
		}
		// Pages of one, two and three rows give the same list (the cursor
		// crosses from the initials class into the full-pinyin class).
		for _, q := range []string{"zhang", "an", "zh", "shan", "a"} {
			all := sb.search(t, "admin", q, 200)
			for _, limit := range []int{1, 2, 3} {
				if paged := sb.search(t, "admin", q, limit); strings.Join(paged, ",") != strings.Join(all, ",") {
					t.Errorf("%q by %d: %v, in one page %v", q, limit, paged, all)
				}
			}
		}
		// A rename moves the full pinyin with the name.
		name := "王维"
		if _, err := sb.svc.Update(sb.As("admin"), sb.Customers["zhangwei_b"].ID, customer.Update{Name: &name}); err != nil {
			t.Fatal(err)
		}
		if got := sb.search(t, "admin", "zhangwei", 50); strings.Join(got, ",") != "a1" {
			t.Errorf("after renaming to %s, zhangwei finds %v", name, got)
		}
		if got := sb.search(t, "admin", "wang wei", 50); strings.Join(got, ",") != "zhangwei_b" {
			t.Errorf("after renaming to %s, wang wei finds %v", name, got)
		}
	})
}

// TestSearchReachesSecondaryAndGranted checks the two ways into a restricted
// scope beside the organisation and the owner — a secondary RM, an access
// grant — in every name class, the count included. On PostgreSQL both are
// written = ANY(ARRAY(subquery)) (store.Dialect.InSubquery) so the planner
// can serve the scope from indexes; the rows found must be the same.
func TestSearchReachesSecondaryAndGranted(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		sb := newSearchBank(t, db)
		c := sb.Customers
		check := func(when, user, q string, want ...string) {
			t.Helper()
			if got := sb.search(t, user, q, 1); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s, %s searching %q = %v, want %v", when, user, q, got, want)
			}
		}
		check("before", "rm_b", "zs")
		check("before", "hq_callcenter", "张")
		err := db.Entitlements().AddSecondary(sb.As("admin"), c["zhangsan"].ID, sb.Users["rm_b"].ID, sb.Users["admin"].ID, sb.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		sb.BreakGlass(t, "hq_callcenter", c["zhangshan"].ID)
		for _, q := range []string{"zs", "张", "zhang", "zhangs"} {
			check("secondary RM", "rm_b", q, "zhangsan")
			check("break glass", "hq_callcenter", q, "zhangshan")
		}
		check("secondary RM", "rm_b", "恒信", "hengxin", "hengxin_cq") // own companies only
		sb.Clock.Advance(time.Hour)                                  // the break-glass grant has expired
		check("after the grant", "hq_callcenter", "张")
		check("after the grant", "rm_b", "zs", "zhangsan")
	})
}
