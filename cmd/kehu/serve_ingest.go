package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/identity"
	"kehu/internal/ingest"
	"kehu/internal/kehu"
	"kehu/internal/level"
	"kehu/internal/store"
)

// ingestConfig is the feeds' part of `kehu serve` (docs/INGEST.md): how
// large a batch may be and how long a batch's Idempotency-Key is kept.
type ingestConfig struct {
	keyWindow time.Duration
	maxLines  int
	maxMiB    int
	// journeys subscribe to the feeds (docs/JOURNEYS.md).
	journeys journeySet
}

// defaultIngestConfig is the configuration without flags (tests, benchmarks).
func defaultIngestConfig() *ingestConfig {
	return &ingestConfig{keyWindow: ingest.DefaultKeyWindow, maxLines: ingest.DefaultMaxLines,
		maxMiB: ingest.DefaultMaxBytes >> 20}
}

// ingestFlags registers --ingest-key-window, --ingest-max-lines and
// --ingest-max-mib (each also KEHU_INGEST_… in the environment).
func ingestFlags(fs *flag.FlagSet) *ingestConfig {
	c := defaultIngestConfig()
	fs.DurationVar(&c.keyWindow, "ingest-key-window", c.keyWindow,
		"how long the answer to a feed batch sent with an Idempotency-Key is kept and replayed to a retry")
	fs.IntVar(&c.maxLines, "ingest-max-lines", c.maxLines, "most lines in one feed batch")
	fs.IntVar(&c.maxMiB, "ingest-max-mib", c.maxMiB, "largest feed batch body, in MiB")
	return c
}

func (c *ingestConfig) validate() error {
	switch {
	case c.keyWindow < time.Hour || c.keyWindow > 90*24*time.Hour:
		return usageError{"serve: --ingest-key-window must be between 1h and 2160h (90 days)"}
	case c.maxLines < 1 || c.maxLines > 100_000:
		return usageError{"serve: --ingest-max-lines must be between 1 and 100000"}
	case c.maxMiB < 1 || c.maxMiB > 256:
		return usageError{"serve: --ingest-max-mib must be between 1 and 256"}
	}
	return nil
}

// ingestServices are the feeds and the duplicate review.
type ingestServices struct {
	feeds  *ingest.Service
	merger *identity.Merger
}

// services wires the feeds (upserts through an import engine wired like
// `kehu import`'s) and the merge service; levels recomputes the customers
// an upsert batch, a merge or an undo touched (nil: the nightly run does).
func (c *ingestConfig) services(db *store.DB, clock kehu.Clock, trail *audit.Log, customers *customer.Service,
	levels *level.Service, logger *slog.Logger) (ingestServices, error) {
	var recompute func(ctx context.Context, ids []int64) error
	if levels != nil {
		recompute = func(ctx context.Context, ids []int64) error {
			_, err := levels.RecomputeCustomers(ctx, ids)
			return err
		}
	}
	engine, err := newImportEngine(db, trail, clock, logger, levels)
	if err != nil {
		return ingestServices{}, err
	}
	return ingestServices{
		feeds: ingest.NewService(ingest.Deps{Store: db.Ingest(), Customers: customers, Clock: clock, Audit: trail, Tx: db,
			Config:  ingest.Config{KeyWindow: c.keyWindow, MaxLines: c.maxLines, MaxBytes: int64(c.maxMiB) << 20},
			Upserts: engine, Recompute: recompute, Subscribers: []ingest.Subscriber{c.journeys.notify}}),
		merger: identity.NewMerger(identity.MergerDeps{Store: db.Merges(), Duplicates: db.Identity(), Customers: customers,
			Tx: db, Audit: trail, Clock: clock, Recompute: recompute}),
	}, nil
}
