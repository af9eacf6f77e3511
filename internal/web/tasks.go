package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"kehu/internal/access"
	"kehu/internal/kehu"
	"kehu/internal/sales"
	"kehu/internal/task"
)

// taskRoutes are 我的待办 (/tasks: my open tasks, my queue, the team's;
// claim from the queue, complete with the outcome) and 线索 (/leads: my
// leads or the team's, moved on with a note) (docs/TASKS.md).
func (s *server) taskRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /tasks", s.signedIn(s.needTasks(s.tasksPage)))
	mux.HandleFunc("POST /tasks/{id}/claim", s.signedIn(s.checkCSRF(s.needTasks(s.claimTask))))
	mux.HandleFunc("POST /tasks/{id}/complete", s.signedIn(s.checkCSRF(s.needTasks(s.completeTask))))
	mux.HandleFunc("POST /tasks/{id}/cancel", s.signedIn(s.checkCSRF(s.needTasks(s.cancelTask))))
	mux.HandleFunc("POST /tasks/{id}/reassign", s.signedIn(s.checkCSRF(s.needTasks(s.reassignTask))))
	mux.HandleFunc("GET /leads", s.signedIn(s.needLeads(s.leadsPage)))
	mux.HandleFunc("POST /leads/{id}", s.signedIn(s.checkCSRF(s.needLeads(s.updateLead))))
}

func (s *server) needTasks(h http.HandlerFunc) http.HandlerFunc {
	return s.needService(func() bool { return s.Tasks != nil }, h)
}

func (s *server) needLeads(h http.HandlerFunc) http.HandlerFunc {
	return s.needService(func() bool { return s.Leads != nil }, h)
}

// needService answers 404 when the service is not wired and 403 to a role
// without customer.read (the services check again).
func (s *server) needService(wired func() bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !wired() {
			s.notFound(w, r)
			return
		}
		if !access.Can(stateOf(r).actor.Role, access.CustomerRead) {
			s.fail(w, r, kehu.Errorf(kehu.EFORBIDDEN, "your role reads no customers"))
			return
		}
		h(w, r)
	}
}

// tasksView is the 我的待办 page.
type tasksView struct {
	View     string
	Status   string
	Views    []task.View
	Statuses []task.Status
	Tasks    []task.Task
	Counts   task.Counts
	Team     bool // the actor may open the team view
	Next     string
	Notice   string // catalogue key
	Error    string // catalogue key of a refused action
	FormID   int64  // the task whose outcome form failed
	At       time.Time
	// RMs are whom a manager (customer.transfer) may give a team task:
	// the active RMs of their organisation subtree. Empty for others, who
	// see no reassign control.
	RMs []assignable
}

// assignable is one RM of the reassign picker.
type assignable struct {
	ID   int64
	Name string
}

// Overdue reports whether t is open past its due time.
func (v tasksView) Overdue(t task.Task) bool { return t.Overdue(v.At) }

var taskNotices = map[string]string{"claimed": "tasks.done.claimed", "completed": "tasks.done.completed",
	"cancelled": "tasks.done.cancelled", "reassigned": "tasks.done.reassigned"}

func (s *server) tasksPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := tasksView{View: q.Get("view"), Status: q.Get("status"), Notice: taskNotices[q.Get("done")]}
	s.showTasks(w, r, http.StatusOK, &v, q.Get("cursor"))
}

