package task

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
)

// Audit actions of tasks.
const (
	AuditCreate   = "task.create"   // tasks were created; Count says how many, Object names the source
	AuditList     = "task.list"     // a to-do list was shown; Count says how many
	AuditRead     = "task.read"     // one task was shown
	AuditClaim    = "task.claim"    // a queued task was claimed
	AuditComplete = "task.complete" // a task was done, with its outcome
	AuditCancel   = "task.cancel"   // a task was cancelled, with the reason
	AuditReassign = "task.reassign" // a task was given to another user or queue
)

// Scoper gives the actor's customer read scope (customer.Service).
type Scoper interface {
	ReadScope(ctx context.Context) (customer.ScopeFilter, error)
}

// Deps are what the service needs.
type Deps struct {
	Store     Store
	Customers Scoper
	Clock     kehu.Clock
	Audit     audit.Recorder
	Tx        kehu.Transactor
}

// Service creates tasks for campaigns and journeys and serves the to-do
// lists: scope-checked, audited, masked.
type Service struct{ d Deps }

// NewService returns the task service.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	return &Service{d: d}
}

// Create inserts rows (any number) in the transaction in ctx, if there is
// one — a campaign creates its call list together with its contact log, a
// journey its alert with its run — and returns how many it created: a row
// whose dedup key is already used is skipped. Invalid rows fail the whole
// call, naming the first bad row. One audit record names the source and
// the count. No permission is checked: the calling service has checked its
// own (a campaign's launch, a journey's activation).
func (s *Service) Create(ctx context.Context, rows []New) (int, error) {
	return Batch[New]{What: "task", Action: AuditCreate, Tx: s.d.Tx, Audit: s.d.Audit, Clock: s.d.Clock, Check: check,
		Prepare: func(n *New, by int64) {
			n.Title, n.CreatedBy = strings.TrimSpace(n.Title), by
			if n.Priority == 0 {
				n.Priority = Normal
			}
		},
		Source: func(n New) (string, int64) { return n.SourceKind, n.SourceID },
		Insert: s.d.Store.CreateTasks}.Create(ctx, rows)
}

// VisibilityOf is the view of the actor in ctx (customer.read required):
// their own and their queue's work, and Team when their data scope is
// wider than their own customers. Leads use it too.
func VisibilityOf(ctx context.Context, customers Scoper) (Visibility, kehu.Actor, error) {
	a, err := access.ActorWith(ctx, access.CustomerRead)
	if err != nil {
		return Visibility{}, a, err
	}
	scope, err := customers.ReadScope(ctx)
	if err != nil {
		return Visibility{}, a, err
	}
	return Visibility{UserID: a.UserID, Role: a.Role, OrgID: a.OrgID, Scope: scope,
		Team: access.DefaultScope(a.Role) != access.ScopeOwn}, a, nil
}

func (s *Service) visibility(ctx context.Context) (Visibility, kehu.Actor, error) {
	return VisibilityOf(ctx, s.d.Customers)
}

// List returns a page of one of the actor's lists, high priority first and
// oldest first, with one audit record.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	v, _, err := s.visibility(ctx)
	if err != nil {
		return Page{}, err
	}
	if err := checkFilter(&f); err != nil {
		return Page{}, err
	}
	if f.View == ViewTeam && !v.Team {
		return Page{}, kehu.Errorf(kehu.EFORBIDDEN, "the team view is for roles that see more than their own customers")
	}
	f.See, f.Limit = v, kehu.ClampLimit(f.Limit)
	var p Page
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		if p, err = s.d.Store.ListTasks(ctx, f); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, audit.Entry{Action: AuditList, Object: "tasks", Count: len(p.Items),
			Reason: "view=" + string(f.View) + " status=" + string(f.Status)})
	})
	for i := range p.Items {
		present(ctx, &p.Items[i])
	}
	return p, err
}

func checkFilter(f *Filter) error {
	var v kehu.Validation
	switch f.View {
	case "":
		f.View = ViewMine
	case ViewMine, ViewQueue, ViewTeam:
	default:
		v.Add("view", "must be mine, queue or team")
	}
	if f.Status == "" {
		f.Status = Open
	} else if !slices.Contains(Statuses, f.Status) {
		v.Add("status", "must be open, done or cancelled")
	}
	if f.Kind != "" && !slices.Contains(Kinds, f.Kind) {
		v.Add("kind", "must be one of "+joinKinds())
	}
	if f.SourceKind != "" && !slices.Contains(SourceKinds, f.SourceKind) {
		v.Add("source", "must be campaign, journey or manual (optionally :id)")
	}
	return v.Err()
}

// present masks the customer's name as the actor's role requires.
func present(ctx context.Context, t *Task) {
	t.CustomerName = customer.Present(ctx, t.Customer).Name
}

