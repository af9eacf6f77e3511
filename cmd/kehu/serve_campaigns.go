package main

import (
	"context"
	"log/slog"

	"kehu/internal/audit"
	"kehu/internal/campaign"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/outbox"
	"kehu/internal/policy"
	"kehu/internal/segment"
	"kehu/internal/store"
	"kehu/internal/task"
)

// campaignSet is `kehu serve`'s campaigns (docs/CAMPAIGNS.md): the service
// the API and the 营销活动 page call, and the runner that launches due runs
// in this server (claimed in the database, so servers sharing it never run
// one twice). It lives in the outbox's configuration because campaigns only
// exist where messages can be queued.
type campaignSet struct {
	service *campaign.Service
	runner  *campaign.Runner
}

// wireCampaigns builds the campaign service and its runner; nothing when the
// outbox is not configured (tests and benchmarks).
func (c *outboxConfig) wireCampaigns(db *store.DB, clock kehu.Clock, trail *audit.Log, customers *customer.Service,
	segments *segment.Service, pol *policy.Service, tasks *task.Service, logger *slog.Logger) {
	if c == nil {
		return
	}
	c.campaigns.service = campaign.NewService(campaign.Deps{Store: db.Campaigns(), Customers: customers,
		Segments: segments, Policy: pol, Queue: outbox.NewQueue(db.Outbox(), clock), Tasks: tasks, Clock: clock,
		Audit: trail, Tx: db, Logger: logger.With("component", "campaign")})
	c.campaigns.runner = campaign.NewRunner(c.campaigns.service, 0)
}

// campaignService is the campaign service, nil when not wired.
func (c *outboxConfig) campaignService() *campaign.Service {
	if c == nil {
		return nil
	}
	return c.campaigns.service
}

// startCampaigns runs due launches until ctx ends; the returned function
// waits for the runner (a run in progress keeps its checkpoint).
func (c *outboxConfig) startCampaigns(ctx context.Context) (wait func()) {
	if c == nil || c.campaigns.runner == nil {
		return func() {}
	}
	c.campaigns.runner.Start(ctx)
	return c.campaigns.runner.Wait
}
