package httpapi

import (
	"net/http"
	"strconv"

	"kehu/internal/kehu"
	"kehu/internal/sales"
	"kehu/internal/task"
)

func (a *api) tasksEnabled() error {
	if a.d.Tasks == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "tasks are not enabled on this server")
	}
	return nil
}

func (a *api) leadsEnabled() error {
	if a.d.Leads == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "leads are not enabled on this server")
	}
	return nil
}

type taskPage struct {
	Items      []task.Task `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

// taskFilter reads view, status, kind, customer_id, source, limit and
// cursor; the service validates the words.
func taskFilter(r *http.Request) (task.Filter, error) {
	q := r.URL.Query()
	f := task.Filter{View: task.View(q.Get("view")), Status: task.Status(q.Get("status")), Kind: task.Kind(q.Get("kind"))}
	var issues []FieldIssue
	if s := q.Get("customer_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			issues = append(issues, FieldIssue{"customer_id", "must be a customer id"})
		}
		f.CustomerID = n
	}
	f.SourceKind, f.SourceID, issues = sourceParam(r, issues)
	f.Limit, f.After, issues = pageParams(r, issues)
	if len(issues) > 0 {
		return f, badBody("a query parameter is invalid", issues...)
	}
	return f, nil
}

// sourceParam reads source ("campaign" or "campaign:7").
func sourceParam(r *http.Request, issues []FieldIssue) (string, int64, []FieldIssue) {
	s := r.URL.Query().Get("source")
	if s == "" {
		return "", 0, issues
	}
	kind, id, ok := parseSource(s)
	if !ok {
		issues = append(issues, FieldIssue{"source", "must be a kind or kind:id, e.g. campaign:7"})
	}
	return kind, id, issues
}

func (a *api) listTasks(w http.ResponseWriter, r *http.Request) error {
	if err := a.tasksEnabled(); err != nil {
		return err
	}
	f, err := taskFilter(r)
	if err != nil {
		return err
	}
	p, err := a.d.Tasks.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, taskPage{Items: p.Items, NextCursor: p.NextCursor.Next()})
	return nil
}

func (a *api) taskCounts(w http.ResponseWriter, r *http.Request) error {
	if err := a.tasksEnabled(); err != nil {
		return err
	}
	c, err := a.d.Tasks.Counts(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// taskAction runs fn on the task of the path's {id} and answers the task.
func (a *api) taskAction(w http.ResponseWriter, r *http.Request, fn func(id int64) (task.Task, error)) error {
	if err := a.tasksEnabled(); err != nil {
		return err
	}
	id, err := pathIDOf(r, "task")
	if err != nil {
		return err
	}
	t, err := fn(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (a *api) getTask(w http.ResponseWriter, r *http.Request) error {
	return a.taskAction(w, r, func(id int64) (task.Task, error) { return a.d.Tasks.Get(r.Context(), id) })
}

func (a *api) claimTask(w http.ResponseWriter, r *http.Request) error {
	return a.taskAction(w, r, func(id int64) (task.Task, error) { return a.d.Tasks.Claim(r.Context(), id) })
}

type taskOutcomeBody struct {
	Outcome string `json:"outcome"`
}

type taskCancelBody struct {
	Reason string `json:"reason"`
}

func (a *api) completeTask(w http.ResponseWriter, r *http.Request) error {
	return a.taskAction(w, r, func(id int64) (task.Task, error) {
		var in taskOutcomeBody
		if err := decodeJSON(w, r, &in); err != nil {
			return task.Task{}, err
		}
		return a.d.Tasks.Complete(r.Context(), id, in.Outcome)
	})
}

func (a *api) cancelTask(w http.ResponseWriter, r *http.Request) error {
	return a.taskAction(w, r, func(id int64) (task.Task, error) {
		var in taskCancelBody
		if err := decodeJSON(w, r, &in); err != nil {
			return task.Task{}, err
		}
		return a.d.Tasks.Cancel(r.Context(), id, in.Reason)
	})
}

func (a *api) reassignTask(w http.ResponseWriter, r *http.Request) error {
	return a.taskAction(w, r, func(id int64) (task.Task, error) {
		var in task.Assignment
		if err := decodeJSON(w, r, &in); err != nil {
			return task.Task{}, err
		}
		return a.d.Tasks.Reassign(r.Context(), id, in)
	})
}

type leadPage struct {
	Items      []sales.Lead `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

func (a *api) listLeads(w http.ResponseWriter, r *http.Request) error {
	if err := a.leadsEnabled(); err != nil {
		return err
	}
	q := r.URL.Query()
	f := sales.Filter{View: task.View(q.Get("view")), Status: sales.Status(q.Get("status"))}
	var issues []FieldIssue
	var after kehu.Cursor
	f.SourceKind, f.SourceID, issues = sourceParam(r, issues)
	f.Limit, after, issues = pageParams(r, issues)
	if len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	f.After = after.AfterID
	p, err := a.d.Leads.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, leadPage{Items: p.Items, NextCursor: p.NextCursor.Next()})
	return nil
}

func (a *api) updateLead(w http.ResponseWriter, r *http.Request) error {
	if err := a.leadsEnabled(); err != nil {
		return err
	}
	id, err := pathIDOf(r, "lead")
	if err != nil {
		return err
	}
	var in sales.Update
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	l, err := a.d.Leads.Update(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}