// Get returns one visible task, recording the read.
func (s *Service) Get(ctx context.Context, id int64) (Task, error) {
	return s.onTask(ctx, id, func(ctx context.Context, t *Task, _ Visibility, _ kehu.Actor) error {
		return s.d.Audit.Record(ctx, audit.Entry{Action: AuditRead, CustomerID: t.CustomerID, Object: object(id)})
	})
}

// onTask runs fn on task id, visible to the actor, inside a transaction
// and returns the task as fn leaves it, its customer's name masked.
func (s *Service) onTask(ctx context.Context, id int64, fn func(ctx context.Context, t *Task, v Visibility, a kehu.Actor) error) (Task, error) {
	v, a, err := s.visibility(ctx)
	if err != nil {
		return Task{}, err
	}
	var t Task
	err = s.d.Tx.WithTx(ctx, func(ctx context.Context) error {
		if t, err = s.d.Store.GetTask(ctx, id, v); err != nil {
			return err
		}
		return fn(ctx, &t, v, a)
	})
	present(ctx, &t)
	return t, err
}

func object(id int64) string { return "task:" + strconv.FormatInt(id, 10) }

// Counts returns the sizes of the actor's open lists (the navigation's
// badge). Counts show no customer and are not recorded.
func (s *Service) Counts(ctx context.Context) (Counts, error) {
	v, _, err := s.visibility(ctx)
	if err != nil {
		return Counts{}, err
	}
	return s.d.Store.CountOpen(ctx, v)
}

// change runs fn on visible open task id inside a transaction, then
// records entry (its CustomerID and Object filled) and returns the task as
// it is afterwards.
func (s *Service) change(ctx context.Context, id int64, entry audit.Entry,
	fn func(ctx context.Context, t Task, v Visibility, a kehu.Actor) ([]audit.Change, error)) (Task, error) {
	return s.onTask(ctx, id, func(ctx context.Context, t *Task, v Visibility, a kehu.Actor) error {
		if t.Status != Open {
			return kehu.Errorf(kehu.ECONFLICT, "task %d is %s", id, t.Status)
		}
		var err error
		if entry.Changes, err = fn(ctx, *t, v, a); err != nil {
			return err
		}
		entry.CustomerID, entry.Object = t.CustomerID, object(id)
		if err := s.d.Audit.Record(ctx, entry); err != nil {
			return err
		}
		*t, err = s.d.Store.GetTask(ctx, id, Visibility{Team: true})
		return err
	})
}

// Claim takes an unclaimed task from the actor's queue. Of two users
// claiming at once one wins; the other gets ECONFLICT.
func (s *Service) Claim(ctx context.Context, id int64) (Task, error) {
	return s.change(ctx, id, audit.Entry{Action: AuditClaim}, func(ctx context.Context, t Task, v Visibility, a kehu.Actor) ([]audit.Change, error) {
		q := Queue{Role: a.Role, OrgID: a.OrgID}
		switch {
		case t.AssigneeID == a.UserID:
			return nil, kehu.Errorf(kehu.ECONFLICT, "task %d is already yours", t.ID)
		case t.AssigneeID != 0:
			return nil, kehu.Errorf(kehu.ECONFLICT, "task %d was claimed by someone else", t.ID)
		case t.Queue == nil || *t.Queue != q:
			return nil, kehu.Errorf(kehu.EFORBIDDEN, "task %d is not in your queue", t.ID)
		}
		if err := s.d.Store.ClaimTask(ctx, t.ID, a.UserID, q, s.d.Clock.Now().UTC()); err != nil {
			return nil, err
		}
		return []audit.Change{{Field: "assignee_id", New: strconv.FormatInt(a.UserID, 10)}}, nil
	})
}

// Complete marks the actor's own task done with its outcome.
func (s *Service) Complete(ctx context.Context, id int64, outcome string) (Task, error) {
	outcome, err := checkNote("outcome", outcome)
	if err != nil {
		return Task{}, err
	}
	return s.change(ctx, id, audit.Entry{Action: AuditComplete, Reason: outcome},
		func(ctx context.Context, t Task, v Visibility, a kehu.Actor) ([]audit.Change, error) {
			if t.AssigneeID != a.UserID {
				if t.AssigneeID == 0 {
					return nil, kehu.Errorf(kehu.ECONFLICT, "claim task %d before completing it", t.ID)
				}
				return nil, kehu.Errorf(kehu.EFORBIDDEN, "only the assignee completes a task")
			}
			return closeTask(ctx, s, t, Done, outcome, a)
		})
}

// Cancel closes a task that is no longer needed, with the reason: the
// assignee may, and a manager (customer.transfer) whose scope holds the
// customer.
func (s *Service) Cancel(ctx context.Context, id int64, reason string) (Task, error) {
	reason, err := checkNote("reason", reason)
	if err != nil {
		return Task{}, err
	}
	return s.change(ctx, id, audit.Entry{Action: AuditCancel, Reason: reason},
		func(ctx context.Context, t Task, v Visibility, a kehu.Actor) ([]audit.Change, error) {
			if err := mayManage(ctx, s, t, v, a); err != nil {
				return nil, err
			}
			return closeTask(ctx, s, t, Cancelled, reason, a)
		})
}

