package testkit

import (
	"testing"

	"kehu/internal/access/entitlement"
)

// BreakGlass opens customerID to username (a call-centre agent) for
// entitlement.BreakGlassDuration, as the agent would for an inbound caller:
// the call centre's scope holds no customers otherwise (access.DefaultScope).
func (b *Bank) BreakGlass(t testing.TB, username string, customerID int64) entitlement.Grant {
	t.Helper()
	g, err := b.EntitlementService().BreakGlass(b.As(username),
		entitlement.NewBreakGlass{CustomerID: customerID, Reason: "来电客户核实身份", Ticket: "CALL-0001"})
	if err != nil {
		t.Fatalf("break glass as %s: %v", username, err)
	}
	return g
}
