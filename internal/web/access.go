package web

import (
	"net/http"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/access/entitlement"
	"kehu/internal/kehu"
	"kehu/internal/vault"
)

// accessView is the access page: the user's own requests, the approver's
// inbox, the break-glass form and compliance's review queue, each shown only
// to roles that hold its permission.
type accessView struct {
	Mine        []accessRow
	Inbox       []accessRow
	Queue       []entitlement.Grant
	CanApprove  bool
	CanBreak    bool
	CanReview   bool
	CustomerID  string // prefilled from ?customer_id= (the 404 page's offer)
	Done        string // the action just completed (?done=), confirmed on the page
	GrantHours  []int
	BreakMinute int
}

// accessRow is a request with its status as of now and the customer name
// masked by the display policy (empty for the requester).
type accessRow struct {
	entitlement.Request
	State string
	Name  string
}

func (s *server) accessPage(w http.ResponseWriter, r *http.Request) {
	if s.Entitlements == nil {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such page"))
		return
	}
	role := stateOf(r).actor.Role
	av := accessView{CanApprove: access.Can(role, access.AccessApprove), CanBreak: access.Can(role, access.BreakGlass),
		CanReview: access.Can(role, access.AccessReview), GrantHours: []int{1, 4, 8, 24, 72},
		BreakMinute: int(entitlement.BreakGlassDuration.Minutes())}
	if id, err := strconv.ParseInt(r.URL.Query().Get("customer_id"), 10, 64); err == nil && id > 0 {
		av.CustomerID = strconv.FormatInt(id, 10)
	}
	if done := r.URL.Query().Get("done"); accessDone[done] {
		av.Done = done
	}
	mine, err := s.Entitlements.Requests(r.Context(), "", true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	av.Mine = s.accessRows(mine, role)
	if av.CanApprove {
		inbox, err := s.Entitlements.Requests(r.Context(), entitlement.StatusPending, false)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		av.Inbox = s.accessRows(inbox, role)
	}
	if av.CanReview {
		no := false
		if av.Queue, err = s.Entitlements.BreakGlassQueue(r.Context(), &no); err != nil {
			s.fail(w, r, err)
			return
		}
		for i := range av.Queue {
			av.Queue[i].CustomerName = maskName(av.Queue[i].CustomerName, role)
		}
	}
	s.render(w, r, http.StatusOK, "access", "layout.html", s.newView(w, r, "access.title", "access", av))
}

func (s *server) accessRows(rs []entitlement.Request, role string) []accessRow {
	now := s.Clock.Now()
	out := make([]accessRow, 0, len(rs))
	for _, x := range rs {
		out = append(out, accessRow{Request: x, State: x.StatusAt(now), Name: maskName(x.CustomerName, role)})
	}
	return out
}

// maskName applies the display policy's name rule.
func maskName(name, role string) string {
	if name == "" || vault.ShowsClear(role, "name", false) {
		return name
	}
	return vault.MaskName(name)
}

// fileAccessRequest files a request from the 404 page or the access page.
func (s *server) fileAccessRequest(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PostFormValue("customer_id"), 10, 64)
	hours, _ := strconv.Atoi(r.PostFormValue("hours"))
	scope := r.PostFormValue("scope")
	if scope == "" {
		scope = entitlement.GrantCustomer
	}
	_, err := s.Entitlements.Request(r.Context(), entitlement.NewRequest{CustomerID: id, Scope: scope,
		Reason: r.PostFormValue("reason"), Hours: hours})
	s.afterAccessPost(w, r, "requested", err)
}

// decideAccess runs approve, deny or revoke on request {id}.
func (s *server) decideAccess(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such request"))
		return
	}
	comment := r.PostFormValue("comment")
	verb := r.PathValue("verb")
	switch verb {
	case "approve":
		_, err = s.Entitlements.Approve(r.Context(), id, comment)
	case "deny":
		_, err = s.Entitlements.Deny(r.Context(), id, comment)
	case "revoke":
		_, err = s.Entitlements.Revoke(r.Context(), id, comment)
	default:
		err = kehu.Errorf(kehu.ENOTFOUND, "no such action")
	}
	s.afterAccessPost(w, r, verb, err)
}

func (s *server) breakGlass(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PostFormValue("customer_id"), 10, 64)
	_, err := s.Entitlements.BreakGlass(r.Context(), entitlement.NewBreakGlass{CustomerID: id,
		Reason: r.PostFormValue("reason"), Ticket: r.PostFormValue("ticket")})
	if err == nil {
		http.Redirect(w, r, "/customers/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return
	}
	s.afterAccessPost(w, r, "", err)
}

func (s *server) reviewBreakGlass(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		_, err = s.Entitlements.Review(r.Context(), id, r.PostFormValue("comment"))
	}
	s.afterAccessPost(w, r, "reviewed", err)
}

// accessDone lists the actions the access page confirms after a redirect.
var accessDone = map[string]bool{"requested": true, "approve": true, "deny": true, "revoke": true, "reviewed": true}

// afterAccessPost returns to the access page (post/redirect/get) with a
// confirmation of what was done, or shows the error page; the form data
// never goes into a URL.
func (s *server) afterAccessPost(w http.ResponseWriter, r *http.Request, done string, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/access?done="+done, http.StatusSeeOther)
}

// customerNotFound renders the 404 of a customer page: the same for unknown
// and out-of-scope ids, with the offer to request access to that id.
func (s *server) customerNotFound(w http.ResponseWriter, r *http.Request, id int64) {
	data := struct {
		CustomerID string
		GrantHours []int
	}{strconv.FormatInt(id, 10), []int{1, 4, 8, 24, 72}}
	s.render(w, r, http.StatusNotFound, "access_notfound", "layout.html",
		s.newView(w, r, "error.not_found.title", "customers", data))
}
