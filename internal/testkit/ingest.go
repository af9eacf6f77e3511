package testkit

import (
	"kehu/internal/ingest"
)

// IngestService returns a feed service over the bank, wired like `kehu
// serve`'s: scope through CustomerService, recording to b.Audit in the
// bank's transactions, telling subs what each batch stored.
func (b *Bank) IngestService(cfg ingest.Config, subs ...ingest.Subscriber) *ingest.Service {
	return ingest.NewService(ingest.Deps{Store: b.DB.Ingest(), Customers: b.CustomerService(), Clock: b.Clock,
		Audit: b.Audit, Tx: b.DB, Config: cfg, Subscribers: subs})
}
