// Package task is the employees' to-do list (待办): work items about a
// customer that campaigns (an RM call list), journeys (a churn alert, a
// lobby alert on the customer's next visit) or a person create. A task is
// assigned to one user, or waits in a queue — a role at one organisation,
// such as the lobby managers of an outlet — until one of them claims it.
// Creation joins the caller's transaction and skips a dedup key already
// used, so a retried launch or a journey firing again creates nothing
// twice. Reads and changes are scope-checked and audited here, never in a
// handler. The package knows no SQL or HTTP.
package task

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kehu/internal/access"
	"kehu/internal/customer"
	"kehu/internal/kehu"
)

// Kind is what the task asks for.
type Kind string

// Kinds of task.
const (
	Call         Kind = "call"          // phone the customer
	Visit        Kind = "visit"         // meet the customer
	FollowUp     Kind = "follow_up"     // follow up an earlier contact
	ChurnAlert   Kind = "churn_alert"   // a customer is drifting away (journey)
	LobbyAlert   Kind = "lobby_alert"   // greet the customer on their next branch visit (journey)
	CampaignCall Kind = "campaign_call" // one line of a campaign's outbound call list
)

// Kinds lists every kind.
var Kinds = []Kind{Call, Visit, FollowUp, ChurnAlert, LobbyAlert, CampaignCall}

// Status is where a task is in its life: open → done or cancelled.
type Status string

// Statuses.
const (
	Open      Status = "open"
	Done      Status = "done"
	Cancelled Status = "cancelled"
)

// Statuses lists them.
var Statuses = []Status{Open, Done, Cancelled}

// Priority orders the to-do list: 1 high, 2 normal, 3 low.
type Priority int

// Priorities.
const (
	High   Priority = 1
	Normal Priority = 2
	Low    Priority = 3
)

// Source kinds: what created a task or lead.
const (
	SourceCampaign = "campaign"
	SourceJourney  = "journey"
	SourceManual   = "manual"
)

// SourceKinds lists them.
var SourceKinds = []string{SourceCampaign, SourceJourney, SourceManual}

// Limits of the texts of a task.
const (
	MaxTitle   = 200
	MaxDetail  = 2000
	MaxActions = 10
	MaxAction  = 200
	MaxOutcome = 1000
	MaxKey     = 200
)

// Queue is a shared to-do list: the users of Role at OrgID.
type Queue struct {
	Role  string `json:"role"`
	OrgID int64  `json:"org_id"`
}

// IsZero reports whether q names no queue.
func (q Queue) IsZero() bool { return q.Role == "" && q.OrgID == 0 }

// New is one task a caller wants created. Give AssigneeID, or Queue, or
// neither: the customer's primary RM is then the assignee (the RM queue of
// the customer's outlet when the customer has no RM).
type New struct {
	Kind       Kind
	Title      string
	Detail     string
	Actions    []string // suggested actions, shown as a checklist
	CustomerID int64
	ProductID  int64 // 0: none
	AssigneeID int64
	Queue      Queue
	DueAt      time.Time // zero: no due time
	Priority   Priority  // 0 means Normal
	SourceKind string    // campaign, journey or manual
	SourceID   int64
	// DedupKey makes the task unique; "" means
	// "task:<source_kind>:<source_id>:<customer_id>:<kind>", one task per
	// customer and kind per source. A recurring campaign or a journey firing
	// on a new event adds its run or event to the key.
	DedupKey string
	// CreatedBy is set by the service from the actor (0: a journey or job).
	CreatedBy int64
}

// Key returns the task's dedup key.
func (n New) Key() string {
	if n.DedupKey != "" {
		return n.DedupKey
	}
	return "task:" + n.SourceKind + ":" + strconv.FormatInt(n.SourceID, 10) + ":" +
		strconv.FormatInt(n.CustomerID, 10) + ":" + string(n.Kind)
}