// showTasks fills v with the list and renders the page with status.
func (s *server) showTasks(w http.ResponseWriter, r *http.Request, status int, v *tasksView, cursor string) {
	if v.View == "" {
		v.View = string(task.ViewMine)
	}
	if v.Status == "" {
		v.Status = string(task.Open)
	}
	v.Views, v.Statuses = []task.View{task.ViewMine, task.ViewQueue}, task.Statuses
	if v.Team = access.DefaultScope(stateOf(r).actor.Role) != access.ScopeOwn; v.Team {
		v.Views = append(v.Views, task.ViewTeam)
	}
	f := task.Filter{View: task.View(v.View), Status: task.Status(v.Status), Limit: 50}
	if cursor != "" {
		c, err := kehu.DecodeCursor(cursor)
		if err != nil {
			s.fail(w, r, kehu.Errorf(kehu.EINVALID, "bad cursor"))
			return
		}
		f.After = c
	}
	p, err := s.Tasks.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v.Counts, err = s.Tasks.Counts(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Tasks, v.Next, v.At = p.Items, p.NextCursor.Encode(), s.Clock.Now()
	if v.RMs, err = s.reassignChoices(r, v); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "tasks", "layout.html", s.newView(w, r, "tasks.title", "tasks", *v))
}

// reassignChoices lists the RMs a manager may give the team view's tasks
// (their subtree's active RMs, by name), nil where there is no control.
func (s *server) reassignChoices(r *http.Request, v *tasksView) ([]assignable, error) {
	if v.View != string(task.ViewTeam) || len(v.Tasks) == 0 || s.Entitlements == nil ||
		!access.Can(stateOf(r).actor.Role, access.CustomerTransfer) {
		return nil, nil
	}
	rms, err := s.Entitlements.AssignableRMs(r.Context())
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rms))
	for i, u := range rms {
		ids[i] = u.ID
	}
	names, err := s.Accounts.StaffNames(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]assignable, len(rms))
	for i, u := range rms {
		out[i] = assignable{ID: u.ID, Name: names[u.ID]}
		if out[i].Name == "" {
			out[i].Name = u.Username
		}
	}
	return out, nil
}

func taskID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// taskRefused shows the list again with why an action was refused: taken
// by someone else (409) or a bad outcome (422); other errors are the error
// page.
func (s *server) taskRefused(w http.ResponseWriter, r *http.Request, err error, v tasksView) {
	switch kehu.ErrorCode(err) {
	case kehu.ECONFLICT:
		v.Error = "tasks.err.conflict"
		s.showTasks(w, r, http.StatusConflict, &v, "")
	case kehu.EINVALID:
		v.Error = "tasks.err.outcome"
		s.showTasks(w, r, http.StatusUnprocessableEntity, &v, "")
	default:
		s.fail(w, r, err)
	}
}

func (s *server) claimTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	if _, err := s.Tasks.Claim(r.Context(), id); err != nil {
		s.taskRefused(w, r, err, tasksView{View: string(task.ViewQueue)})
		return
	}
	http.Redirect(w, r, "/tasks?done=claimed", http.StatusSeeOther)
}

func (s *server) completeTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	if _, err := s.Tasks.Complete(r.Context(), id, r.PostFormValue("outcome")); err != nil {
		s.taskRefused(w, r, err, tasksView{FormID: id})
		return
	}
	http.Redirect(w, r, "/tasks?done=completed", http.StatusSeeOther)
}

// cancelTask closes a task of the team view that is no longer needed, with
// the reason (the service allows a manager whose scope holds the customer,
// and the assignee).
func (s *server) cancelTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	if _, err := s.Tasks.Cancel(r.Context(), id, r.PostFormValue("reason")); err != nil {
		v := tasksView{View: string(task.ViewTeam), FormID: id}
		if kehu.ErrorCode(err) == kehu.EINVALID {
			v.Error = "tasks.err.reason"
			s.showTasks(w, r, http.StatusUnprocessableEntity, &v, "")
			return
		}
		s.taskRefused(w, r, err, v)
		return
	}
	http.Redirect(w, r, "/tasks?view=team&done=cancelled", http.StatusSeeOther)
}

