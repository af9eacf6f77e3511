package sales

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/task"
)

// Audit actions of leads.
const (
	AuditCreate = "lead.create" // leads were created; Count says how many, Object names the source
	AuditList   = "lead.list"   // a list of leads was shown; Count says how many
	AuditUpdate = "lead.update" // a lead's status or note changed
)

// Deps are what the service needs.
type Deps struct {
	Store     Store
	Customers task.Scoper
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
}

// Service creates leads for campaigns and journeys and serves their
// scope-checked, audited list and updates.
type Service struct{ d Deps }

// NewService returns the lead service.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{d: d}
}

// Create inserts rows in the transaction in ctx, if any, and returns how
// many it created (a used dedup key is skipped), with one audit record.
// Invalid rows fail the whole call naming the first. Like task.Create it
// checks no permission: the calling campaign or journey has.
func (s *Service) Create(ctx context.Context, rows []NewLead) (int, error) {
	return task.Batch[NewLead]{What: "lead", Action: AuditCreate, Tx: s.d.Tx, Audit: s.d.Audit, Clock: s.d.Clock,
		Check:   checkNew,
		Prepare: func(n *NewLead, by int64) { n.Note, n.CreatedBy = strings.TrimSpace(n.Note), by },
		Source:  func(n NewLead) (string, int64) { return n.SourceKind, n.SourceID },
		Insert:  s.d.Store.CreateLeads}.Create(ctx, rows)
}

// List returns a page of leads, newest first, with one audit record: the
// actor's own (mine) or those on customers in their scope (team).
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	v, _, err := task.VisibilityOf(ctx, s.d.Customers)
	if err != nil {
		return Page{}, err
	}
	var vd kehu.Validation
	switch f.View {
	case "":
		f.View = task.ViewMine
	case task.ViewMine:
	case task.ViewTeam:
		if !v.Team {
			return Page{}, kehu.Errorf(kehu.EFORBIDDEN, "the team view is for roles that see more than their own customers")
		}
	default:
		vd.Add("view", "must be mine or team")
	}
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		vd.Add("status", "must be new, contacted, qualified, converted or lost")
	}
	if f.SourceKind != "" && !slices.Contains(task.SourceKinds, f.SourceKind) {
		vd.Add("source", "must be campaign, journey or manual (optionally :id)")
	}
	if err := vd.Err(); err != nil {
		return Page{}, err
	}
	f.See, f.Limit = v, kehu.ClampLimit(f.Limit)
	var p Page
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		if p, err = s.d.Store.ListLeads(ctx, f); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, audit.Entry{Action: AuditList, Object: "leads", Count: len(p.Items),
			Reason: "view=" + string(f.View)})
	})
	for i := range p.Items {
		p.Items[i].CustomerName = customer.Present(ctx, p.Items[i].Customer).Name
	}
	return p, err
}

// Update changes a lead's status or note. The assignee may, and a manager
// (customer.transfer, as for tasks) whose data scope holds the customer. Status moves
// forward only (new → contacted → qualified → converted) or to lost;
// a converted or lost lead is closed (ECONFLICT).
func (s *Service) Update(ctx context.Context, id int64, u Update) (Lead, error) {
	if u.Status == nil && u.Note == nil {
		return Lead{}, task.Invalid("status", "give a status or a note")
	}
	if u.Status != nil && !slices.Contains(Statuses, *u.Status) {
		return Lead{}, task.Invalid("status", "must be new, contacted, qualified, converted or lost")
	}
	if u.Note != nil && utf8.RuneCountInString(*u.Note) > MaxNote {
		return Lead{}, task.Invalid("note", fmt.Sprintf("at most %d characters", MaxNote))
	}
	v, a, err := task.VisibilityOf(ctx, s.d.Customers)
	if err != nil {
		return Lead{}, err
	}
	var l Lead
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		if l, err = s.d.Store.GetLead(ctx, id, v); err != nil {
			return err
		}
		if l.AssigneeID != a.UserID && !(v.Team && access.Can(a.Role, access.CustomerTransfer)) {
			return kehu.Errorf(kehu.EFORBIDDEN, "only the assignee or a manager of the customer's branch may change a lead")
		}
		status, note, changes, err := apply(l, u)
		if err != nil {
			return err
		}
		if err := s.d.Store.UpdateLead(ctx, id, l.Status, status, note, s.d.Clock.Now().UTC()); err != nil {
			return err
		}
		if err := s.d.Audit.Record(ctx, audit.Entry{Action: AuditUpdate, CustomerID: l.CustomerID,
			Object: "lead:" + strconv.FormatInt(id, 10), Changes: changes}); err != nil {
			return err
		}
		l, err = s.d.Store.GetLead(ctx, id, task.Visibility{Team: true})
		return err
	})
	l.CustomerName = customer.Present(ctx, l.Customer).Name
	return l, err
}

// apply checks u against l's status and returns the new status and note
// with the audit changes.
func apply(l Lead, u Update) (Status, string, []audit.Change, error) {
	if l.Status.Final() {
		return "", "", nil, kehu.Errorf(kehu.ECONFLICT, "lead %d is %s and closed", l.ID, l.Status)
	}
	status, note := l.Status, l.Note
	var changes []audit.Change
	if u.Status != nil && *u.Status != l.Status {
		to := *u.Status
		if to != Lost && slices.Index(Statuses, to) < slices.Index(Statuses, l.Status) {
			return "", "", nil, task.Invalid("status", fmt.Sprintf("a lead moves forward: %s cannot go back to %s", l.Status, to))
		}
		status = to
		changes = append(changes, audit.Change{Field: "status", Old: string(l.Status), New: string(to)})
	}
	if u.Note != nil && strings.TrimSpace(*u.Note) != l.Note {
		note = strings.TrimSpace(*u.Note)
		changes = append(changes, audit.Change{Field: "note"})
	}
	return status, note, changes, nil
}
