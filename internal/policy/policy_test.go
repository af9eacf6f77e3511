package policy_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"kehu/internal/contact"
	"kehu/internal/interaction"
	"kehu/internal/kehu"
	"kehu/internal/policy"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

var loc = kehu.LoadShanghai()

// sh is a Shanghai wall-clock time.
func sh(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC()
}

func exec(t *testing.T, b *testkit.Bank, q string, args ...any) {
	t.Helper()
	if err := b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(q, args...)
		return err
	}); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func grant(t *testing.T, b *testkit.Bank, id int64, channel string, granted bool) {
	t.Helper()
	_, err := b.PrivacyService().SetConsents(b.As("admin"), id, []privacy.ConsentChange{{Channel: channel, Granted: granted}}, "counter")
	if err != nil {
		t.Fatal(err)
	}
}

// codes lists a decision's reason codes.
func codes(d policy.Decision) []string {
	var out []string
	for _, r := range d.Reasons {
		out = append(out, r.Code)
	}
	return out
}

// fixture: a1 assessed C3 eight months ago with SMS consent; products from
// the portfolio (WM-R2-180 wealth R2 = id 3, FD-EQ01 fund R4 = id 4, TD12
// deposit = id 2). The clock is Monday 2026-03-02 09:30 in Shanghai.
func fixture(t *testing.T, db *store.DB) (*testkit.Bank, *policy.Service, int64) {
	b := testkit.NewBank(t, db)
	b.AddPortfolio(t)
	a1 := b.Customers["a1"].ID
	assessed := b.Clock.Now().AddDate(0, -8, 0)
	exec(t, b, "UPDATE customers SET risk_level = 3, risk_assessed_at = $1 WHERE id = $2", assessed, a1)
	grant(t, b, a1, "sms", true)
	grant(t, b, a1, "phone", true)
	return b, b.PolicyService(), a1
}