// reassignTask gives a team task to the RM picked beside it, with an
// optional reason (the service allows a manager whose scope holds the
// customer, and the assignee; the RM must be active and inside the
// manager's organisation subtree). A refusal is a sentence on the page.
func (s *server) reassignTask(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	to, _ := strconv.ParseInt(r.PostFormValue("assignee_id"), 10, 64)
	_, err := s.Tasks.Reassign(r.Context(), id, task.Assignment{AssigneeID: max(to, 0), Reason: r.PostFormValue("reason")})
	if err == nil {
		http.Redirect(w, r, "/tasks?view=team&done=reassigned", http.StatusSeeOther)
		return
	}
	v := tasksView{View: string(task.ViewTeam), FormID: id}
	switch kehu.ErrorCode(err) {
	case kehu.EINVALID:
		v.Error = "tasks.err.assignee"
		for _, f := range kehu.ErrorFields(err) {
			if f.Field == "reason" {
				v.Error = "tasks.err.reassign_reason"
			}
		}
		s.showTasks(w, r, http.StatusUnprocessableEntity, &v, "")
	case kehu.EFORBIDDEN:
		v.Error = "tasks.err.reassign_forbidden"
		s.showTasks(w, r, http.StatusForbidden, &v, "")
	default:
		s.taskRefused(w, r, err, v)
	}
}

// leadsView is the 线索 page.
type leadsView struct {
	View     string
	Status   string
	Team     bool
	Statuses []sales.Status
	Leads    []sales.Lead
	Next     string
	Notice   string
	Error    string
}

func (s *server) leadsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := leadsView{View: q.Get("view"), Status: q.Get("status")}
	if q.Get("done") == "saved" {
		v.Notice = "leads.done.saved"
	}
	s.showLeads(w, r, http.StatusOK, &v, q.Get("cursor"))
}

func (s *server) showLeads(w http.ResponseWriter, r *http.Request, status int, v *leadsView, cursor string) {
	if v.View == "" {
		v.View = string(task.ViewMine)
	}
	v.Statuses = sales.Statuses
	v.Team = access.DefaultScope(stateOf(r).actor.Role) != access.ScopeOwn
	f := sales.Filter{View: task.View(v.View), Status: sales.Status(v.Status), Limit: 50}
	if cursor != "" {
		c, err := kehu.DecodeCursor(cursor)
		if err != nil {
			s.fail(w, r, kehu.Errorf(kehu.EINVALID, "bad cursor"))
			return
		}
		f.After = c.AfterID
	}
	p, err := s.Leads.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Leads, v.Next = p.Items, p.NextCursor.Encode()
	s.render(w, r, status, "leads", "layout.html", s.newView(w, r, "leads.title", "leads", *v))
}

func (s *server) updateLead(w http.ResponseWriter, r *http.Request) {
	id, ok := taskID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	st, note := sales.Status(r.PostFormValue("status")), r.PostFormValue("note")
	u := sales.Update{Note: &note}
	if slices.Contains(sales.Statuses, st) {
		u.Status = &st
	}
	_, err := s.Leads.Update(r.Context(), id, u)
	switch kehu.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/leads?"+url.Values{"view": {r.PostFormValue("view")}, "done": {"saved"}}.Encode(), http.StatusSeeOther)
	case kehu.ECONFLICT:
		s.showLeads(w, r, http.StatusConflict, &leadsView{View: r.PostFormValue("view"), Error: "leads.err.closed"}, "")
	case kehu.EINVALID:
		s.showLeads(w, r, http.StatusUnprocessableEntity, &leadsView{View: r.PostFormValue("view"), Error: "leads.err.backwards"}, "")
	default:
		s.fail(w, r, err)
	}
}

// badges puts the number of the user's open tasks (their own and their
// queue's) beside 我的待办. A failed count shows no badge rather than
// failing the page.
func (s *server) badges(r *http.Request, nav []navItem) []navItem {
	if s.Tasks == nil {
		return nav
	}
	for i := range nav {
		if nav[i].Key == "tasks" {
			if c, err := s.Tasks.Counts(r.Context()); err == nil {
				nav[i].Badge = c.Mine + c.Queue
			}
		}
	}
	return nav
}
