package suitability_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/policy"
	"kehu/internal/store"
	"kehu/internal/suitability"
	"kehu/internal/testkit"
)

// TestCheck: C_n covers R_1..R_n; ungoverned products pass; an unrated
// governed product, a missing and an expired assessment block, the expired
// one naming the date it expired.
func TestCheck(t *testing.T) {
	loc := kehu.LoadShanghai()
	now := time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC) // 09:30 in Shanghai
	at := func(s string) *time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return &tm
	}
	fund := func(r int) suitability.Product { return suitability.Product{Code: "F", Type: "fund", RiskLevel: r} }
	for _, tt := range []struct {
		name    string
		a       suitability.Assessment
		p       suitability.Product
		v       suitability.Validity
		code    string
		expires string
	}{
		{"C3 covers R3", suitability.Assessment{Level: 3, AssessedAt: at("2025-06-01 10:00")}, fund(3), 0, suitability.OK, "2026-06-01"},
		{"C3 covers R1", suitability.Assessment{Level: 3, AssessedAt: at("2025-06-01 10:00")}, fund(1), 0, suitability.OK, "2026-06-01"},
		{"C3 does not cover R4", suitability.Assessment{Level: 3, AssessedAt: at("2025-06-01 10:00")}, fund(4), 0, suitability.RiskTooHigh, "2026-06-01"},
		{"deposit is not governed", suitability.Assessment{}, suitability.Product{Type: "time_deposit"}, 0, suitability.NotGoverned, ""},
		{"insurance unrated", suitability.Assessment{Level: 5, AssessedAt: at("2026-01-01 10:00")}, suitability.Product{Type: "insurance"}, 0, suitability.ProductNotRated, "2027-01-01"},
		{"never assessed", suitability.Assessment{}, fund(1), 0, suitability.AssessmentMissing, ""},
		{"level without date", suitability.Assessment{Level: 4}, fund(1), 0, suitability.AssessmentMissing, ""},
		// Assessed 2025-03-02 (Shanghai): valid through 2026-03-01, expired on 2026-03-02.
		{"expired today", suitability.Assessment{Level: 5, AssessedAt: at("2025-03-02 08:00")}, fund(1), 0, suitability.AssessmentExpired, "2026-03-02"},
		// 2025-03-03 00:30 Shanghai is 2025-03-02 UTC: the Shanghai date counts.
		{"valid by the Shanghai date", suitability.Assessment{Level: 5, AssessedAt: at("2025-03-03 00:30")}, fund(1), 0, suitability.OK, "2026-03-03"},
		{"six-month validity", suitability.Assessment{Level: 5, AssessedAt: at("2025-08-15 10:00")}, fund(1), 6, suitability.AssessmentExpired, "2026-02-15"},
	} {
		r := suitability.Check(tt.a, tt.p, now, tt.v, loc)
		exp := ""
		if r.ExpiresOn != nil {
			exp = r.ExpiresOn.String()
		}
		if r.Code != tt.code || exp != tt.expires || r.Suitable != (tt.code == suitability.OK || tt.code == suitability.NotGoverned) ||
			r.Reassess != (tt.code == suitability.AssessmentExpired || tt.code == suitability.AssessmentMissing) {
			t.Errorf("%s: %+v, want %s expiring %q", tt.name, r, tt.code, tt.expires)
		}
		if r.ZH == "" || r.EN == "" || r.ZH == r.EN {
			t.Errorf("%s: wording %q / %q", tt.name, r.ZH, r.EN)
		}
	}
	r := suitability.Check(suitability.Assessment{Level: 2, AssessedAt: at("2024-01-05 10:00")}, fund(1), now, 0, loc)
	if r.ZH != "风险评估已于2025-01-05过期，需重新评估" || r.EN != "Risk assessment expired on 2025-01-05: re-assessment needed" {
		t.Errorf("expired wording: %q / %q", r.ZH, r.EN)
	}
}

func setRisk(t *testing.T, b *testkit.Bank, id int64, level int, at *time.Time) {
	t.Helper()
	err := b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec("UPDATE customers SET risk_level = $1, risk_assessed_at = $2 WHERE id = $3", level, at, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func countAudit(t *testing.T, b *testkit.Bank, action string, customerID int64) int {
	t.Helper()
	var n int
	err := b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRow("SELECT count(*) FROM audit_log WHERE action = $1 AND customer_id = $2", action, customerID).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestForCustomer: scoped (out of scope is not found), one audit record per
// report, the shelf lists the suitable governed products first, an unknown
// product is not found, and the validity comes from the policy settings.
func TestForCustomer(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t) // WM-R2-180 (wealth R2), FD-EQ01 (fund R4), deposits
		svc := b.SuitabilityService()
		a1 := b.Customers["a1"].ID
		assessed := b.Clock.Now().AddDate(0, -8, 0)
		setRisk(t, b, a1, 3, &assessed)
		rep, err := svc.ForCustomer(b.As("rm_a"), a1, "")
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Valid || rep.Suitable != 1 || len(rep.Results) != 2 || rep.Results[0].Product.Code != "WM-R2-180" ||
			rep.Results[1].Code != suitability.RiskTooHigh || rep.ValidityMonths != 12 {
			t.Errorf("shelf: %+v", rep)
		}
		if n := countAudit(t, b, suitability.ActionRead, a1); n != 1 {
			t.Errorf("%d audit records, want 1", n)
		}
		one, err := svc.ForCustomer(b.As("rm_a"), a1, "TD12")
		if err != nil || len(one.Results) != 1 || one.Results[0].Code != suitability.NotGoverned {
			t.Errorf("deposit: %+v %v", one, err)
		}
		if _, err := svc.ForCustomer(b.As("rm_a"), a1, "NOPE"); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("unknown product: %v", err)
		}
		if _, err := svc.ForCustomer(b.As("rm_b"), a1, ""); kehu.ErrorCode(err) != kehu.ENOTFOUND {
			t.Errorf("out of scope: %v", err)
		}
		// Six months' validity: the eight-month-old assessment expired.
		ps := b.PolicyService()
		in := policy.InputOf(policy.Defaults(30))
		in.AssessmentValidityMonths = 6
		if _, err := ps.UpdateSettings(b.As("hq_marketing"), in); err != nil {
			t.Fatal(err)
		}
		rep, err = svc.ForCustomer(b.As("rm_a"), a1, "WM-R2-180")
		if err != nil || rep.Valid || rep.Results[0].Code != suitability.AssessmentExpired || !rep.Results[0].Reassess {
			t.Errorf("six months: %+v %v", rep, err)
		}
	})
}
