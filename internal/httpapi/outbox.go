package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
)

func (a *api) templatesEnabled() error {
	if a.d.Templates == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "message templates are not enabled on this server")
	}
	return nil
}

func (a *api) outboxEnabled() error {
	if a.d.Outbox == nil {
		return newProblem(http.StatusNotFound, ProblemNotFound, "the outbox is not enabled on this server")
	}
	return nil
}

type templatePage struct {
	Items []msgtemplate.Template `json:"items"`
}

func (a *api) listTemplates(w http.ResponseWriter, r *http.Request) error {
	if err := a.templatesEnabled(); err != nil {
		return err
	}
	ch := msgtemplate.Channel(r.URL.Query().Get("channel"))
	if ch != "" && !msgtemplate.ValidChannel(ch) {
		return badBody("a query parameter is invalid", FieldIssue{"channel", "must be sms, push, wechat or email"})
	}
	ts, err := a.d.Templates.List(r.Context(), ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, templatePage{Items: ts})
	return nil
}

func (a *api) createTemplate(w http.ResponseWriter, r *http.Request) error {
	if err := a.templatesEnabled(); err != nil {
		return err
	}
	var in msgtemplate.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := a.d.Templates.Create(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/templates/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (a *api) getTemplate(w http.ResponseWriter, r *http.Request) error {
	if err := a.templatesEnabled(); err != nil {
		return err
	}
	id, err := pathIDOf(r, "template")
	if err != nil {
		return err
	}
	t, err := a.d.Templates.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (a *api) updateTemplate(w http.ResponseWriter, r *http.Request) error {
	if err := a.templatesEnabled(); err != nil {
		return err
	}
	id, err := pathIDOf(r, "template")
	if err != nil {
		return err
	}
	var in msgtemplate.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := a.d.Templates.Update(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

type templateVersionPage struct {
	Items []msgtemplate.Version `json:"items"`
}

func (a *api) templateVersions(w http.ResponseWriter, r *http.Request) error {
	if err := a.templatesEnabled(); err != nil {
		return err
	}
	id, err := pathIDOf(r, "template")
	if err != nil {
		return err
	}
	vs, err := a.d.Templates.Versions(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, templateVersionPage{Items: vs})
	return nil
}

// templatePreviewBody is an unsaved template and optional data (the sample
// data when absent).
type templatePreviewBody struct {
	msgtemplate.Input
	Data *msgtemplate.Data `json:"data"`
}

func (a *api) previewTemplate(w http.ResponseWriter, r *http.Request) error {
	if err := a.templatesEnabled(); err != nil {
		return err
	}
	var in templatePreviewBody
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := a.d.Templates.Preview(r.Context(), in.Input, in.Data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

type outboxPage struct {
	Items      []outbox.Message `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

// outboxFilter reads status, channel, source ("campaign" or "campaign:7"),
// limit and cursor.
func outboxFilter(r *http.Request) (outbox.Filter, error) {
	q := r.URL.Query()
	f := outbox.Filter{Status: outbox.Status(q.Get("status")), Channel: msgtemplate.Channel(q.Get("channel"))}
	var issues []FieldIssue
	if s := q.Get("source"); s != "" {
		kind, id, ok := parseSource(s)
		if !ok {
			issues = append(issues, FieldIssue{"source", "must be a kind or kind:id, e.g. campaign:7"})
		}
		f.SourceKind, f.SourceID = kind, id
	}
	var after kehu.Cursor
	f.Limit, after, issues = pageParams(r, issues)
	f.After = after.AfterID
	if len(issues) > 0 {
		return f, badBody("a query parameter is invalid", issues...)
	}
	return f, nil
}

func parseSource(s string) (string, int64, bool) {
	kind, idText, hasID := strings.Cut(s, ":")
	if kind == "" || len(kind) > 50 {
		return "", 0, false
	}
	if !hasID {
		return kind, 0, true
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	return kind, id, err == nil && id > 0
}

func (a *api) listOutbox(w http.ResponseWriter, r *http.Request) error {
	if err := a.outboxEnabled(); err != nil {
		return err
	}
	f, err := outboxFilter(r)
	if err != nil {
		return err
	}
	p, err := a.d.Outbox.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, outboxPage{Items: p.Items, NextCursor: p.NextCursor.Next()})
	return nil
}

type outboxStatsBody struct {
	Counts []outbox.Count `json:"counts"`
}

func (a *api) outboxStats(w http.ResponseWriter, r *http.Request) error {
	if err := a.outboxEnabled(); err != nil {
		return err
	}
	var kind string
	var id int64
	if s := r.URL.Query().Get("source"); s != "" {
		var ok bool
		if kind, id, ok = parseSource(s); !ok {
			return badBody("a query parameter is invalid", FieldIssue{"source", "must be a kind or kind:id, e.g. campaign:7"})
		}
	}
	cs, err := a.d.Outbox.Stats(r.Context(), kind, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, outboxStatsBody{Counts: cs})
	return nil
}

func (a *api) retryOutbox(w http.ResponseWriter, r *http.Request) error {
	if err := a.outboxEnabled(); err != nil {
		return err
	}
	id, err := pathIDOf(r, "message")
	if err != nil {
		return err
	}
	m, err := a.d.Outbox.Retry(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// outboxReceipts takes a provider's signed receipts. The body is read raw:
// the signature covers its exact bytes.
func (a *api) outboxReceipts(w http.ResponseWriter, r *http.Request) error {
	if err := a.outboxEnabled(); err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return newProblem(http.StatusUnsupportedMediaType, ProblemMediaType,
			"the request body must be JSON, sent with Content-Type: application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		return badBody("the request body could not be read")
	}
	res, err := a.d.Outbox.Receipts(r.Context(), body, r.Header.Get(outbox.HeaderTimestamp),
		r.Header.Get(outbox.HeaderNonce), r.Header.Get(outbox.HeaderSignature))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
