package httpapi

import (
	"time"

	"kehu/internal/access/entitlement"
	"kehu/internal/vault"
)

// accessRequestJSON is an access request. customer_name is null for the
// requester (filing a request must reveal nothing about the customer) and
// masked by the display policy for approvers whose role does not see names.
type accessRequestJSON struct {
	ID           int64      `json:"id"`
	RequesterID  int64      `json:"requester_id"`
	Requester    string     `json:"requester"`
	CustomerID   int64      `json:"customer_id"`
	CustomerName *string    `json:"customer_name"`
	Scope        string     `json:"scope"`
	Reason       string     `json:"reason"`
	Hours        int        `json:"hours"`
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"created_at"`
	DecidedBy    *int64     `json:"decided_by"`
	DecidedAt    *time.Time `json:"decided_at"`
	Comment      string     `json:"comment"`
	ExpiresAt    *time.Time `json:"expires_at"`
}

func accessRequestView(r entitlement.Request, role string, now time.Time) accessRequestJSON {
	return accessRequestJSON{ID: r.ID, RequesterID: r.RequesterID, Requester: r.RequesterName,
		CustomerID: r.CustomerID, CustomerName: maskedName(r.CustomerName, role), Scope: r.Scope, Reason: r.Reason,
		Hours: r.Hours, Status: r.StatusAt(now), CreatedAt: r.CreatedAt, DecidedBy: r.DecidedBy,
		DecidedAt: r.DecidedAt, Comment: r.Comment, ExpiresAt: r.ExpiresAt}
}

// maskedName applies the name rule of the display policy; "" is null.
func maskedName(name, role string) *string {
	if name == "" {
		return nil
	}
	if !vault.ShowsClear(role, "name", false) {
		name = vault.MaskName(name)
	}
	return &name
}

// breakGlassJSON is a break-glass opening as the agent and the reviewer see it.
type breakGlassJSON struct {
	ID           int64      `json:"id"`
	UserID       int64      `json:"user_id"`
	User         string     `json:"user"`
	CustomerID   int64      `json:"customer_id"`
	CustomerName *string    `json:"customer_name"`
	Reason       string     `json:"reason"`
	Ticket       string     `json:"ticket"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	ReviewedBy   *int64     `json:"reviewed_by"`
	Reviewer     *string    `json:"reviewer"`
	ReviewedAt   *time.Time `json:"reviewed_at"`
	Comment      string     `json:"comment"`
}

func breakGlassView(g entitlement.Grant, role string) breakGlassJSON {
	out := breakGlassJSON{ID: g.ID, UserID: g.UserID, User: g.UserName, CustomerID: g.CustomerID,
		CustomerName: maskedName(g.CustomerName, role), Reason: g.Reason, Ticket: g.Ticket, CreatedAt: g.CreatedAt,
		ExpiresAt: g.ExpiresAt, ReviewedBy: g.ReviewedBy, ReviewedAt: g.ReviewedAt, Comment: g.Comment}
	if g.ReviewerName != "" {
		out.Reviewer = &g.ReviewerName
	}
	return out
}

// userRefJSON names a user in the owners view.
type userRefJSON struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

type transferJSON struct {
	FromOwnerID   *int64    `json:"from_owner_id"`
	FromOwner     *string   `json:"from_owner"`
	ToOwnerID     int64     `json:"to_owner_id"`
	ToOwner       string    `json:"to_owner"`
	Reason        string    `json:"reason"`
	TransferredBy string    `json:"transferred_by"`
	TransferredAt time.Time `json:"transferred_at"`
}

type ownersJSON struct {
	CustomerID  int64          `json:"customer_id"`
	Primary     *userRefJSON   `json:"primary"`
	Secondaries []userRefJSON  `json:"secondaries"`
	History     []transferJSON `json:"history"`
}

func ownersView(o entitlement.Owners) ownersJSON {
	out := ownersJSON{CustomerID: o.CustomerID, Secondaries: []userRefJSON{}, History: []transferJSON{}}
	if o.Primary != nil {
		out.Primary = &userRefJSON{ID: o.Primary.ID, Username: o.Primary.Username}
	}
	for _, u := range o.Secondaries {
		out.Secondaries = append(out.Secondaries, userRefJSON{ID: u.ID, Username: u.Username})
	}
	for _, t := range o.History {
		tj := transferJSON{FromOwnerID: t.FromOwnerID, ToOwnerID: t.ToOwnerID, ToOwner: t.ToOwnerName,
			Reason: t.Reason, TransferredBy: t.TransferredName, TransferredAt: t.TransferredAt}
		if t.FromOwnerID != nil {
			tj.FromOwner = &t.FromOwnerName
		}
		out.History = append(out.History, tj)
	}
	return out
}
