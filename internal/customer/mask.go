package customer

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// present returns c as the actor in ctx may see it: the fields the vault
// policy masks for the actor's role are masked (birth date withheld) and
// named in Masked. Every customer leaving the service goes through it, so
// the API, the pages and later exports show the same thing.
func present(ctx context.Context, c Customer) Customer {
	a, _ := kehu.ActorFrom(ctx)
	own := c.OwnerID != nil && *c.OwnerID == a.UserID
	corporate := c.Type == Corporate
	c.Masked = nil
	mask := func(field string, v *string, rule vault.Rule) {
		if *v == "" || vault.ShowsClear(a.Role, field, own) {
			return
		}
		*v = vault.Mask(rule, *v, corporate)
		c.Masked = append(c.Masked, field)
	}
	// A company's name and USCC are public registration data.
	if !corporate {
		mask("name", &c.Name, vault.RuleName)
		mask("id_number", &c.IDNumber, vault.RuleIDNumber)
	}
	if !c.BirthDate.IsZero() && !vault.ShowsClear(a.Role, "birth_date", own) {
		c.BirthDate = kehu.Date{}
		c.Masked = append(c.Masked, "birth_date")
	}
	mask("mobile", &c.Mobile, vault.RuleMobile)
	mask("email", &c.Email, vault.RuleEmail)
	mask("address", &c.Address, vault.RuleAddress)
	return c
}

// UnmaskFields are the fields Unmask can reveal.
var unmaskFields = []string{"name", "id_number", "birth_date", "mobile", "email", "address"}

// UnmaskFields returns the customer fields Unmask accepts.
func UnmaskFields() []string { return slices.Clone(unmaskFields) }

// Reason lengths for Unmask, in characters.
const (
	MinUnmaskReason = 2
	MaxUnmaskReason = 200
)

