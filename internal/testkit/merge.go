package testkit

import (
	"context"
	"database/sql"
	"testing"

	"kehu/internal/customer"
	"kehu/internal/identity"
)

// Merger returns the duplicate review service over the bank, wired like
// `kehu serve`'s (without the level recompute).
func (b *Bank) Merger() *identity.Merger {
	return identity.NewMerger(identity.MergerDeps{Store: b.DB.Merges(), Duplicates: b.DB.Identity(),
		Customers: b.CustomerService(), Tx: b.DB, Audit: b.Audit, Clock: b.Clock})
}

// AddDuplicate creates a second record of customer key's person, as a
// legacy system would have filed it: the same name and mobile under a
// passport number, with an e-mail, at the same outlet and RM, and queues the
// pair as the import's resolution does. It returns the record and the pair.
func (b *Bank) AddDuplicate(t testing.TB, key, passport string) (customer.Customer, int64) {
	t.Helper()
	orig := b.Customers[key]
	dup, err := b.CustomerService().Create(b.As("admin"), customer.New{Type: customer.Individual, Name: orig.Name,
		IDType: customer.Passport, IDNumber: passport, Gender: orig.Gender, Mobile: orig.Mobile,
		Email: "dup." + passport + "@example.cn", OrgID: orig.OrgID, OwnerID: orig.OwnerID})
	if err != nil {
		t.Fatalf("add duplicate of %s: %v", key, err)
	}
	return dup, b.QueueDuplicate(t, orig.ID, dup.ID)
}

// QueueDuplicate files a pending suspected pair of two customers.
func (b *Bank) QueueDuplicate(t testing.TB, x, y int64) int64 {
	t.Helper()
	var id int64
	err := b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRow(`INSERT INTO duplicate_candidates (customer_id, other_id, rule, score, evidence, status,
			created_at) VALUES ($1, $2, 'name_mobile', 80, 'name,mobile', 'pending', $3) RETURNING id`,
			min(x, y), max(x, y), b.Clock.Now()).Scan(&id)
	})
	if err != nil {
		t.Fatalf("queue duplicate: %v", err)
	}
	return id
}