// Task is a stored task as its reader may see it: the customer's name is
// masked as the reader's role requires.
type Task struct {
	ID           int64      `json:"id"`
	Kind         Kind       `json:"kind"`
	Title        string     `json:"title"`
	Detail       string     `json:"detail"`
	Actions      []string   `json:"actions"`
	CustomerID   int64      `json:"customer_id"`
	CustomerName string     `json:"customer_name"`
	ProductID    int64      `json:"product_id,omitempty"`
	ProductName  string     `json:"product_name,omitempty"`
	AssigneeID   int64      `json:"assignee_id,omitempty"`
	AssigneeName string     `json:"assignee_name,omitempty"`
	Queue        *Queue     `json:"queue,omitempty"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	Priority     Priority   `json:"priority"`
	Status       Status     `json:"status"`
	Outcome      string     `json:"outcome,omitempty"`
	ClosedBy     int64      `json:"closed_by,omitempty"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	ClaimedAt    *time.Time `json:"claimed_at,omitempty"`
	SourceKind   string     `json:"source_kind"`
	SourceID     int64      `json:"source_id"`
	DedupKey     string     `json:"dedup_key"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	// Customer is what the store read of the customer, for masking; not sent.
	Customer customer.Customer `json:"-"`
}

// Overdue reports whether an open task's due time has passed at now.
func (t Task) Overdue(now time.Time) bool {
	return t.Status == Open && t.DueAt != nil && t.DueAt.Before(now)
}

// check validates n.
func check(n New) error {
	var v kehu.Validation
	if !slices.Contains(Kinds, n.Kind) {
		v.Add("kind", "must be one of "+joinKinds())
	}
	if t := strings.TrimSpace(n.Title); t == "" || utf8.RuneCountInString(t) > MaxTitle {
		v.Add("title", fmt.Sprintf("is required, at most %d characters", MaxTitle))
	}
	if utf8.RuneCountInString(n.Detail) > MaxDetail {
		v.Add("detail", fmt.Sprintf("at most %d characters", MaxDetail))
	}
	if len(n.Actions) > MaxActions {
		v.Add("actions", fmt.Sprintf("at most %d suggested actions", MaxActions))
	}
	for _, a := range n.Actions {
		if strings.TrimSpace(a) == "" || utf8.RuneCountInString(a) > MaxAction {
			v.Add("actions", fmt.Sprintf("each action is a non-empty text of at most %d characters", MaxAction))
			break
		}
	}
	if n.CustomerID <= 0 {
		v.Add("customer_id", "is required")
	}
	if n.ProductID < 0 {
		v.Add("product_id", "must be a product id")
	}
	if n.AssigneeID != 0 && !n.Queue.IsZero() {
		v.Add("queue", "give an assignee or a queue, not both")
	}
	if !n.Queue.IsZero() && (!access.ValidRole(n.Queue.Role) || n.Queue.OrgID <= 0) {
		v.Add("queue", "needs a known role and an organisation id")
	}
	if n.Priority != 0 && (n.Priority < High || n.Priority > Low) {
		v.Add("priority", "must be 1 (high), 2 (normal) or 3 (low)")
	}
	if !slices.Contains(SourceKinds, n.SourceKind) {
		v.Add("source_kind", "must be campaign, journey or manual")
	}
	if len(n.Key()) > MaxKey {
		v.Add("dedup_key", fmt.Sprintf("at most %d bytes", MaxKey))
	}
	return v.Err()
}

func joinKinds() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// View picks one of the to-do lists.
type View string

// Views of the list.
const (
	ViewMine  View = "mine"  // assigned to me
	ViewQueue View = "queue" // unclaimed in my queue (my role at my organisation)
	ViewTeam  View = "team"  // every task on customers in my data scope (managers); for an own-scope role, mine
)

// Visibility is who reads: a task is visible when it is assigned to the
// user, waits in the user's queue, or (Team) is about a customer in Scope.
type Visibility struct {
	UserID int64
	Role   string
	OrgID  int64
	Team   bool
	Scope  customer.ScopeFilter
}

// Filter narrows a list.
type Filter struct {
	View       View
	Status     Status // "" = open
	Kind       Kind
	CustomerID int64
	SourceKind string
	SourceID   int64
	See        Visibility  // set by the service
	After      kehu.Cursor // keyset: Rank is the priority, AfterID the id
	Limit      int
}

// Page is one page of tasks: high priority first, then oldest first.
type Page struct {
	Items      []Task      `json:"items"`
	NextCursor kehu.Cursor `json:"-"`
}

// Counts are the sizes of the signed-in user's two open lists.
type Counts struct {
	Mine  int64 `json:"mine"`
	Queue int64 `json:"queue"`
}

// Assignee is a user a task may be given to.
type Assignee struct {
	ID      int64
	Name    string
	Role    string
	OrgID   int64
	OrgPath string
	Active  bool
}

// Store keeps tasks.
type Store interface {
	// CreateTasks inserts rows in the transaction in ctx (or its own),
	// filling the default assignee, skipping dedup keys already used; it
	// returns how many it inserted. A row naming an unknown customer fails
	// the call.
	CreateTasks(ctx context.Context, rows []New, now time.Time) (int, error)
	ListTasks(ctx context.Context, f Filter) (Page, error)
	// GetTask returns task id if it is visible to v, else ENOTFOUND.
	GetTask(ctx context.Context, id int64, v Visibility) (Task, error)
	// ClaimTask gives an open, unclaimed task of queue q to user; ECONFLICT
	// when it is claimed, closed or no longer in that queue.
	ClaimTask(ctx context.Context, id, user int64, q Queue, now time.Time) error
	// CloseTask sets an open task's status, outcome and closer; ECONFLICT
	// when it is no longer open.
	CloseTask(ctx context.Context, id int64, st Status, outcome string, by int64, now time.Time) error
	// AssignTask gives an open task to user (queue zero) or puts it in queue
	// q (user 0); ECONFLICT when it is no longer open.
	AssignTask(ctx context.Context, id, user int64, q Queue, now time.Time) error
	// Assignee reads a user a task may be given to; OrgPath the path of an
	// organisation a queue may be at.
	Assignee(ctx context.Context, id int64) (Assignee, error)
	OrgPath(ctx context.Context, orgID int64) (string, error)
	// CountOpen counts the open tasks assigned to v's user and waiting in
	// v's queue.
	CountOpen(ctx context.Context, v Visibility) (Counts, error)
}