func decide(t *testing.T, svc *policy.Service, r policy.Request) policy.Decision {
	t.Helper()
	d, err := svc.Decide(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestEveryRule walks the rules one by one on both engines.
func TestEveryRule(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, a1 := fixture(t, db)
		ctx := context.Background()
		now := b.Clock.Now()
		mk := func(id int64, channel, purpose string, product int64, at time.Time) policy.Request {
			return policy.Request{CustomerID: id, Channel: channel, Purpose: purpose, ProductID: product, At: at}
		}
		want := func(name string, d policy.Decision, outcome string, reasons ...string) {
			t.Helper()
			if d.Outcome != outcome || !slices.Equal(codes(d), reasons) {
				t.Errorf("%s: %s %v, want %s %v", name, d.Outcome, codes(d), outcome, reasons)
			}
		}
		want("allowed", decide(t, svc, mk(a1, "sms", policy.PurposeMarketing, 3, now)), policy.Allow)
		want("deposit offer", decide(t, svc, mk(a1, "sms", policy.PurposeMarketing, 2, now)), policy.Allow)

		// Status.
		a3 := b.Customers["a3"].ID
		grant(t, b, a3, "sms", true)
		exec(t, b, "UPDATE customers SET status = 'closed' WHERE id = $1", a3)
		want("closed, marketing", decide(t, svc, mk(a3, "sms", policy.PurposeMarketing, 0, now)), policy.Suppress, policy.ReasonCustomerClosed)
		want("closed, service", decide(t, svc, mk(a3, "sms", policy.PurposeService, 0, now)), policy.Allow)
		exec(t, b, "UPDATE customers SET status = 'erased' WHERE id = $1", a3)
		want("erased", decide(t, svc, mk(a3, "sms", policy.PurposeService, 0, now)), policy.Suppress, policy.ReasonCustomerErased)
		exec(t, b, "UPDATE customers SET status = 'merged' WHERE id = $1", a3)
		want("merged", decide(t, svc, mk(a3, "sms", policy.PurposeMarketing, 0, now)), policy.Suppress, policy.ReasonCustomerMerged)
		want("unknown", decide(t, svc, mk(999999, "sms", policy.PurposeMarketing, 0, now)), policy.Suppress, policy.ReasonUnknownCustomer)

		// Consent: none on email, withdrawn on wechat; service skips it.
		want("no consent", decide(t, svc, mk(a1, "email", policy.PurposeMarketing, 0, now)), policy.Suppress, policy.ReasonNoConsent)
		grant(t, b, a1, "wechat", false)
		want("withdrawn", decide(t, svc, mk(a1, "wechat", policy.PurposeMarketing, 0, now)), policy.Suppress, policy.ReasonConsentWithdrawn)
		want("service without consent", decide(t, svc, mk(a1, "email", policy.PurposeService, 0, now)), policy.Allow)

		// Suitability: R4 above C3; with the assessment expired, the
		// reason is re-assessment and names the date.
		d := decide(t, svc, mk(a1, "sms", policy.PurposeMarketing, 4, now))
		want("risk too high", d, policy.Suppress, policy.ReasonRiskTooHigh)
		exec(t, b, "UPDATE customers SET risk_assessed_at = $1 WHERE id = $2", sh(t, "2025-01-20 10:00"), a1)
		d = decide(t, svc, mk(a1, "sms", policy.PurposeMarketing, 3, now))
		want("expired", d, policy.Suppress, policy.ReasonAssessmentExpired)
		d.Word()
		if d.Reasons[0].ZH != "风险评估已于2026-01-20过期，需重新评估" || d.Reasons[0].Suitability.ExpiresOn.String() != "2026-01-20" {
			t.Errorf("expired reason: %+v", d.Reasons[0])
		}
		exec(t, b, "UPDATE customers SET risk_level = 0, risk_assessed_at = NULL WHERE id = $1", a1)
		want("never assessed", decide(t, svc, mk(a1, "sms", policy.PurposeMarketing, 3, now)), policy.Suppress, policy.ReasonAssessmentMissing)
		want("service ignores suitability", decide(t, svc, mk(a1, "sms", policy.PurposeService, 3, now)), policy.Allow)
		exec(t, b, "UPDATE customers SET risk_level = 3, risk_assessed_at = $1 WHERE id = $2", now.AddDate(0, -1, 0), a1)

		// Product quiet period after a refusal (recorded through interaction).
		_, err := b.InteractionService().Record(b.As("rm_a"), a1, interaction.New{Channel: "phone", Purpose: "marketing",
			Products: []string{"WM-R2-180"}, Response: interaction.Declined})
		if err != nil {
			t.Fatal(err)
		}
		d = decide(t, svc, mk(a1, "sms", policy.PurposeMarketing, 3, now.Add(time.Hour)))
		want("declined", d, policy.Suppress, policy.ReasonProductQuiet)
		if u := d.Reasons[0].Until; u == nil || !u.Equal(now.Add(30*24*time.Hour)) {
			t.Errorf("quiet until %v", u)
		}
		want("another product", decide(t, svc, mk(a1, "sms", policy.PurposeMarketing, 2, now.Add(time.Hour))), policy.Allow)
		want("after the quiet period", decide(t, svc, mk(a1, "sms", policy.PurposeMarketing, 3, now.Add(31*24*time.Hour))), policy.Allow)

		// Do not call, for service calls too.
		if _, err := b.ContactService().Set(b.As("rm_a"), a1, contact.Input{DoNotCall: true}); err != nil {
			t.Fatal(err)
		}
		want("do not call", decide(t, svc, mk(a1, "phone", policy.PurposeMarketing, 0, now)), policy.Suppress, policy.ReasonDoNotCall)
		want("do not call, service", decide(t, svc, mk(a1, "phone", policy.PurposeService, 0, now)), policy.Suppress, policy.ReasonDoNotCall)
		want("sms despite do not call", decide(t, svc, mk(a1, "sms", policy.PurposeMarketing, 0, now)), policy.Allow)

		// Every failing reason is listed, in rule order.
		want("all reasons", decide(t, svc, mk(a1, "phone", policy.PurposeMarketing, 4, sh(t, "2026-03-02 23:00"))),
			policy.Suppress, policy.ReasonDoNotCall, policy.ReasonRiskTooHigh, policy.ReasonQuietHours)
		_ = ctx
	})
}

