package privacy

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/kehu"
)

// approvalObject names a bulk-export approval in audit entries and alerts.
func approvalObject(id int64) string { return "bulk_approval:" + strconv.FormatInt(id, 10) }

// MaxBulkCustomers bounds what one approval can allow.
const MaxBulkCustomers = 1000000

// RequestApproval asks for permission to export or list up to max customers
// in one request, with the business reason.
func (s *Service) RequestApproval(ctx context.Context, reason string, max int) (Approval, error) {
	a, err := access.ActorWith(ctx, access.CustomerRead)
	if err != nil {
		return Approval{}, err
	}
	reason = strings.TrimSpace(reason)
	var v kehu.Validation
	if reason == "" || utf8.RuneCountInString(reason) > MaxNotes {
		v.Add("reason", "is required, at most 2000 characters")
	}
	if max < 1 || max > MaxBulkCustomers {
		v.Add("max_customers", "must be between 1 and 1000000")
	}
	if err := v.Err(); err != nil {
		return Approval{}, err
	}
	ap := Approval{RequesterID: a.UserID, RequesterName: a.Username, Reason: reason, MaxCustomers: max,
		Status: ApprovalPending, CreatedAt: s.clock.Now()}
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if ap, err = s.store.CreateApproval(ctx, ap); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.BulkApproval, Object: approvalObject(ap.ID),
			Changes: []audit.Change{{Field: "status", New: ApprovalPending}}, Reason: reason, Count: max})
	})
	return ap, err
}

// Approvals lists approvals of requesters homed in the actor's subtree,
// newest first, optionally of one status.
func (s *Service) Approvals(ctx context.Context, status string) ([]Approval, error) {
	a, err := access.ActorWith(ctx, access.PrivacyManage)
	if err != nil {
		return nil, err
	}
	return s.store.ListApprovals(ctx, status, a.OrgPath, kehu.MaxPageSize)
}

// Decide approves or denies a pending approval of someone else in the
// actor's subtree. An approval is valid for Config.ApprovalValidity.
func (s *Service) Decide(ctx context.Context, id int64, approve bool, comment string) (Approval, error) {
	a, err := access.ActorWith(ctx, access.PrivacyManage)
	if err != nil {
		return Approval{}, err
	}
	comment = strings.TrimSpace(comment)
	if utf8.RuneCountInString(comment) > MaxNotes {
		return Approval{}, &kehu.Error{Code: kehu.EINVALID, Message: "validation failed",
			Fields: []kehu.FieldError{{Field: "comment", Reason: "must have at most 2000 characters"}}}
	}
	var out Approval
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		ap, err := s.store.GetApproval(ctx, id, a.OrgPath)
		if err != nil {
			return err
		}
		if ap.RequesterID == a.UserID {
			return kehu.Errorf(kehu.EFORBIDDEN, "nobody approves their own bulk export")
		}
		if ap.Status != ApprovalPending {
			return kehu.Errorf(kehu.ECONFLICT, "the approval is already %s", ap.Status)
		}
		now := s.clock.Now()
		ap.Status, ap.DecidedBy, ap.DecidedAt, ap.Comment = ApprovalDenied, &a.UserID, &now, comment
		if approve {
			exp := now.Add(s.cfg.ApprovalValidity)
			ap.Status, ap.ExpiresAt = ApprovalApproved, &exp
		}
		if err := s.store.UpdateApproval(ctx, ap); err != nil {
			return err
		}
		out = ap
		return s.audit.Record(ctx, audit.Entry{Action: audit.BulkApproval, Object: approvalObject(ap.ID),
			Changes: []audit.Change{{Field: "status", Old: ApprovalPending, New: ap.Status}}, Reason: comment,
			Count: ap.MaxCustomers})
	})
	return out, err
}

// Alerts lists compliance alerts about users homed in the actor's subtree,
// newest first, and records that they were read.
func (s *Service) Alerts(ctx context.Context, f AlertFilter) (AlertPage, error) {
	a, err := access.ActorWith(ctx, access.PrivacyManage)
	if err != nil {
		return AlertPage{}, err
	}
	f.OrgPath, f.Limit = a.OrgPath, kehu.ClampLimit(f.Limit)
	var p AlertPage
	err = s.tx.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if p, err = s.store.ListAlerts(ctx, f); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: audit.ComplianceAlert, Object: "compliance_alerts",
			Count: len(p.Items)})
	})
	return p, err
}
