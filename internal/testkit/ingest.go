package testkit

import (
	"context"
	"testing"

	"kehu/internal/ingest"
)

// IngestService returns a feed service over the bank, wired like `kehu
// serve`'s: scope through CustomerService, upserts through the import
// engine, levels recomputed after upserts, recording to b.Audit in the
// bank's transactions, telling subs what each batch stored.
func (b *Bank) IngestService(t testing.TB, cfg ingest.Config, subs ...ingest.Subscriber) *ingest.Service {
	t.Helper()
	levels := b.LevelService()
	return ingest.NewService(ingest.Deps{Store: b.DB.Ingest(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB, Config: cfg, Subscribers: subs, Upserts: b.ImportEngine(t, 0),
		Recompute: func(ctx context.Context, ids []int64) error {
			_, err := levels.RecomputeCustomers(ctx, ids)
			return err
		}})
}
