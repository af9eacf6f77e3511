package privacy_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"kehu/internal/c360"
	"kehu/internal/contact"
	"kehu/internal/interaction"
	"kehu/internal/privacy"
	"kehu/internal/store"
	"kehu/internal/tag"
	"kehu/internal/testkit"
)

// TestEraseClearsWhatStaffWroteDown: an erasure also removes what staff
// wrote about the customer in the 360 — the contact preferences and their
// note, every tag with its reason, the notes of interactions (the contacts
// themselves stay, without words) — and computed tags do not come back,
// neither on a view of the erased customer nor in a recompute.
func TestEraseClearsWhatStaffWroteDown(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b := testkit.NewBank(t, db)
		b.AddPortfolio(t)
		a1 := b.Customers["a1"].ID
		rm := b.As("rm_a")
		tags := b.TagService()
		if _, err := tags.EnsureDefaults(context.Background()); err != nil {
			t.Fatal(err)
		}
		var unhappy int64
		all, err := tags.Catalogue(b.As("admin"), true)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range all {
			if x.Code == "dissatisfied" {
				unhappy = x.ID
			}
		}
		if _, err := tags.Add(rm, a1, tag.Assign{TagID: unhappy, Reason: "抱怨女儿的贷款被拒"}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.ContactService().Set(rm, a1, contact.Input{PreferredChannel: "phone", ContactFrom: "20:00",
			ContactTo: "21:00", Note: "丈夫住院期间只在晚上联系"}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.InteractionService().Record(rm, a1, interaction.New{Channel: "phone", Purpose: "care",
			Note: "客户提到正在办理离婚"}); err != nil {
			t.Fatal(err)
		}
		// A wealthy customer: the view puts 高净值 on, its reason naming the AUM.
		raw(t, db, func(tx *sql.Tx) error {
			_, err := tx.Exec("UPDATE customers SET aum = 800000000 WHERE id = $1", a1)
			return err
		})
		if _, err := b.C360Service().View(rm, a1, c360.TxnFilter{}); err != nil {
			t.Fatal(err)
		}
		if r := scalar[string](t, db, `SELECT ct.reason FROM customer_tags ct JOIN tags g ON g.id = ct.tag_id
			WHERE ct.customer_id = $1 AND g.code = 'high_net_worth'`, a1); !strings.Contains(r, "¥8,000,000") {
			t.Fatalf("setup: high net worth reason %q", r)
		}
		// Erase (the portfolio's accounts closed first, as the bank would).
		raw(t, db, func(tx *sql.Tx) error {
			_, err := tx.Exec("UPDATE accounts SET status = 'closed' WHERE customer_id = $1", a1)
			return err
		})
		s := newService(b, 0)
		ctx := b.As("branch_manager")
		r, err := s.File(ctx, privacy.NewRequest{Kind: privacy.KindErase, CustomerID: a1})
		if err != nil {
			t.Fatal(err)
		}
		if r, err = s.Complete(ctx, r.ID, privacy.Completion{}); err != nil || r.Status != privacy.StatusCompleted {
			t.Fatalf("erase: %+v %v", r, err)
		}
		check := func(when string) {
			t.Helper()
			if n := scalar[int](t, db, "SELECT count(*) FROM customer_tags WHERE customer_id = $1", a1); n != 0 {
				t.Errorf("%s: %d tags left", when, n)
			}
			if n := scalar[int](t, db, "SELECT count(*) FROM customer_preferences WHERE customer_id = $1", a1); n != 0 {
				t.Errorf("%s: contact preferences left", when)
			}
			notes := scalar[string](t, db, "SELECT COALESCE(max(note), '') FROM interactions WHERE customer_id = $1", a1)
			kept := scalar[int](t, db, "SELECT count(*) FROM interactions WHERE customer_id = $1", a1)
			if notes != "" || kept == 0 {
				t.Errorf("%s: interaction notes %q, %d interactions kept", when, notes, kept)
			}
		}
		check("after erasure")
		// A later recompute, and a view of the erased customer by someone who
		// still may open it, add no computed tag back.
		if _, err := tags.Recompute(context.Background(), a1); err != nil {
			t.Fatal(err)
		}
		if _, err := tags.RecomputeAll(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		v, err := b.C360Service().View(b.As("admin"), a1, c360.TxnFilter{})
		if err != nil {
			t.Fatalf("360 of the erased customer: %v", err)
		}
		{
			if len(v.Tags) != 0 || strings.Contains(v.Preferences.Note, "住院") {
				t.Errorf("360 of the erased customer: tags %v, note %q", v.Tags, v.Preferences.Note)
			}
		}
		check("after recompute and view")
	})
}