// TestCapsAcrossSources: the caps count the contact log across campaigns,
// journeys and manual contacts; service contacts do not count.
func TestCapsAcrossSources(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, a1 := fixture(t, db)
		ctx := context.Background()
		now := b.Clock.Now()
		grant(t, b, a1, "email", true)
		rec := func(cs ...policy.Contact) {
			t.Helper()
			if err := svc.RecordContacts(ctx, cs); err != nil {
				t.Fatal(err)
			}
		}
		// Campaign 11 e-mailed yesterday; a service notice today.
		rec(policy.Contact{CustomerID: a1, Channel: "email", Purpose: policy.PurposeMarketing, SourceKind: policy.SourceCampaign,
			SourceID: 11, ProductID: 3, At: now.Add(-24 * time.Hour)},
			policy.Contact{CustomerID: a1, Channel: "sms", Purpose: policy.PurposeService, SourceKind: policy.SourceManual,
				At: now.Add(-time.Hour)})
		if d := decide(t, svc, policy.Request{CustomerID: a1, Channel: "sms", Purpose: policy.PurposeMarketing, At: now}); d.Outcome != policy.Allow {
			t.Errorf("one contact: %v", codes(d))
		}
		// Journey 5 sent an SMS this morning: 1 per channel per day.
		rec(policy.Contact{CustomerID: a1, Channel: "sms", Purpose: policy.PurposeMarketing, SourceKind: policy.SourceJourney,
			SourceID: 5, At: now.Add(-30 * time.Minute)})
		d := decide(t, svc, policy.Request{CustomerID: a1, Channel: "sms", Purpose: policy.PurposeMarketing, At: now})
		if !slices.Equal(codes(d), []string{policy.ReasonFrequencyCap, policy.ReasonChannelDayCap}) {
			t.Errorf("two contacts: %v", codes(d))
		}
		// Two in 7 days across sources caps the other channels too.
		d = decide(t, svc, policy.Request{CustomerID: a1, Channel: "phone", Purpose: policy.PurposeMarketing, At: now})
		if !slices.Equal(codes(d), []string{policy.ReasonFrequencyCap}) || d.Reasons[0].Count != 2 || d.Reasons[0].Limit != 2 {
			t.Errorf("phone: %+v", d)
		}
		// Eight days on, the campaign's e-mail left the window; the SMS of
		// 8 days ago still counts for nothing today.
		later := now.Add(7*24*time.Hour - 31*time.Minute + 24*time.Hour)
		if d := decide(t, svc, policy.Request{CustomerID: a1, Channel: "sms", Purpose: policy.PurposeMarketing, At: later}); d.Outcome != policy.Allow {
			t.Errorf("later: %v", codes(d))
		}
		// Raising the cap through the settings takes effect at once.
		in := policy.InputOf(policy.Defaults(30))
		in.MaxMarketing, in.MaxPerChannelDay = 3, 2
		if _, err := svc.UpdateSettings(b.As("hq_marketing"), in); err != nil {
			t.Fatal(err)
		}
		if d := decide(t, svc, policy.Request{CustomerID: a1, Channel: "sms", Purpose: policy.PurposeMarketing, At: now}); d.Outcome != policy.Allow || d.Version != 1 {
			t.Errorf("raised caps: %+v", d)
		}
		// Service messages skip the caps.
		if d := decide(t, svc, policy.Request{CustomerID: a1, Channel: "email", Purpose: policy.PurposeService, At: now}); d.Outcome != policy.Allow {
			t.Errorf("service: %v", codes(d))
		}
		if err := svc.RecordContacts(ctx, []policy.Contact{{CustomerID: a1, Channel: "fax", Purpose: policy.PurposeMarketing,
			SourceKind: policy.SourceCampaign}}); kehu.ErrorCode(err) != kehu.EINVALID {
			t.Errorf("bad channel: %v", err)
		}
	})
}

