package privacy

import (
	"context"
	"slices"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// customerObject names a customer in an audit entry.
func customerObject(id int64) string { return "customer:" + strconv.FormatInt(id, 10) }

// Consents returns the customer's marketing consent on every channel (a
// channel never answered is not granted) and records the read. The contact
// policy of marketing reads many customers at once with Consented instead.
func (s *Service) Consents(ctx context.Context, customerID int64) ([]Consent, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return nil, err
	}
	if err := s.visible(ctx, customerID); err != nil {
		return nil, err
	}
	var out []Consent
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.allConsents(ctx, customerID); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.ConsentRead, CustomerID: customerID,
			Object: customerObject(customerID), Count: len(out)})
	})
	return out, err
}

// allConsents fills the channels without a row.
func (s *Service) allConsents(ctx context.Context, customerID int64) ([]Consent, error) {
	stored, err := s.store.Consents(ctx, customerID)
	if err != nil {
		return nil, err
	}
	out := make([]Consent, 0, len(Channels))
	for _, ch := range Channels {
		c := Consent{Channel: ch}
		if i := slices.IndexFunc(stored, func(x Consent) bool { return x.Channel == ch }); i >= 0 {
			c = stored[i]
		}
		out = append(out, c)
	}
	return out, nil
}

// SetConsents grants or withdraws channels for a customer in scope, at once
// (a withdrawal takes effect for the next contact decision). Withdrawing
// needs only customer.read, so whoever hears "stop calling me" — the call
// centre included — can act on it (PIPL Art. 15 asks for a convenient way
// to withdraw); granting needs customer.write. source says how the customer
// told the bank.
func (s *Service) SetConsents(ctx context.Context, customerID int64, changes []ConsentChange, source string) ([]Consent, error) {
	a, err := access.ActorWith(ctx, access.CustomerRead)
	if err != nil {
		return nil, err
	}
	var v kehu.Validation
	if len(changes) == 0 {
		v.Add("consents", "must name at least one channel")
	}
	seen := map[string]bool{}
	for i, c := range changes {
		if !validChannel(c.Channel) || seen[c.Channel] {
			v.Add("consents["+strconv.Itoa(i)+"].channel", "must be a distinct one of sms, app_push, email, wechat, phone, rm_visit")
		}
		seen[c.Channel] = true
		if c.Granted && !access.Can(a.Role, access.CustomerWrite) {
			return nil, kehu.Errorf(kehu.EFORBIDDEN, "your role may withdraw consent but not record it")
		}
	}
	if !slices.Contains(Sources, source) || source == "erasure" {
		v.Add("source", "must be one of counter, phone, online, written, privacy_request")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.visible(ctx, customerID); err != nil {
		return nil, err
	}
	var out []Consent
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.setConsents(ctx, customerID, changes, source)
		return err
	})
	return out, err
}

// setConsents writes changes and their audit record; the caller holds the
// transaction and has checked permission and scope.
func (s *Service) setConsents(ctx context.Context, customerID int64, changes []ConsentChange, source string) ([]Consent, error) {
	a, _ := kehu.ActorFrom(ctx)
	cur, err := s.allConsents(ctx, customerID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var diff []audit.Change
	for _, ch := range changes {
		i := slices.IndexFunc(cur, func(x Consent) bool { return x.Channel == ch.Channel })
		old := cur[i]
		next := Consent{Channel: ch.Channel, Granted: ch.Granted, ChangedAt: &now, Source: source, ChangedBy: &a.UserID}
		if err := s.store.SetConsent(ctx, customerID, next); err != nil {
			return nil, err
		}
		cur[i] = next
		diff = append(diff, audit.Change{Field: ch.Channel, Old: grantWord(old), New: grantWord(next)})
	}
	return cur, s.audit.Record(ctx, audit.Entry{Action: audit.ConsentChange, CustomerID: customerID,
		Object: customerObject(customerID), Changes: diff, Reason: source})
}

func grantWord(c Consent) string {
	switch {
	case c.Granted:
		return "granted"
	case c.ChangedAt != nil:
		return "withdrawn"
	}
	return "none"
}

// Consented returns which of ids have granted channel now, for the contact
// policy deciding a campaign's audience. It reveals no personal data (ids in,
// booleans out), so it is not recorded; the caller must already hold the
// ids legitimately.
func (s *Service) Consented(ctx context.Context, channel string, ids []int64) (map[int64]bool, error) {
	if _, err := access.ActorWith(ctx, access.CustomerRead); err != nil {
		return nil, err
	}
	if !validChannel(channel) {
		return nil, kehu.Errorf(kehu.EINVALID, "unknown channel %q", channel)
	}
	return s.store.ConsentedCustomers(ctx, channel, ids)
}