// Unmask returns the clear values of the named fields of customer id, for a
// user whose role holds customer.unmask, or who holds an active c2_fields
// grant for this customer, and who gives a reason. The reason and the field
// names (never the values) are recorded in the audit trail in the same
// transaction: no record, no values; a grant's id is named in the record's
// object. The customer must be one the actor may read, exactly as for Get.
func (s *Service) Unmask(ctx context.Context, id int64, fields []string, reason string) (map[string]string, error) {
	scope, object, err := s.mayUnmask(ctx, id, customerObject(id), reason)
	if err != nil {
		return nil, err
	}
	fields, reason, err = checkUnmask(fields, reason)
	if err != nil {
		return nil, err
	}
	changes := make([]audit.Change, len(fields))
	for i, f := range fields {
		changes[i] = audit.Change{Field: f}
	}
	var out map[string]string
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.store.GetCustomer(ctx, id, scope)
		if err != nil {
			return err
		}
		out = clearValues(c, fields)
		return s.audit.Record(ctx, audit.Entry{Action: audit.CustomerUnmask, CustomerID: id,
			Object: object, Reason: reason, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MayUnmask reports whether the actor may ask for clear values of customer
// id at all — their role holds customer.unmask or they hold an active
// c2_fields grant for it — so pages offer 显示 only where it can succeed.
// A customer outside the actor's scope is ENOTFOUND, like an unknown id. It
// reads no personal data and records nothing; Unmask decides again.
func (s *Service) MayUnmask(ctx context.Context, id int64) (bool, error) {
	visible, err := s.Visible(ctx, id)
	if err != nil {
		return false, err
	}
	if !visible {
		return false, kehu.Errorf(kehu.ENOTFOUND, "customer not found")
	}
	a, _ := kehu.ActorFrom(ctx)
	if roleUnmasks(a) {
		return true, nil
	}
	g, err := s.c2Grant(ctx, a, id)
	return g != 0, err
}

// roleUnmasks reports whether a's role holds customer.unmask and, for an API
// token, the token's scopes include it.
func roleUnmasks(a kehu.Actor) bool {
	return access.Can(a.Role, access.CustomerUnmask) &&
		(a.TokenID == 0 || slices.Contains(a.Scopes, string(access.CustomerUnmask)))
}

// c2Grant returns the id of a's active c2_fields grant for customer id, 0
// when none. API tokens never use grants: a grant is given to a person
// serving a customer, and a token needs the customer.unmask scope.
func (s *Service) c2Grant(ctx context.Context, a kehu.Actor, id int64) (int64, error) {
	if s.grants == nil || a.TokenID != 0 {
		return 0, nil
	}
	return s.grants.ActiveGrant(ctx, id, GrantC2Fields)
}

// mayUnmask returns the actor's read scope and the object to record if
// their role holds customer.unmask, or if they hold an active c2_fields
// grant for customer id (the object then names the grant too); a refusal is
// recorded against object with outcome denied (trying is itself of
// interest).
func (s *Service) mayUnmask(ctx context.Context, id int64, object, reason string) (ScopeFilter, string, error) {
	scope, a, err := s.scopeOf(ctx, access.CustomerRead)
	if err != nil {
		return ScopeFilter{}, "", err
	}
	if roleUnmasks(a) {
		return scope, object, nil
	}
	g, err := s.c2Grant(ctx, a, id)
	if err != nil {
		return ScopeFilter{}, "", err
	}
	if g != 0 {
		return scope, object + " grant:" + strconv.FormatInt(g, 10), nil
	}
	if rerr := s.audit.Record(ctx, audit.Entry{Action: audit.CustomerUnmask, CustomerID: id,
		Object: object, Reason: reason, Outcome: "denied"}); rerr != nil {
		return ScopeFilter{}, "", rerr
	}
	return ScopeFilter{}, "", kehu.Errorf(kehu.EFORBIDDEN, "your role may not see masked values")
}

// UnmaskRelated reveals one value that belongs to customer id but is kept
// outside the customer row (an account number, read by account.Service), under
// exactly Unmask's rules: the role holds customer.unmask or the actor a
// c2_fields grant for the customer (a refusal is recorded), the customer is one the actor may read (else ENOTFOUND), the
// reason has 2–200 characters, and one customer.unmask record naming field and
// object (never the value) is written in the transaction that runs read — no
// record, no value. read runs only after the scope check.
func (s *Service) UnmaskRelated(ctx context.Context, id int64, field, object, reason string,
	read func(ctx context.Context) (string, error)) (string, error) {
	scope, object, err := s.mayUnmask(ctx, id, object, reason)
	if err != nil {
		return "", err
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < MinUnmaskReason || n > MaxUnmaskReason {
		var v kehu.Validation
		v.Add("reason", reasonRule)
		return "", v.Err()
	}
	var out string
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.GetCustomer(ctx, id, scope); err != nil {
			return err
		}
		var err error
		if out, err = read(ctx); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.CustomerUnmask, CustomerID: id,
			Object: object, Reason: reason, Changes: []audit.Change{{Field: field}}})
	})
	if err != nil {
		return "", err
	}
	return out, nil
}

// reasonRule is the message of a missing or overlong unmask reason.
const reasonRule = "say why you need the clear value (2 to 200 characters)"

// checkUnmask validates an unmask request and returns the fields without
// duplicates and the trimmed reason.
func checkUnmask(fields []string, reason string) ([]string, string, error) {
	var v kehu.Validation
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < MinUnmaskReason || n > MaxUnmaskReason {
		v.Add("reason", reasonRule)
	}
	var out []string
	for _, f := range fields {
		if !slices.Contains(unmaskFields, f) {
			v.Add("fields", "unknown or not maskable field "+f)
			continue
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(fields) == 0 {
		v.Add("fields", "name at least one field")
	}
	return out, reason, v.Err()
}

// clearValues picks the named fields of c.
func clearValues(c Customer, fields []string) map[string]string {
	out := make(map[string]string, len(fields))
	for _, f := range fields {
		switch f {
		case "name":
			out[f] = c.Name
		case "id_number":
			out[f] = c.IDNumber
		case "birth_date":
			if !c.BirthDate.IsZero() {
				out[f] = c.BirthDate.String()
			} else {
				out[f] = ""
			}
		case "mobile":
			out[f] = c.Mobile
		case "email":
			out[f] = c.Email
		case "address":
			out[f] = c.Address
		}
	}
	return out
}
