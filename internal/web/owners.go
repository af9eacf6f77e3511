package web

import (
	"errors"
	"net/http"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/access/entitlement"
	"kehu/internal/kehu"
)

// ownersRoutes adds the customer's 客户归属 panel (primary RM, secondary
// RMs, transfer history) and the manager's forms on it. Every POST carries
// the CSRF token; the entitlement service applies the rules.
func (s *server) ownersRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /customers/{id}/owners", s.signedIn(s.needEntitlements(s.ownersPanelPage)))
	mux.HandleFunc("POST /customers/{id}/transfer", s.signedIn(s.checkCSRF(s.needEntitlements(s.transferOwner))))
	mux.HandleFunc("POST /customers/{id}/secondary-rms", s.signedIn(s.checkCSRF(s.needEntitlements(s.addSecondaryRM))))
	mux.HandleFunc("POST /customers/{id}/secondary-rms/{user_id}/remove",
		s.signedIn(s.checkCSRF(s.needEntitlements(s.removeSecondaryRM))))
}

// needEntitlements answers 404 when the server runs without the
// entitlement service, as if the panel did not exist.
func (s *server) needEntitlements(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Entitlements == nil {
			s.notFound(w, r)
			return
		}
		h(w, r)
	}
}

// ownersPanel is the 客户归属 panel. The customer page loads it separately
// (htmx on load, a link without JavaScript) because reading the owners is
// its own audited read and the customer page must stay one customer.read.
type ownersPanel struct {
	CustomerID int64
	entitlement.Owners
	// Names are display names of the staff shown, by user id.
	Names map[int64]string
	// CanManage offers the transfer and secondary-RM forms (customer.transfer);
	// RMs are the active RMs of the manager's subtree to pick from.
	CanManage bool
	RMs       []entitlement.UserRef
	Notice    string // catalogue key
	ErrorKey  string // catalogue key
	Fields    []string
	Reason    string // a refused transfer's reason, kept in the form
}

// Name is the display name of user id, else the username given.
func (p ownersPanel) Name(id int64, username string) string {
	if n := p.Names[id]; n != "" {
		return n
	}
	return username
}

// ownerNotices are the ?done= markers a redirect back to the panel carries.
var ownerNotices = map[string]string{"transferred": "access.owners.done.transferred",
	"added": "access.owners.done.added", "removed": "access.owners.done.removed"}

// ownersPanelPage answers the panel: the fragment for htmx, otherwise a
// page of its own.
func (s *server) ownersPanelPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	p, err := s.loadOwners(r, id)
	if err != nil {
		s.fragmentFail(w, r, err)
		return
	}
	p.Notice = ownerNotices[r.URL.Query().Get("done")]
	s.renderOwners(w, r, http.StatusOK, p)
}

// loadOwners reads the owners (recorded by the service) and, for a
// manager, the RMs they may assign.
func (s *server) loadOwners(r *http.Request, id int64) (ownersPanel, error) {
	p := ownersPanel{CustomerID: id, CanManage: access.Can(stateOf(r).actor.Role, access.CustomerTransfer)}
	var err error
	if p.Owners, err = s.Entitlements.Owners(r.Context(), id); err != nil {
		return p, err
	}
	staff := []int64{}
	if p.Primary != nil {
		staff = append(staff, p.Primary.ID)
	}
	for _, u := range p.Secondaries {
		staff = append(staff, u.ID)
	}
	if p.CanManage {
		all, err := s.Entitlements.AssignableRMs(r.Context())
		if err != nil {
			return p, err
		}
		for _, u := range all {
			if p.Primary == nil || u.ID != p.Primary.ID {
				p.RMs = append(p.RMs, u)
				staff = append(staff, u.ID)
			}
		}
	}
	p.Names, err = s.Accounts.StaffNames(r.Context(), staff)
	return p, err
}

// renderOwners writes the panel fragment to htmx, else the panel page.
func (s *server) renderOwners(w http.ResponseWriter, r *http.Request, status int, p ownersPanel) {
	s.renderPanel(w, r, status, "owners", "owners_panel", "access.owners.title", p)
}

// transferOwner makes the picked RM the customer's primary RM, with a reason.
func (s *server) transferOwner(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	owner, _ := strconv.ParseInt(r.PostFormValue("owner_id"), 10, 64)
	reason := r.PostFormValue("reason")
	err := s.Entitlements.Transfer(r.Context(), entitlement.TransferInput{CustomerIDs: []int64{id}, OwnerID: owner,
		Reason: reason})
	s.afterOwnersPost(w, r, id, err, "transferred", reason)
}

// addSecondaryRM adds the picked RM as a secondary RM.
func (s *server) addSecondaryRM(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	user, _ := strconv.ParseInt(r.PostFormValue("user_id"), 10, 64)
	s.afterOwnersPost(w, r, id, s.Entitlements.AddSecondary(r.Context(), id, user), "added", "")
}

// removeSecondaryRM ends a secondary RM's role on the customer.
func (s *server) removeSecondaryRM(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	user, uok := pathInt(r, "user_id")
	if !ok || !uok {
		s.notFound(w, r)
		return
	}
	s.afterOwnersPost(w, r, id, s.Entitlements.RemoveSecondary(r.Context(), id, user), "removed", "")
}

// afterOwnersPost answers a panel form: htmx gets the fresh panel, a plain
// form post a redirect to the panel page; a refused form is the panel again
// with the reason (422). Scope and permission refusals are the usual 404
// and 403 pages.
func (s *server) afterOwnersPost(w http.ResponseWriter, r *http.Request, id int64, err error, done, reason string) {
	if err != nil && kehu.ErrorCode(err) != kehu.EINVALID {
		s.fail(w, r, err)
		return
	}
	if err == nil && r.Header.Get("HX-Request") != "true" {
		http.Redirect(w, r, "/customers/"+strconv.FormatInt(id, 10)+"/owners?done="+done, http.StatusSeeOther)
		return
	}
	p, lerr := s.loadOwners(r, id)
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	status := http.StatusOK
	if err != nil {
		status, p.ErrorKey, p.Reason = http.StatusUnprocessableEntity, "access.owners.error.invalid", reason
		var ke *kehu.Error
		if errors.As(err, &ke) {
			for _, f := range ke.Fields {
				p.Fields = append(p.Fields, f.Field)
			}
		}
	} else {
		p.Notice = ownerNotices[done]
	}
	s.renderOwners(w, r, status, p)
}