// TestQuietHoursDefer: inside the bank's quiet hours (21:00–08:00 Asia/
// Shanghai) a contact is deferred to the next allowed minute, combined with
// the customer's own hours and days.
func TestQuietHoursDefer(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, a1 := fixture(t, db)
		req := func(at string) policy.Decision {
			return decide(t, svc, policy.Request{CustomerID: a1, Channel: "sms", Purpose: policy.PurposeMarketing, At: sh(t, at)})
		}
		check := func(name string, d policy.Decision, code, until string) {
			t.Helper()
			if d.Outcome != policy.Defer || d.Reason() != code || d.DeferUntil == nil || !d.DeferUntil.Equal(sh(t, until)) {
				t.Errorf("%s: %+v, want %s until %s", name, d, code, until)
			}
		}
		check("late evening", req("2026-03-02 22:30"), policy.ReasonQuietHours, "2026-03-03 08:00")
		check("early morning", req("2026-03-03 07:59"), policy.ReasonQuietHours, "2026-03-03 08:00")
		check("at 21:00", req("2026-03-02 21:00"), policy.ReasonQuietHours, "2026-03-03 08:00")
		if d := req("2026-03-02 20:59"); d.Outcome != policy.Allow {
			t.Errorf("20:59: %+v", d)
		}
		// The customer wants weekdays 10:00–18:00.
		if _, err := b.ContactService().Set(b.As("rm_a"), a1, contact.Input{ContactFrom: "10:00", ContactTo: "18:00",
			ContactDays: contact.Weekdays}); err != nil {
			t.Fatal(err)
		}
		check("before the customer's hours", req("2026-03-02 09:30"), policy.ReasonCustomerHours, "2026-03-02 10:00")
		check("night, then the customer's hours", req("2026-03-02 23:00"), policy.ReasonQuietHours, "2026-03-03 10:00")
		check("Friday evening to Monday", req("2026-03-06 18:30"), policy.ReasonCustomerHours, "2026-03-09 10:00")
		d := req("2026-03-06 18:30")
		d.Word()
		if d.Reasons[0].ZH != "不在客户偏好的联系时间内，顺延至2026-03-09 10:00" {
			t.Errorf("wording: %q", d.Reasons[0].ZH)
		}
		// A window entirely inside the bank's quiet hours never opens.
		if _, err := b.ContactService().Set(b.As("rm_a"), a1, contact.Input{ContactFrom: "22:00", ContactTo: "23:00"}); err != nil {
			t.Fatal(err)
		}
		if d := req("2026-03-02 12:00"); d.Outcome != policy.Suppress || d.Reason() != policy.ReasonNoContactWindow {
			t.Errorf("no window: %+v", d)
		}
	})
}

// TestWithdrawnConsentWinsAtOnce: a withdrawal through the privacy service
// suppresses the very next decision, single or bulk.
func TestWithdrawnConsentWinsAtOnce(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, a1 := fixture(t, db)
		a2 := b.Customers["a2"].ID
		grant(t, b, a2, "sms", true)
		batch := policy.Batch{Channel: "sms", Purpose: policy.PurposeMarketing}
		ds, err := svc.DecideMany(context.Background(), batch, []int64{a1, a2})
		if err != nil || ds[0].Outcome != policy.Allow || ds[1].Outcome != policy.Allow {
			t.Fatalf("before: %+v %v", ds, err)
		}
		// The call centre hears "stop texting me" (customer.read suffices).
		if _, err := b.PrivacyService().SetConsents(b.As("rm_a"), a1, []privacy.ConsentChange{{Channel: "sms"}}, "phone"); err != nil {
			t.Fatal(err)
		}
		ds, err = svc.DecideMany(context.Background(), batch, []int64{a1, a2})
		if err != nil || ds[0].Reason() != policy.ReasonConsentWithdrawn || ds[1].Outcome != policy.Allow {
			t.Errorf("after: %+v %v", ds, err)
		}
	})
}

