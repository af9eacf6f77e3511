package testkit

import (
	"kehu/internal/journey"
	"kehu/internal/outbox"
)

// JourneyService returns the journey service over the bank.
func (b *Bank) JourneyService() *journey.Service {
	return journey.NewService(journey.ServiceDeps{Store: b.DB.Journeys(), Refs: b.DB.Journeys(),
		Customers: b.CustomerService(), Clock: b.Clock, Audit: b.Audit, Tx: b.DB})
}

// JourneyEngine returns the journey engine over the bank, wired like `kehu
// serve`'s: the contact policy, the outbox, templates, tags, segments, and
// the task and lead services.
func (b *Bank) JourneyEngine(o journey.Options) *journey.Engine {
	return journey.NewEngine(b.JourneyDeps(o))
}

// JourneyDeps are JourneyEngine's collaborators, for a test that replaces
// one.
func (b *Bank) JourneyDeps(o journey.Options) journey.Deps {
	return journey.Deps{Store: b.DB.Journeys(), Tx: b.DB, Clock: b.Clock, Policy: b.PolicyService(),
		Queue: outbox.NewQueue(b.DB.Outbox(), b.Clock), Templates: b.DB.Templates(), Tags: b.DB.Tags(),
		Segments: journey.SegmentsOf(b.SegmentService(), b.DB.Segments()), Work: journey.WorkOf(b.TaskService(), b.LeadService()),
		Options: o}
}
