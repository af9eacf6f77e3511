// Package sales holds leads (线索): a sales opportunity on a customer, with
// an optional product, for an employee to pursue — created by campaigns and
// journeys in their own transaction (a unique dedup key makes a retry
// create nothing twice) or by a person, and worked through new → contacted
// → qualified → converted, or lost. The sales issue adds assignment rules
// and opportunities on top. Reads and updates are scope-checked and
// audited here; the package knows no SQL or HTTP.
package sales

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/task"
)

// Status is where a lead is.
type Status string

// Statuses, in the order a lead moves through them; Converted and Lost are
// final.
const (
	New       Status = "new"
	Contacted Status = "contacted"
	Qualified Status = "qualified"
	Converted Status = "converted"
	Lost      Status = "lost"
)

// Statuses lists them in order.
var Statuses = []Status{New, Contacted, Qualified, Converted, Lost}

// Final reports whether s ends the lead.
func (s Status) Final() bool { return s == Converted || s == Lost }

// MaxNote bounds a lead's note, in characters.
const MaxNote = 1000

// NewLead is one lead a caller wants created. AssigneeID 0 means the
// customer's primary RM (unassigned when the customer has none).
type NewLead struct {
	CustomerID int64
	ProductID  int64 // 0: none
	SourceKind string
	SourceID   int64
	AssigneeID int64
	Note       string
	// DedupKey makes the lead unique; "" means
	// "lead:<source_kind>:<source_id>:<customer_id>:<product_id>".
	DedupKey  string
	CreatedBy int64 // set by the service from the actor
}

// Key returns the lead's dedup key.
func (n NewLead) Key() string {
	if n.DedupKey != "" {
		return n.DedupKey
	}
	return "lead:" + n.SourceKind + ":" + strconv.FormatInt(n.SourceID, 10) + ":" +
		strconv.FormatInt(n.CustomerID, 10) + ":" + strconv.FormatInt(n.ProductID, 10)
}

func checkNew(n NewLead) error {
	var v kehu.Validation
	if n.CustomerID <= 0 {
		v.Add("customer_id", "is required")
	}
	if n.ProductID < 0 {
		v.Add("product_id", "must be a product id")
	}
	if n.AssigneeID < 0 {
		v.Add("assignee_id", "must be a user id")
	}
	if !slices.Contains(task.SourceKinds, n.SourceKind) {
		v.Add("source_kind", "must be campaign, journey or manual")
	}
	if utf8.RuneCountInString(n.Note) > MaxNote {
		v.Add("note", fmt.Sprintf("at most %d characters", MaxNote))
	}
	if len(n.Key()) > task.MaxKey {
		v.Add("dedup_key", fmt.Sprintf("at most %d bytes", task.MaxKey))
	}
	return v.Err()
}

// Lead is a stored lead as its reader may see it (the customer's name
// masked as the reader's role requires).
type Lead struct {
	ID           int64     `json:"id"`
	CustomerID   int64     `json:"customer_id"`
	CustomerName string    `json:"customer_name"`
	ProductID    int64     `json:"product_id,omitempty"`
	ProductName  string    `json:"product_name,omitempty"`
	SourceKind   string    `json:"source_kind"`
	SourceID     int64     `json:"source_id"`
	AssigneeID   int64     `json:"assignee_id,omitempty"`
	AssigneeName string    `json:"assignee_name,omitempty"`
	Status       Status    `json:"status"`
	Note         string    `json:"note"`
	DedupKey     string    `json:"dedup_key"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Customer is what the store read of the customer, for masking.
	Customer customer.Customer `json:"-"`
}

// Update changes a lead: nil fields stay.
type Update struct {
	Status *Status `json:"status"`
	Note   *string `json:"note"`
}

// View picks a list: ViewMine (assigned to me) or ViewTeam (leads on
// customers in my data scope; managers and marketing).
type View = task.View

// Filter narrows a list of leads, newest first.
type Filter struct {
	View       View
	Status     Status // "": every status
	SourceKind string
	SourceID   int64
	See        task.Visibility // set by the service
	After      int64           // keyset: leads with a smaller id
	Limit      int
}

// Page is one page of leads.
type Page struct {
	Items      []Lead      `json:"items"`
	NextCursor kehu.Cursor `json:"-"`
}

// Store keeps leads.
type Store interface {
	// CreateLeads inserts rows in the transaction in ctx (or its own),
	// filling the default assignee and skipping dedup keys already used;
	// it returns how many it inserted.
	CreateLeads(ctx context.Context, rows []NewLead, now time.Time) (int, error)
	ListLeads(ctx context.Context, f Filter) (Page, error)
	// GetLead returns lead id if it is visible to v, else ENOTFOUND.
	GetLead(ctx context.Context, id int64, v task.Visibility) (Lead, error)
	// UpdateLead writes status and note while the lead still has status
	// from; ECONFLICT otherwise.
	UpdateLead(ctx context.Context, id int64, from, status Status, note string, now time.Time) error
}
