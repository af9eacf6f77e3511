package policy

import (
	"context"
	"slices"
)

// sendTimeReasons are the rules that can turn against a message between
// queueing and sending — the customer withdrew consent, asked not to be
// called, closed, was merged or erased — and so are asked again by the
// outbox just before each send. The others were judged when the message was
// queued and must not be judged again: the send is already counted in the
// contact log (a cap would suppress the send it counted), quiet hours set
// the message's earliest send time, and the offer's suitability and quiet
// period belong to the campaign's decision.
var sendTimeReasons = []string{ReasonUnknownCustomer, ReasonCustomerMerged, ReasonCustomerErased, ReasonCustomerClosed,
	ReasonDoNotCall, ReasonNoConsent, ReasonConsentWithdrawn}

// SendCheck answers whether a queued message to customerID on channel may
// still go out now: "" if so, else the reason code. Withdrawn consent thus
// wins over messages already queued (issue 5: "withdrawn consent wins at
// once"). Like Decide it checks no scope and records nothing.
func (s *Service) SendCheck(ctx context.Context, customerID int64, channel, purpose string) (string, error) {
	d, err := s.Decide(ctx, Request{CustomerID: customerID, Channel: channel, Purpose: purpose})
	if err != nil {
		return "", err
	}
	for _, r := range d.Reasons {
		if slices.Contains(sendTimeReasons, r.Code) {
			return r.Code, nil
		}
	}
	return "", nil
}
