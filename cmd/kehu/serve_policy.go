package main

import (
	"context"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/interaction"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/policy"
	"kehu/internal/store"
	"kehu/internal/suitability"
)

// policySet is the contact policy and the suitability rule (docs/POLICY.md).
type policySet struct {
	policy      *policy.Service
	suitability *suitability.Service
}

// newPolicySet wires both engines: the product quiet period defaults to the
// interaction service's (--pitch-quiet-days) until the settings are saved,
// and suitability reads its assessment validity from the policy settings.
func newPolicySet(db *store.DB, clock kehu.Clock, trail audit.Recorder, customers *customer.Service,
	interactions *interaction.Service) policySet {
	p := policy.NewService(policy.Deps{Store: db.Policy(), Customers: customers, Clock: clock, Audit: trail, Tx: db,
		QuietDays: interactions.QuietDays()})
	return policySet{policy: p, suitability: suitability.NewService(suitability.Deps{Store: db.Suitability(),
		Customers: customers, Settings: p, Clock: clock, Audit: trail})}
}

// sendCheck is the outbox's question before each send (outbox.DispatcherDeps
// .Suppress): the policy's send-time rules, with the outbox's channel names
// mapped to the policy's.
func (p policySet) sendCheck(ctx context.Context, customerID int64, ch outbox.Channel, purpose msgtemplate.Purpose) (string, error) {
	channel := string(ch)
	if ch == msgtemplate.Push {
		channel = "app_push"
	}
	return p.policy.SendCheck(ctx, customerID, channel, string(purpose))
}
