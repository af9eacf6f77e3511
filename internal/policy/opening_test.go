package policy_test

import (
	"context"
	"testing"

	"kehu/internal/contact"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// TestOpeningHonoursTheCustomersHours: Opening gives the earliest instant
// inside the bank's hours and the customer's own days and hours — the same
// instant a decision defers to — and the bank's hours alone for a customer
// without preferences or one it was not asked about.
func TestOpeningHonoursTheCustomersHours(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		b, svc, a1 := fixture(t, db)
		a2 := b.Customers["a2"].ID
		if _, err := b.ContactService().Set(b.As("rm_a"), a1, contact.Input{ContactFrom: "10:00", ContactTo: "18:00",
			ContactDays: contact.Weekdays}); err != nil {
			t.Fatal(err)
		}
		open, err := svc.Opening(context.Background(), []int64{a1, a2})
		if err != nil {
			t.Fatal(err)
		}
		bank, err := svc.BankOpen(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name     string
			customer int64
			at, want string
		}{
			{"inside both", a1, "2026-03-02 11:00", "2026-03-02 11:00"},
			{"before the customer's hours", a1, "2026-03-02 09:30", "2026-03-02 10:00"},
			{"night, then the customer's hours", a1, "2026-03-02 23:00", "2026-03-03 10:00"},
			{"Friday evening to Monday", a1, "2026-03-06 18:30", "2026-03-09 10:00"},
			{"no preferences: the bank's hours", a2, "2026-03-02 23:00", "2026-03-03 08:00"},
			{"no preferences, open", a2, "2026-03-07 09:00", "2026-03-07 09:00"},
			{"not asked about: the bank's hours", b.Customers["b1"].ID, "2026-03-02 07:00", "2026-03-02 08:00"},
		} {
			if got := open(c.customer, sh(t, c.at)); !got.Equal(sh(t, c.want)) {
				t.Errorf("%s: %s, want %s", c.name, got.In(loc).Format("2006-01-02 15:04"), c.want)
			}
		}
		if got := bank(sh(t, "2026-03-02 09:30")); !got.Equal(sh(t, "2026-03-02 09:30")) {
			t.Errorf("BankOpen moved 09:30 to %s", got)
		}
	})
}
