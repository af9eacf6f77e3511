package testkit

import (
	"time"

	"kehu/internal/campaign"
	"kehu/internal/outbox"
	"kehu/internal/task"
)

// CampaignService returns a campaign service over the bank wired like
// `kehu serve`'s (tasks nil: no task channels), launching in batches of batch customers
// (0: the default).
func (b *Bank) CampaignService(batch int, tasks *task.Service) *campaign.Service {
	return b.CampaignServiceAt(b.Clock, batch, tasks)
}

// CampaignServiceAt is CampaignService on another clock (a test that stops
// a launch part-way wraps the bank's clock).
func (b *Bank) CampaignServiceAt(clock interface{ Now() time.Time }, batch int, tasks *task.Service) *campaign.Service {
	pol := b.PolicyService()
	return campaign.NewService(campaign.Deps{Store: b.DB.Campaigns(), Customers: b.CustomerService(),
		Segments: b.SegmentService(), Policy: pol, Queue: outbox.NewQueue(b.DB.Outbox(), clock), Tasks: tasks,
		Clock: clock, Audit: b.Audit, Tx: b.DB, Batch: batch})
}