func closeTask(ctx context.Context, s *Service, t Task, st Status, note string, a kehu.Actor) ([]audit.Change, error) {
	if err := s.d.Store.CloseTask(ctx, t.ID, st, note, a.UserID, s.d.Clock.Now().UTC()); err != nil {
		return nil, err
	}
	return []audit.Change{{Field: "status", Old: string(Open), New: string(st)}}, nil
}

// mayManage allows the assignee, and a manager holding customer.transfer
// whose data scope holds the task's customer.
func mayManage(ctx context.Context, s *Service, t Task, v Visibility, a kehu.Actor) error {
	if t.AssigneeID == a.UserID && a.UserID != 0 {
		return nil
	}
	if !access.Can(a.Role, access.CustomerTransfer) || !v.Team {
		return kehu.Errorf(kehu.EFORBIDDEN, "only the assignee or a manager of the customer's branch may do this")
	}
	_, err := s.d.Store.GetTask(ctx, t.ID, Visibility{Team: true, Scope: v.Scope}) // by scope alone
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		return kehu.Errorf(kehu.EFORBIDDEN, "the task's customer is outside your data scope")
	}
	return err
}

func checkNote(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > MaxOutcome {
		return "", Invalid(field, fmt.Sprintf("is required, at most %d characters", MaxOutcome))
	}
	return s, nil
}

// Assignment is where Reassign sends a task: a user or a queue, with an
// optional reason (recorded on the task.reassign audit entry).
type Assignment struct {
	AssigneeID int64  `json:"assignee_id,omitempty"`
	Queue      *Queue `json:"queue,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Reassign gives an open task to another user or puts it in a queue, with
// an optional reason. The assignee may hand it on, and a manager (customer.transfer) whose scope
// holds the customer; the new user or queue must be inside the actor's
// organisation subtree, and a user must be active.
func (s *Service) Reassign(ctx context.Context, id int64, to Assignment) (Task, error) {
	if (to.AssigneeID == 0) == (to.Queue == nil) {
		return Task{}, Invalid("assignee_id", "give an assignee_id or a queue, not both")
	}
	if to.Queue != nil && (!access.ValidRole(to.Queue.Role) || to.Queue.OrgID <= 0) {
		return Task{}, Invalid("queue", "needs a known role and an organisation id")
	}
	to.Reason = strings.TrimSpace(to.Reason)
	if utf8.RuneCountInString(to.Reason) > MaxOutcome {
		return Task{}, Invalid("reason", fmt.Sprintf("at most %d characters", MaxOutcome))
	}
	return s.change(ctx, id, audit.Entry{Action: AuditReassign, Reason: to.Reason},
		func(ctx context.Context, t Task, v Visibility, a kehu.Actor) ([]audit.Change, error) {
			if err := mayManage(ctx, s, t, v, a); err != nil {
				return nil, err
			}
			old := assignedText(t.AssigneeID, t.Queue)
			var q Queue
			if to.Queue != nil {
				q = *to.Queue
			}
			if err := s.reachable(ctx, a, to.AssigneeID, q); err != nil {
				return nil, err
			}
			if err := s.d.Store.AssignTask(ctx, t.ID, to.AssigneeID, q, s.d.Clock.Now().UTC()); err != nil {
				return nil, err
			}
			return []audit.Change{{Field: "assignee", Old: old, New: assignedText(to.AssigneeID, to.Queue)}}, nil
		})
}

// reachable checks that the new assignee (active) or queue lies in a's
// organisation subtree.
func (s *Service) reachable(ctx context.Context, a kehu.Actor, user int64, q Queue) error {
	field, path := "queue", ""
	var err error
	if user != 0 {
		field = "assignee_id"
		var who Assignee
		if who, err = s.d.Store.Assignee(ctx, user); err == nil && !who.Active {
			return Invalid(field, "the user is disabled")
		}
		path = who.OrgPath
	} else {
		path, err = s.d.Store.OrgPath(ctx, q.OrgID)
	}
	if kehu.ErrorCode(err) == kehu.ENOTFOUND {
		return Invalid(field, "no such user or organisation")
	}
	if err != nil {
		return err
	}
	if !strings.HasPrefix(path, a.OrgPath) {
		return kehu.Errorf(kehu.EFORBIDDEN, "you may give tasks only to users and queues of your own organisation and below")
	}
	return nil
}

// Invalid is a validation error on one field.
func Invalid(field, reason string) error {
	return &kehu.Error{Code: kehu.EINVALID, Message: "validation failed",
		Fields: []kehu.FieldError{{Field: field, Reason: reason}}}
}

func assignedText(user int64, q *Queue) string {
	if user != 0 {
		return "user:" + strconv.FormatInt(user, 10)
	}
	if q != nil {
		return "queue:" + q.Role + "@" + strconv.FormatInt(q.OrgID, 10)
	}
	return ""
}
