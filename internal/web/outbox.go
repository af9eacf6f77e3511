package web

import (
	"net/http"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
)

// outboxRoutes are 消息模板 (/templates: the template list and the editor
// with its live preview) and 发送监控 (/outbox: counts per channel and
// status, the failures with their reasons, retry) (docs/DELIVERY.md).
func (s *server) outboxRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /templates", s.signedIn(s.needTemplates(s.templatesPage)))
	mux.HandleFunc("GET /templates/{id}", s.signedIn(s.needTemplates(s.templatesPage)))
	mux.HandleFunc("POST /templates", s.signedIn(s.checkCSRF(s.needTemplates(s.saveTemplate))))
	mux.HandleFunc("POST /templates/preview", s.signedIn(s.checkCSRF(s.needTemplates(s.templatePreview))))
	mux.HandleFunc("GET /outbox", s.signedIn(s.needOutbox(s.outboxPage)))
	mux.HandleFunc("POST /outbox/{id}/retry", s.signedIn(s.checkCSRF(s.needOutbox(s.retryMessage))))
}

func (s *server) needTemplates(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Templates == nil {
			s.notFound(w, r)
			return
		}
		if !access.Can(stateOf(r).actor.Role, access.MarketingWrite) {
			s.fail(w, r, kehu.Errorf(kehu.EFORBIDDEN, "your role may not edit message templates"))
			return
		}
		h(w, r)
	}
}

func (s *server) needOutbox(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Outbox == nil {
			s.notFound(w, r)
			return
		}
		if !access.Can(stateOf(r).actor.Role, access.OutboxMonitor) {
			s.fail(w, r, kehu.Errorf(kehu.EFORBIDDEN, "your role may not watch message delivery"))
			return
		}
		h(w, r)
	}
}

// templateForm is the editor as typed.
type templateForm struct {
	ID                                          int64
	Version                                     int
	Name, Channel, Purpose, Subject, Body, Note string
	ExternalID                                  string
	Fields                                      []msgtemplate.Field
}

func formOfTemplate(t msgtemplate.Template) templateForm {
	f := templateForm{ID: t.ID, Version: t.Version, Name: t.Name, Channel: string(t.Channel), Purpose: string(t.Purpose),
		Subject: t.Content.Subject, Body: t.Content.Body, Note: t.Note, ExternalID: t.Content.ExternalID, Fields: t.Content.Fields}
	return f
}

// fieldRows is how many WeChat keyword rows the editor offers.
const fieldRows = 5

func (f templateForm) input() msgtemplate.Input {
	in := msgtemplate.Input{Name: f.Name, Channel: msgtemplate.Channel(f.Channel), Purpose: msgtemplate.Purpose(f.Purpose),
		Note: f.Note, Version: f.Version, Content: msgtemplate.Content{Subject: f.Subject, Body: f.Body}}
	if in.Channel == msgtemplate.WeChat {
		in.Content.ExternalID = f.ExternalID
		for _, fl := range f.Fields {
			if strings.TrimSpace(fl.Key) != "" || strings.TrimSpace(fl.Value) != "" {
				in.Content.Fields = append(in.Content.Fields, fl)
			}
		}
		in.Content.Subject, in.Content.Body = "", ""
	}
	if in.Channel == msgtemplate.SMS {
		in.Content.Subject = ""
	}
	return in
}

func readTemplateForm(r *http.Request) templateForm {
	f := templateForm{Name: r.PostFormValue("name"), Channel: r.PostFormValue("channel"), Purpose: r.PostFormValue("purpose"),
		Subject: r.PostFormValue("subject"), Body: r.PostFormValue("body"), Note: r.PostFormValue("note"),
		ExternalID: r.PostFormValue("external_id")}
	f.ID, _ = strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	f.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	for i := range fieldRows {
		n := strconv.Itoa(i)
		f.Fields = append(f.Fields, msgtemplate.Field{Key: r.PostFormValue("field_key_" + n), Value: r.PostFormValue("field_value_" + n)})
	}
	return f
}