// TestCheckAndSettings: the staff check is scoped and leaves exactly one
// audit record; settings need marketing.write, are validated field by
// field, versioned and audited.
func TestCheckAndSettings(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, a1 := fixture(t, db)
		d, err := svc.Check(b.As("rm_a"), policy.CheckRequest{CustomerID: a1, Channel: "sms", Product: "FD-EQ01", Purpose: "marketing"})
		if err != nil || d.Outcome != policy.Suppress || d.Reasons[0].ZH != "产品风险等级R4高于客户风险承受能力C3" {
			t.Errorf("check: %+v %v", d, err)
		}
		var n int
		_ = b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
			return tx.QueryRow("SELECT count(*) FROM audit_log WHERE action = $1 AND customer_id = $2", policy.ActionCheck, a1).Scan(&n)
		})
		if n != 1 {
			t.Errorf("%d audit records", n)
		}
		if _, err := svc.Check(b.As("rm_b"), policy.CheckRequest{CustomerID: a1, Channel: "sms", Purpose: "marketing"}); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("out of scope: %v", err)
		}
		_, err = svc.Check(b.As("rm_a"), policy.CheckRequest{CustomerID: a1, Channel: "fax", Purpose: "spam"})
		if got := fields(err); !slices.Equal(got, []string{"channel", "purpose"}) {
			t.Errorf("bad check: %v", got)
		}
		if _, err := svc.Check(b.As("rm_a"), policy.CheckRequest{CustomerID: a1, Channel: "sms", Purpose: "marketing", Product: "NOPE"}); !slices.Equal(fields(err), []string{"product"}) {
			t.Errorf("unknown product: %v", err)
		}

		st, err := svc.Settings(b.As("rm_a"))
		if err != nil || st.Version != 0 || st.MaxMarketing != 2 || st.QuietFrom != "21:00" || st.QuietPeriodDays != 30 {
			t.Errorf("defaults: %+v %v", st, err)
		}
		in := policy.InputOf(st)
		if _, err := svc.UpdateSettings(b.As("rm_a"), in); kehu.ErrorCode(err) != kehu.EFORBIDDEN {
			t.Errorf("rm: %v", err)
		}
		bad := policy.Input{MaxMarketing: 0, PeriodDays: 400, MaxPerChannelDay: 1, QuietFrom: "25:00", QuietTo: "08:00",
			QuietPeriodDays: -1, AssessmentValidityMonths: 0}
		if got := fields2(svc.UpdateSettings(b.As("hq_marketing"), bad)); !slices.Equal(got, []string{"assessment_validity_months",
			"max_marketing", "period_days", "quiet_from", "quiet_period_days"}) {
			t.Errorf("bad settings: %v", got)
		}
		in.QuietFrom, in.QuietTo = "", ""
		saved, err := svc.UpdateSettings(b.As("admin"), in)
		if err != nil || saved.Version != 1 {
			t.Fatalf("save: %+v %v", saved, err)
		}
		in.MaxMarketing = 5
		if saved, err = svc.UpdateSettings(b.As("hq_marketing"), in); err != nil || saved.Version != 2 {
			t.Fatalf("save 2: %+v %v", saved, err)
		}
		st, _ = svc.Settings(b.As("rm_a"))
		if st.Version != 2 || st.MaxMarketing != 5 || st.QuietFrom != "" || st.UpdatedBy == nil || *st.UpdatedBy != b.Users["hq_marketing"].ID {
			t.Errorf("latest: %+v", st)
		}
		// No quiet hours now: 23:00 is allowed.
		if d := decide(t, svc, policy.Request{CustomerID: a1, Channel: "sms", Purpose: policy.PurposeMarketing, At: sh(t, "2026-03-02 23:00")}); d.Outcome != policy.Allow {
			t.Errorf("no quiet hours: %+v", d)
		}
		_ = b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
			return tx.QueryRow("SELECT count(*) FROM audit_log WHERE action = $1", policy.ActionUpdate).Scan(&n)
		})
		if n != 2 {
			t.Errorf("%d update records", n)
		}
	})
}

// TestSettingsBaseVersion: an edit made on the version in force saves; an
// edit made on an older version is a conflict that saves nothing and leaves
// no audit record; an edit without a base version replaces what is in force.
func TestSettingsBaseVersion(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, _ := fixture(t, db)
		st, err := svc.Settings(b.As("admin"))
		if err != nil {
			t.Fatal(err)
		}
		first, second := policy.InputOf(st), policy.InputOf(st) // two editors read version 0
		first.BaseVersion, second.BaseVersion = &st.Version, &st.Version
		first.MaxMarketing, second.MaxMarketing = 3, 4
		if saved, err := svc.UpdateSettings(b.As("admin"), first); err != nil || saved.Version != 1 {
			t.Fatalf("first editor: %+v %v", saved, err)
		}
		if _, err := svc.UpdateSettings(b.As("hq_marketing"), second); kehu.ErrorCode(err) != kehu.ECONFLICT ||
			!strings.Contains(kehu.ErrorMessage(err), "now version 1") {
			t.Errorf("second editor on version 0: %v", err)
		}
		if st, _ := svc.Settings(b.As("admin")); st.Version != 1 || st.MaxMarketing != 3 {
			t.Errorf("after the conflict: %+v", st)
		}
		var n int
		_ = b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
			return tx.QueryRow("SELECT count(*) FROM audit_log WHERE action = $1", policy.ActionUpdate).Scan(&n)
		})
		if n != 1 {
			t.Errorf("%d update records, want 1", n)
		}
		one := int64(1)
		second.BaseVersion = &one
		if saved, err := svc.UpdateSettings(b.As("hq_marketing"), second); err != nil || saved.Version != 2 {
			t.Errorf("on version 1: %+v %v", saved, err)
		}
		second.BaseVersion = nil
		if saved, err := svc.UpdateSettings(b.As("hq_marketing"), second); err != nil || saved.Version != 3 {
			t.Errorf("without a base version: %+v %v", saved, err)
		}
		neg := int64(-1)
		second.BaseVersion = &neg
		if got := fields2(svc.UpdateSettings(b.As("hq_marketing"), second)); !slices.Equal(got, []string{"base_version"}) {
			t.Errorf("negative base version: %v", got)
		}
	})
}

