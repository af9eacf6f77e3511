package privacy

import (
	"context"
	"strconv"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Export returns everything the bank holds about customer id, in clear, for
// a data-subject access request, and records one customer.export entry with
// the number of records and, as its changes, the records of each section
// ("accounts" → "3"): what was handed over, never a value of it. Only
// privacy managers export, within their scope.
func (s *Service) Export(ctx context.Context, id int64) (Export, error) {
	_, scope, err := s.manager(ctx)
	if err != nil {
		return Export{}, err
	}
	var e Export
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if e, err = s.store.ExportData(ctx, id, scope, MaxExportRows); err != nil {
			return err
		}
		e.Format, e.GeneratedAt = ExportFormat, s.clock.Now()
		var parts []audit.Change
		for _, sec := range e.Sections() {
			parts = append(parts, audit.Change{Field: sec.Name, New: strconv.Itoa(sec.Records)})
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.CustomerExport, CustomerID: id, Object: customerObject(id),
			Count: e.Rows(), Changes: parts, Reason: "data subject access request (PIPL Art. 45), " + ExportFormat})
	})
	if err != nil {
		return Export{}, err
	}
	return e, nil
}

// BulkExport streams the customers f matches in the actor's scope to fn,
// masked as the actor sees them. Above the bulk threshold — for this
// request, or counting what the user was shown today — it needs an approved
// bulk-export approval, which it uses up; without one it records the refusal,
// raises a compliance alert and returns an *ApprovalRequiredError. It
// returns the number of customers exported.
func (s *Service) BulkExport(ctx context.Context, f customer.Filter, fn func(customer.Customer) error) (int64, error) {
	scope, err := s.customers.ReadScope(ctx)
	if err != nil {
		return 0, err
	}
	a, _ := kehu.ActorFrom(ctx)
	f.Scope, f.After = scope, kehu.Cursor{}
	n, err := s.store.CountCustomers(ctx, f)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	used, err := s.store.CustomersShownSince(ctx, a.Username, startOfDay(now))
	if err != nil {
		return 0, err
	}
	limit := s.cfg.BulkThreshold
	entry := audit.Entry{Action: audit.CustomerExport, Object: "customers", Count: int(n)}
	if n > limit || used+n > limit {
		if err := s.approveBulk(ctx, a, n, used, now, entry); err != nil {
			return 0, err
		}
	} else if err := s.audit.Record(ctx, entry); err != nil {
		return 0, err
	}
	var sent int64
	err = s.store.EachCustomer(ctx, f, func(c customer.Customer) error {
		sent++
		return fn(customer.Present(ctx, c))
	})
	return sent, err
}

// GateExport applies the bulk-export rule to another module's export of
// n customers' records (a campaign's member list): entry is that export's
// own audit record (its Count set to n here). At or under the bulk
// threshold — for this export and counting what the user was shown today —
// it records entry and allows. Above it, an approved bulk-export request
// is used up exactly as for BulkExport: entry is recorded naming the
// approval and compliance is alerted; without one entry is recorded as
// denied, compliance is alerted and an *ApprovalRequiredError is returned.
func (s *Service) GateExport(ctx context.Context, n int64, entry audit.Entry) error {
	a, ok := kehu.ActorFrom(ctx)
	if !ok {
		return kehu.Errorf(kehu.EUNAUTHORIZED, "authentication required")
	}
	now := s.clock.Now()
	used, err := s.store.CustomersShownSince(ctx, a.Username, startOfDay(now))
	if err != nil {
		return err
	}
	entry.Count = int(n)
	if limit := s.cfg.BulkThreshold; n > limit || used+n > limit {
		return s.approveBulk(ctx, a, n, used, now, entry)
	}
	return s.tx.WithTx(ctx, func(ctx context.Context) error { return s.audit.Record(ctx, entry) })
}

// approveBulk uses up an approval for n customers, recording the export
// (entry, with the approval named in its reason) and alerting compliance;
// without one it records entry as denied and the alert and returns the
// refusal.
func (s *Service) approveBulk(ctx context.Context, a kehu.Actor, n, used int64, now time.Time, entry audit.Entry) error {
	refused := false
	note := func(why string) string {
		if entry.Reason == "" {
			return why
		}
		return entry.Reason + "; " + why
	}
	err := s.tx.WithTx(ctx, func(ctx context.Context) error {
		ap, err := s.store.UsableApproval(ctx, a.UserID, n, now)
		alert := Alert{Kind: AlertBulkApproved, UserID: a.UserID, Customers: n, Threshold: s.cfg.BulkThreshold,
			CreatedAt: now}
		switch kehu.ErrorCode(err) {
		case "":
			ap.Status, ap.UsedAt = ApprovalUsed, &now
			if err := s.store.UpdateApproval(ctx, ap); err != nil {
				return err
			}
			alert.Detail = approvalObject(ap.ID)
			entry.Reason = note(approvalObject(ap.ID))
		case kehu.ENOTFOUND:
			refused = true
			alert.Kind = AlertBulkRefused
			entry.Outcome, entry.Reason = "denied", note("bulk threshold exceeded without approval")
		default:
			return err
		}
		if _, err := s.store.CreateAlert(ctx, alert); err != nil {
			return err
		}
		return s.audit.Record(ctx, entry)
	})
	if err != nil {
		return err
	}
	if refused {
		return &ApprovalRequiredError{Customers: n, UsedToday: used, Threshold: s.cfg.BulkThreshold}
	}
	return nil
}

// startOfDay is midnight in Asia/Shanghai of the business day of now.
func startOfDay(now time.Time) time.Time {
	t := now.In(shanghai)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, shanghai)
}
