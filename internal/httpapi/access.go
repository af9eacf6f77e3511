package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"kehu/internal/access/entitlement"
	"kehu/internal/kehu"
)

// Bodies of the access endpoints. Only these members are accepted, so a
// client cannot smuggle a requester, status, expiry or grantee in.
type (
	accessRequestIn struct {
		CustomerID int64  `json:"customer_id"`
		Scope      string `json:"scope"`
		Reason     string `json:"reason"`
		Hours      int    `json:"hours"`
	}
	commentIn struct {
		Comment string `json:"comment"`
	}
	breakGlassIn struct {
		CustomerID int64  `json:"customer_id"`
		Reason     string `json:"reason"`
		Ticket     string `json:"ticket"`
	}
	transferIn struct {
		OwnerID int64  `json:"owner_id"`
		Reason  string `json:"reason"`
	}
	batchTransferIn struct {
		CustomerIDs []int64 `json:"customer_ids"`
		OwnerID     int64   `json:"owner_id"`
		Reason      string  `json:"reason"`
	}
	secondaryIn struct {
		UserID int64 `json:"user_id"`
	}
)

// role returns the actor's role for display masking.
func role(r *http.Request) string {
	a, _ := kehu.ActorFrom(r.Context())
	return a.Role
}

func (a *api) createAccessRequest(w http.ResponseWriter, r *http.Request) error {
	var in accessRequestIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	req, err := a.d.Entitlements.Request(r.Context(), entitlement.NewRequest{CustomerID: in.CustomerID,
		Scope: in.Scope, Reason: in.Reason, Hours: in.Hours})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, accessRequestView(req, role(r), a.d.Clock.Now()))
	return nil
}

func (a *api) listAccessRequests(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", entitlement.StatusPending, entitlement.StatusApproved, entitlement.StatusDenied,
		entitlement.StatusRevoked, entitlement.StatusExpired:
	default:
		return badBody("a query parameter is invalid", FieldIssue{"status", "is not a request status"})
	}
	mine, err := optionalBool(q.Get("mine"))
	if err != nil {
		return badBody("a query parameter is invalid", FieldIssue{"mine", "must be true or false"})
	}
	rs, err := a.d.Entitlements.Requests(r.Context(), status, mine)
	if err != nil {
		return err
	}
	out := struct {
		Items []accessRequestJSON `json:"items"`
	}{Items: []accessRequestJSON{}}
	for _, x := range rs {
		out.Items = append(out.Items, accessRequestView(x, role(r), a.d.Clock.Now()))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func optionalBool(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	return strconv.ParseBool(s)
}

func (a *api) approveAccessRequest(w http.ResponseWriter, r *http.Request) error {
	return a.decideAccessRequest(w, r, a.d.Entitlements.Approve)
}

func (a *api) denyAccessRequest(w http.ResponseWriter, r *http.Request) error {
	return a.decideAccessRequest(w, r, a.d.Entitlements.Deny)
}

func (a *api) revokeAccessRequest(w http.ResponseWriter, r *http.Request) error {
	return a.decideAccessRequest(w, r, a.d.Entitlements.Revoke)
}

// decideAccessRequest runs one decision on the request {id} with the
// body's comment.
func (a *api) decideAccessRequest(w http.ResponseWriter, r *http.Request,
	decide func(ctx context.Context, id int64, comment string) (entitlement.Request, error)) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in commentIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	req, err := decide(r.Context(), id, in.Comment)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accessRequestView(req, role(r), a.d.Clock.Now()))
	return nil
}

func (a *api) breakGlass(w http.ResponseWriter, r *http.Request) error {
	var in breakGlassIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	g, err := a.d.Entitlements.BreakGlass(r.Context(), entitlement.NewBreakGlass{CustomerID: in.CustomerID,
		Reason: in.Reason, Ticket: in.Ticket})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, breakGlassView(g, role(r)))
	return nil
}

func (a *api) listBreakGlass(w http.ResponseWriter, r *http.Request) error {
	var reviewed *bool
	if s := r.URL.Query().Get("reviewed"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return badBody("a query parameter is invalid", FieldIssue{"reviewed", "must be true or false"})
		}
		reviewed = &b
	}
	gs, err := a.d.Entitlements.BreakGlassQueue(r.Context(), reviewed)
	if err != nil {
		return err
	}
	out := struct {
		Items []breakGlassJSON `json:"items"`
	}{Items: []breakGlassJSON{}}
	for _, g := range gs {
		out.Items = append(out.Items, breakGlassView(g, role(r)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *api) reviewBreakGlass(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in commentIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	g, err := a.d.Entitlements.Review(r.Context(), id, in.Comment)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, breakGlassView(g, role(r)))
	return nil
}

func (a *api) customerOwners(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	o, err := a.d.Entitlements.Owners(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ownersView(o))
	return nil
}

func (a *api) transferCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in transferIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.d.Entitlements.Transfer(r.Context(), entitlement.TransferInput{CustomerIDs: []int64{id},
		OwnerID: in.OwnerID, Reason: in.Reason}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) transferCustomers(w http.ResponseWriter, r *http.Request) error {
	var in batchTransferIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.d.Entitlements.Transfer(r.Context(), entitlement.TransferInput{CustomerIDs: in.CustomerIDs,
		OwnerID: in.OwnerID, Reason: in.Reason}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) addSecondaryRM(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in secondaryIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.d.Entitlements.AddSecondary(r.Context(), id, in.UserID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) removeSecondaryRM(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	user, err := strconv.ParseInt(r.PathValue("user_id"), 10, 64)
	if err != nil || user < 1 {
		return newProblem(http.StatusNotFound, ProblemNotFound, "no such secondary relationship manager")
	}
	if err := a.d.Entitlements.RemoveSecondary(r.Context(), id, user); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