func fields(err error) []string {
	var out []string
	for _, f := range kehu.ErrorFields(err) {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

func fields2(_ policy.Settings, err error) []string { return fields(err) }

// TestTally: suppressions are counted by deciding reason per source and
// accumulate across runs.
func TestTally(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, a1 := fixture(t, db)
		ctx := context.Background()
		ids := []int64{a1, b.Customers["a2"].ID, b.Customers["a3"].ID, 424242}
		ds, err := svc.DecideMany(ctx, policy.Batch{Channel: "sms", Purpose: policy.PurposeMarketing, ProductID: 3}, ids)
		if err != nil {
			t.Fatal(err)
		}
		var tl policy.Tally
		tl.AddAll(ds)
		want := map[string]int64{policy.ReasonNoConsent: 2, policy.ReasonUnknownCustomer: 1}
		if tl.Allowed != 1 || !reflect.DeepEqual(tl.Suppressed, want) {
			t.Errorf("tally: %+v", tl)
		}
		for range 2 {
			if err := svc.SaveTally(ctx, policy.SourceCampaign, 77, tl); err != nil {
				t.Fatal(err)
			}
		}
		got, err := svc.Suppressions(ctx, policy.SourceCampaign, 77)
		if err != nil || got[policy.ReasonNoConsent] != 4 || got[policy.ReasonUnknownCustomer] != 2 || len(got) != 2 {
			t.Errorf("stored: %v %v", got, err)
		}
		if other, _ := svc.Suppressions(ctx, policy.SourceJourney, 77); len(other) != 0 {
			t.Errorf("journey 77: %v", other)
		}
	})
}

