package testkit

import (
	"context"
	"testing"
	"time"

	"kehu/internal/audit"
	"kehu/internal/auth"
	"kehu/internal/customer"
	"kehu/internal/demo"
	"kehu/internal/identity"
	"kehu/internal/importer"
	"kehu/internal/search"
	"kehu/internal/store"
)

// IdentityService returns identity resolution over the bank, recording to
// b.Audit, scope through CustomerService.
func (b *Bank) IdentityService() *identity.Service {
	return identity.NewService(identity.Deps{Store: b.DB.Identity(), Tx: b.DB, Audit: b.Audit, Customers: b.CustomerService()})
}

// ImportEngine returns the import engine over the bank, wired like `kehu
// serve`'s: names get their search key, accounts and holdings batches end
// with the level engine's recompute. batch is the rows per transaction (0:
// the default).
func (b *Bank) ImportEngine(t testing.TB, batch int) *importer.Engine {
	t.Helper()
	return importer.NewEngine(b.ImportEngineDeps(t, batch))
}

// ImportEngineDeps are the collaborators ImportEngine wires, for a test
// that changes one of them.
func (b *Bank) ImportEngineDeps(t testing.TB, batch int) importer.EngineDeps {
	t.Helper()
	sealer, err := b.DB.ImportSealer()
	if err != nil {
		t.Fatal(err)
	}
	levels := b.LevelService()
	return importer.EngineDeps{Store: b.DB.Imports(), Identity: b.IdentityService(), Tx: b.DB,
		Audit: b.Audit, Clock: b.Clock, Sealer: sealer, NameKey: search.NameKey, BatchSize: batch,
		DeferIndexesFrom: store.DeferIndexesFrom,
		Recompute: func(ctx context.Context, ids []int64) error {
			_, err := levels.RecomputeCustomers(ctx, ids)
			return err
		}}
}

// ImportService returns the import service (uploads in t.TempDir(), at
// most maxBytes; 0: the default) with its runner started for the test's
// lifetime.
func (b *Bank) ImportService(t testing.TB, maxBytes int64) *importer.Service {
	t.Helper()
	svc := importer.NewService(importer.ServiceDeps{Engine: b.ImportEngine(t, 0), Customers: b.CustomerService(),
		Dir: t.TempDir(), MaxBytes: maxBytes})
	r := importer.NewRunner(svc, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	t.Cleanup(func() { cancel(); r.Wait() })
	return svc
}

// NewDemoBank fills db with a small demo bank (the organisations and staff
// of internal/demo, whose codes and usernames the sample files in testdata/
// use) and returns it as a Bank. Every demo user's password is Password.
// Users and Customers are left empty: demo users sign in through the UI.
func NewDemoBank(t testing.TB, db *store.DB, customers int) *Bank {
	t.Helper()
	clock := NewClock(time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC))
	if _, err := demo.Generate(context.Background(), db, demo.Options{Customers: customers, Seed: 1, Password: Password,
		Now: clock.Now()}); err != nil {
		t.Fatalf("demo bank: %v", err)
	}
	trail := audit.NewLog(db.Audit(), db, clock)
	cfg := FastAuth
	cfg.Audit = trail
	as, err := auth.NewService(db.Users(), clock, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Bank{DB: db, Auth: as, Clock: clock, Audit: trail, Users: map[string]auth.User{},
		Customers: map[string]customer.Customer{}}
}