// templatesView is the 消息模板 page.
type templatesView struct {
	Templates []msgtemplate.Template
	Form      templateForm
	FieldRows []fieldRow
	Preview   msgtemplate.Preview
	Variables []msgtemplate.Variable
	Channels  []msgtemplate.Channel
	Versions  []msgtemplate.Version
	Errors    []kehu.FieldError
	Notice    string
	Signature string
}

// fieldRow is one WeChat keyword row of the editor.
type fieldRow struct {
	N          int
	Key, Value string
}

func (v *templatesView) rows() {
	v.FieldRows = nil
	for i := range fieldRows {
		row := fieldRow{N: i}
		if i < len(v.Form.Fields) {
			row.Key, row.Value = v.Form.Fields[i].Key, v.Form.Fields[i].Value
		}
		v.FieldRows = append(v.FieldRows, row)
	}
}

func (s *server) templatesPage(w http.ResponseWriter, r *http.Request) {
	v := templatesView{Form: templateForm{Channel: string(msgtemplate.SMS), Purpose: string(msgtemplate.Marketing)}}
	if idText := r.PathValue("id"); idText != "" {
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || id < 1 {
			s.notFound(w, r)
			return
		}
		t, err := s.Templates.Get(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Form = formOfTemplate(t)
		if v.Versions, err = s.Templates.Versions(r.Context(), id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	switch r.URL.Query().Get("done") {
	case "created":
		v.Notice = "templates.done.created"
	case "saved":
		v.Notice = "templates.done.saved"
	}
	s.showTemplates(w, r, http.StatusOK, v)
}

func (s *server) showTemplates(w http.ResponseWriter, r *http.Request, status int, v templatesView) {
	var err error
	if v.Templates, err = s.Templates.List(r.Context(), ""); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Variables, v.Channels, v.Signature = msgtemplate.Variables, msgtemplate.Channels, s.Templates.Options().Signature
	if v.Preview, err = s.Templates.Preview(r.Context(), v.Form.input(), nil); err != nil {
		s.fail(w, r, err)
		return
	}
	v.rows()
	s.render(w, r, status, "msg_templates", "layout.html", s.newView(w, r, "templates.title", "templates", v))
}

// saveTemplate creates a template or saves a new version; refused input is
// shown again with each problem in a sentence.
func (s *server) saveTemplate(w http.ResponseWriter, r *http.Request) {
	f := readTemplateForm(r)
	var t msgtemplate.Template
	var err error
	if f.ID == 0 {
		t, err = s.Templates.Create(r.Context(), f.input())
	} else {
		t, err = s.Templates.Update(r.Context(), f.ID, f.input())
	}
	if err != nil {
		if code := kehu.ErrorCode(err); code != kehu.EINVALID && code != kehu.ECONFLICT {
			s.fail(w, r, err)
			return
		}
		v := templatesView{Form: f, Errors: kehu.ErrorFields(err)}
		if len(v.Errors) == 0 {
			v.Errors = []kehu.FieldError{{Field: "version", Reason: kehu.ErrorMessage(err)}}
		}
		if f.ID != 0 {
			v.Versions, _ = s.Templates.Versions(r.Context(), f.ID)
		}
		s.showTemplates(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	done := "saved"
	if f.ID == 0 {
		done = "created"
	}
	http.Redirect(w, r, "/templates/"+strconv.FormatInt(t.ID, 10)+"?done="+done, http.StatusSeeOther)
}

// templatePreview answers the editor's live preview (an htmx fragment).
func (s *server) templatePreview(w http.ResponseWriter, r *http.Request) {
	v := templatesView{Form: readTemplateForm(r)}
	p, err := s.Templates.Preview(r.Context(), v.Form.input(), nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Preview = p
	block := "layout.html"
	if r.Header.Get("HX-Request") == "true" {
		block = "template_preview"
	} else {
		// Without JavaScript the preview button shows the whole editor.
		s.showTemplates(w, r, http.StatusOK, v)
		return
	}
	s.render(w, r, http.StatusOK, "msg_templates", block, s.newView(w, r, "templates.title", "templates", v))
}

// outboxView is the 发送监控 page.
type outboxView struct {
	Channels []msgtemplate.Channel
	Statuses []outbox.Status
	Counts   map[string]int64 // "channel/status" → count
	Totals   map[string]int64 // status → count over channels
	Messages []outbox.Message
	Status   string
	Channel  string
	Next     string
	Notice   string
}

// Count returns the count of a channel in a status.
func (v outboxView) Count(ch msgtemplate.Channel, st outbox.Status) int64 {
	return v.Counts[string(ch)+"/"+string(st)]
}

func (s *server) outboxPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := outboxView{Channels: msgtemplate.Channels, Statuses: outbox.Statuses, Counts: map[string]int64{}, Totals: map[string]int64{},
		Status: q.Get("status"), Channel: q.Get("channel")}
	if v.Status == "" {
		v.Status = string(outbox.Failed)
	}
	if q.Get("done") == "retried" {
		v.Notice = "outbox.done.retried"
	}
	counts, err := s.Outbox.Stats(r.Context(), "", 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range counts {
		v.Counts[string(c.Channel)+"/"+string(c.Status)] = c.Count
		v.Totals[string(c.Status)] += c.Count
	}
	f := outbox.Filter{Status: outbox.Status(v.Status), Channel: msgtemplate.Channel(v.Channel), Limit: 50}
	if c := q.Get("cursor"); c != "" {
		cur, err := kehu.DecodeCursor(c)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.After = cur.AfterID
	}
	p, err := s.Outbox.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Messages = p.Items
	v.Next = p.NextCursor.Encode()
	s.render(w, r, http.StatusOK, "outbox_monitor", "layout.html", s.newView(w, r, "outbox.title", "outbox", v))
}

func (s *server) retryMessage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		s.notFound(w, r)
		return
	}
	if _, err := s.Outbox.Retry(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/outbox?done=retried", http.StatusSeeOther)
}

// issue is a template problem as the editor shows it: the field's label and
// the reason in the page's language (a catalogue key and its argument), or
// the service's sentence when no key fits.
type issue struct {
	Field, FieldKey, Key, Arg, Raw string
}

// issueRules map the template service's reasons to catalogue keys.
var issueRules = []struct{ prefix, key string }{
	{"unknown variable ", "templates.err.unknown_variable"},
	{"is required", "templates.err.required"},
	{"a marketing SMS must begin or end with the bank's signature", "templates.err.signature"},
	{"a marketing SMS must contain the opt-out text", "templates.err.optout"},
	{"is never closed", "templates.err.unclosed"},
	{"has no data and no fallback", "templates.err.no_data"},
}

func issuesOf(fs []kehu.FieldError) []issue {
	var out []issue
	for _, f := range fs {
		is := issue{Field: f.Field, Raw: f.Reason}
		base := f.Field
		if i := strings.IndexByte(base, '['); i > 0 {
			base = base[:i]
		}
		is.FieldKey = "templates.field." + base
		for _, rule := range issueRules {
			switch {
			case strings.HasPrefix(f.Reason, rule.prefix) && rule.key == "templates.err.unknown_variable":
				is.Key, is.Arg = rule.key, strings.TrimPrefix(f.Reason, rule.prefix)
			case strings.Contains(f.Reason, rule.prefix) && rule.key != "templates.err.unknown_variable":
				is.Key = rule.key
				if rule.key == "templates.err.signature" {
					is.Arg = f.Reason[strings.LastIndex(f.Reason, " ")+1:]
				}
			}
			if is.Key != "" {
				break
			}
		}
		out = append(out, is)
	}
	return out
}

// Issues are the save errors, ready for the page.
func (v templatesView) Issues() []issue { return issuesOf(v.Errors) }

// PreviewIssues are the live preview's problems.
func (v templatesView) PreviewIssues() []issue { return issuesOf(v.Preview.Errors) }