// TestDecideManyEqualsDecide: on random customers (status, assessment,
// preferences, consent, refusals, contact history) and random batches,
// the bulk answer equals the single answer per customer, for dense (range)
// and sparse (IN list) id sets, in the caller's order.
func TestDecideManyEqualsDecide(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, _ := fixture(t, db)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(5, 16))
		now := b.Clock.Now()
		var ids []int64
		statuses := []string{"active", "active", "active", "dormant", "closed", "erased", "merged"}
		err := b.DB.InTx(ctx, func(tx *sql.Tx) error {
			for i := range 240 {
				var id int64
				var at any
				if rng.IntN(4) > 0 {
					at = now.Add(-time.Duration(rng.IntN(800*24)) * time.Hour)
				}
				if err := tx.QueryRow(`INSERT INTO customers (type, name, id_type, id_number, id_number_bidx, org_id, status, risk_level,
					risk_assessed_at, created_at, updated_at) VALUES ('individual', $1, 'passport', $2, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
					fmt.Sprintf("客户%d", i), fmt.Sprintf("P%07d", i), b.OutletA.ID, statuses[rng.IntN(len(statuses))],
					rng.IntN(6), at, now).Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
				if rng.IntN(2) == 0 {
					from, to := []string{"", "08:30", "19:00", "10:00"}[rng.IntN(4)], ""
					if from != "" {
						to = []string{"17:00", "07:00", "22:30"}[rng.IntN(3)]
					}
					if _, err := tx.Exec(`INSERT INTO customer_preferences (customer_id, contact_from, contact_to, contact_days,
						do_not_call, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`, id, from, to,
						contact.Days[rng.IntN(3)], rng.IntN(3) == 0, now); err != nil {
						return err
					}
				}
				for _, ch := range []string{"sms", "phone"} {
					if c := rng.IntN(3); c > 0 {
						if _, err := tx.Exec(`INSERT INTO customer_consents (customer_id, channel, granted, changed_at, source)
							VALUES ($1, $2, $3, $4, 'counter')`, id, ch, c == 1, now); err != nil {
							return err
						}
					}
				}
				if rng.IntN(4) == 0 {
					var iid int64
					if err := tx.QueryRow(`INSERT INTO interactions (customer_id, user_id, occurred_at, channel, purpose, response)
						VALUES ($1, $2, $3, 'phone', 'marketing', 'declined') RETURNING id`, id, b.Users["rm_a"].ID,
						now.Add(-time.Duration(rng.IntN(60*24))*time.Hour)).Scan(&iid); err != nil {
						return err
					}
					if _, err := tx.Exec(`INSERT INTO interaction_products (interaction_id, product_id) VALUES ($1, $2)`,
						iid, 3+rng.IntN(2)); err != nil {
						return err
					}
				}
				for range rng.IntN(7) {
					if _, err := tx.Exec(`INSERT INTO contact_log (customer_id, channel, purpose, source_kind, source_id, contacted_at)
						VALUES ($1, $2, $3, 'campaign', 1, $4)`, id, []string{"sms", "phone", "email"}[rng.IntN(3)],
						policy.Purposes[rng.IntN(2)], now.Add(-time.Duration(rng.IntN(10*24*60))*time.Minute)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sparse := []int64{999999}
		for i := len(ids) - 1; i >= 0; i -= 9 {
			sparse = append(sparse, ids[i])
		}
		decisions, seen := 0, map[string]bool{}
		for round := range 12 {
			batch := policy.Batch{Channel: []string{"sms", "phone"}[rng.IntN(2)], Purpose: policy.Purposes[rng.IntN(4)%2],
				ProductID: []int64{0, 2, 3, 4}[rng.IntN(4)], At: now.Add(-time.Duration(rng.IntN(4*24*60)) * time.Minute)}
			set := ids
			if round%2 == 1 {
				set = sparse
			}
			many, err := svc.DecideMany(ctx, batch, set)
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range set {
				one := decide(t, svc, policy.Request{CustomerID: id, Channel: batch.Channel, Purpose: batch.Purpose,
					ProductID: batch.ProductID, At: batch.At})
				if !reflect.DeepEqual(one, many[i]) {
					t.Fatalf("round %d customer %d: many %+v, one %+v", round, id, many[i], one)
				}
				decisions++
				seen[many[i].Outcome] = true
				for _, c := range codes(many[i]) {
					seen[c] = true
				}
			}
		}
		// The random data exercised every outcome and most reasons.
		for _, c := range []string{policy.Allow, policy.Defer, policy.Suppress, policy.ReasonCustomerClosed,
			policy.ReasonCustomerErased, policy.ReasonCustomerMerged, policy.ReasonUnknownCustomer, policy.ReasonDoNotCall,
			policy.ReasonNoConsent, policy.ReasonConsentWithdrawn, policy.ReasonAssessmentMissing, policy.ReasonAssessmentExpired,
			policy.ReasonRiskTooHigh, policy.ReasonProductQuiet, policy.ReasonFrequencyCap, policy.ReasonChannelDayCap,
			policy.ReasonQuietHours, policy.ReasonCustomerHours} {
			if !seen[c] {
				t.Errorf("random data never produced %s", c)
			}
		}
		t.Logf("%d decisions compared", decisions)
	})
}

// TestSendCheck: just before a queued message goes out, the outbox asks
// again — consent withdrawn since the queueing suppresses it, while the
// caps its own contact filled, quiet hours and service purpose do not.
func TestSendCheck(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, a1 := fixture(t, db)
		ctx := context.Background()
		now := b.Clock.Now()
		check := func(what string, channel, purpose, want string) {
			t.Helper()
			got, err := svc.SendCheck(ctx, a1, channel, purpose)
			if err != nil || got != want {
				t.Errorf("%s: %q %v, want %q", what, got, err, want)
			}
		}
		check("queued and allowed", "sms", policy.PurposeMarketing, "")
		// The campaign recorded its contacts when it queued (two in a day):
		// the caps are full, but by these very messages.
		for i := range 2 {
			if err := svc.RecordContacts(ctx, []policy.Contact{{CustomerID: a1, Channel: "sms", Purpose: policy.PurposeMarketing,
				SourceKind: policy.SourceCampaign, SourceID: int64(20 + i), At: now}}); err != nil {
				t.Fatal(err)
			}
		}
		if d := decide(t, svc, policy.Request{CustomerID: a1, Channel: "sms", Purpose: policy.PurposeMarketing, At: now}); d.Outcome != policy.Suppress {
			t.Fatalf("caps not full: %v", codes(d))
		}
		check("caps full by its own contacts", "sms", policy.PurposeMarketing, "")
		check("no consent for e-mail", "email", policy.PurposeMarketing, policy.ReasonNoConsent)
		if _, err := b.PrivacyService().SetConsents(b.As("rm_a"), a1, []privacy.ConsentChange{{Channel: "sms"}}, "phone"); err != nil {
			t.Fatal(err)
		}
		check("consent withdrawn after queueing", "sms", policy.PurposeMarketing, policy.ReasonConsentWithdrawn)
		check("a service notice needs no marketing consent", "sms", policy.PurposeService, "")
	})
}

// TestConfirmHoldsCapsUnderConcurrentLaunches: two launches decide the same
// customer at the same moment — both see no SMS today, so both are allowed
// under "one marketing SMS per channel per day" — and then record in their
// own transactions, started together. Confirm inside each transaction lets
// exactly one of them contact the customer; the other is suppressed by the
// cap it would have broken.
func TestConfirmHoldsCapsUnderConcurrentLaunches(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, a1 := fixture(t, db)
		ctx := context.Background()
		batch := policy.Batch{Channel: "sms", Purpose: policy.PurposeMarketing, At: b.Clock.Now()}
		type launch struct {
			mark int64
			ds   []policy.Decision
		}
		var ls [2]launch
		for i := range ls {
			mark, err := svc.Mark(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := svc.DecideMany(ctx, batch, []int64{a1})
			if err != nil || ds[0].Outcome != policy.Allow {
				t.Fatalf("launch %d decided %+v (%v)", i, ds, err)
			}
			ls[i] = launch{mark, ds}
		}
		start := make(chan struct{})
		errs := make(chan error, len(ls))
		for i := range ls {
			go func() {
				<-start
				errs <- db.WithTx(ctx, func(ctx context.Context) error {
					if _, err := svc.Confirm(ctx, batch, ls[i].mark, ls[i].ds); err != nil {
						return err
					}
					if ls[i].ds[0].Outcome != policy.Allow {
						return nil
					}
					return svc.RecordContacts(ctx, []policy.Contact{{CustomerID: a1, Channel: "sms",
						Purpose: policy.PurposeMarketing, SourceKind: policy.SourceCampaign, SourceID: int64(100 + i), At: batch.At}})
				})
			}()
		}
		close(start)
		for range ls {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		var logged int
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			return tx.QueryRow("SELECT count(*) FROM contact_log WHERE customer_id = $1", a1).Scan(&logged)
		}); err != nil {
			t.Fatal(err)
		}
		var allowed, capped int
		for _, l := range ls {
			switch {
			case l.ds[0].Outcome == policy.Allow:
				allowed++
			case slices.Contains(codes(l.ds[0]), policy.ReasonChannelDayCap):
				capped++
			}
		}
		if logged != 1 || allowed != 1 || capped != 1 {
			t.Fatalf("%d contacts logged, %d launches allowed, %d capped; want 1, 1, 1 (%+v)", logged, allowed, capped, ls)
		}
		// A decision nobody overtook stands: a third launch deciding after
		// both commits is already capped, and Confirm changes nothing.
		mark, _ := svc.Mark(ctx)
		ds, _ := svc.DecideMany(ctx, batch, []int64{a1})
		var changed int
		if err := db.WithTx(ctx, func(ctx context.Context) error {
			var err error
			changed, err = svc.Confirm(ctx, batch, mark, ds)
			return err
		}); err != nil || changed != 0 || ds[0].Outcome != policy.Suppress {
			t.Fatalf("after the commits: changed %d, %+v (%v)", changed, ds, err)
		}
	})
}
