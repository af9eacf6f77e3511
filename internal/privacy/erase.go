package privacy

import (
	"context"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// ErasedFields are the personal fields an erasure removes or replaces,
// named in its audit record (values are never recorded).
var ErasedFields = []string{"name", "id_number", "mobile", "email", "address", "gender", "birth_date",
	"region_code", "tags", "interaction_notes", "event_details", "family_relationships", "consents"}

// erase anonymises customer id inside the caller's transaction. Natural
// persons only (PIPL protects individuals; a company's registration data is
// public), and only once the relationship has ended: while an account is
// open the bank must still know its customer (AML customer due diligence).
// Accounts, transactions and AML-relevant relationships are kept and
// flagged aml_retention until five years after today.
func (s *Service) erase(ctx context.Context, id int64) error {
	scope, err := s.customers.ReadScope(ctx)
	if err != nil {
		return err
	}
	e, err := s.store.ExportData(ctx, id, scope, 1)
	if err != nil {
		return err
	}
	switch {
	case e.Customer.Type != customer.Individual:
		return kehu.Errorf(kehu.ECONFLICT, "only a natural person's data can be erased under PIPL")
	case e.Customer.Status == customer.StatusErased:
		return kehu.Errorf(kehu.ECONFLICT, "the customer is already erased")
	}
	open, err := s.store.OpenAccounts(ctx, id)
	if err != nil {
		return err
	}
	if open > 0 {
		return kehu.Errorf(kehu.ECONFLICT, "the customer still has %d open accounts: close them first, "+
			"the bank must know an active customer", open)
	}
	now := s.clock.Now()
	until := Today(now).Time().AddDate(AMLRetentionYears, 0, 0)
	if err := s.store.EraseCustomer(ctx, Erasure{CustomerID: id, At: now, RetainedFor: AMLReason,
		RetainedUntil: kehu.DateOf(until)}); err != nil {
		return err
	}
	changes := make([]audit.Change, 0, len(ErasedFields))
	for _, f := range ErasedFields {
		changes = append(changes, audit.Change{Field: f, New: "erased"})
	}
	return s.audit.Record(ctx, audit.Entry{Action: audit.PrivacyErase, CustomerID: id, Object: customerObject(id),
		Changes: changes, Reason: "retained for " + AMLReason + " until " + kehu.DateOf(until).String()})
}
