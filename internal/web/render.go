package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"

	"kehu/internal/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames are the templates under templates/, each rendered inside
// layout.html.
var pageNames = []string{"login", "customers", "customer", "orgs", "error", "security", "unmask", "audit", "access", "access_notfound",
	"privacy", "privacy_request", "privacy_panel", "bulk", "compliance", "owners", "segments", "segment_edit", "segment_members",
	"levels", "dictionary", "dictionary_entry", "data_quality", "duplicates",
	"imports", "import_preview", "import_job", "tags", "tag_edit", "provenance", "msg_templates", "outbox_monitor", "contact_policy", "tasks", "leads", "campaign_results",
	"journeys", "journey_edit", "journey_results", "campaigns", "campaign_edit", "campaign"}

// pagePartials are further templates parsed with a page (its sections kept in
// their own files).
var pagePartials = map[string][]string{"security": {"security_tokens"}, "customer": {"customer_privacy", "customer_owners", "customer_suitability"},
	"tags": {"tag_fields"}, "tag_edit": {"tag_fields"},
	"campaign_results": {"results_charts"}, "journey_results": {"results_charts"}}

// pageSet holds every page parsed once per language, so the t function is
// bound to its language at parse time and rendering needs no per-request
// template cloning.
type pageSet struct {
	byLang map[string]map[string]*template.Template
}

// parsePages parses layout.html with each page for every language, funcs
// giving the template functions of a language.
func parsePages(b *i18n.Bundle, funcs func(lang string) template.FuncMap) (*pageSet, error) {
	ps := &pageSet{byLang: map[string]map[string]*template.Template{}}
	for _, lang := range b.Languages() {
		ps.byLang[lang] = map[string]*template.Template{}
		for _, name := range pageNames {
			files := []string{"templates/layout.html", "templates/" + name + ".html"}
			for _, p := range pagePartials[name] {
				files = append(files, "templates/"+p+".html")
			}
			t, err := template.New("layout.html").Funcs(funcs(lang)).ParseFS(templateFS, files...)
			if err != nil {
				return nil, fmt.Errorf("web: template %s: %w", name, err)
			}
			ps.byLang[lang][name] = t
		}
	}
	return ps, nil
}

// view is the data every page template receives. Data is the page's own.
type view struct {
	Lang      string
	Title     string // catalogue key of the page title
	TitleText string // a title that is data (a customer's name), shown instead
	Path      string // the current URL, where the language switch returns
	CSRF      string
	HXHeaders string // JSON for hx-headers, so htmx requests carry the token
	User      *userView
	Nav       []navItem
	Active    string
	Data      any
}

// newView fills the parts of a view common to every page.
func (s *server) newView(w http.ResponseWriter, r *http.Request, title, active string, data any) view {
	st := stateOf(r)
	v := view{Lang: st.lang, Title: title, Path: localPath(r.URL.RequestURI(), "/"), Active: active, Data: data}
	v.CSRF = s.csrfToken(w, r)
	h, _ := json.Marshal(map[string]string{"X-CSRF-Token": v.CSRF})
	v.HXHeaders = string(h)
	if st.signedIn {
		v.User = s.userView(r)
		v.Nav = s.badges(r, navFor(st.actor.Role))
	}
	return v
}

// renderPanel writes a customer-page panel: just its fragment to htmx, which
// swaps it into the customer page, else the whole page around it (the same
// panel still works without JavaScript).
func (s *server) renderPanel(w http.ResponseWriter, r *http.Request, status int, page, fragment, title string, data any) {
	block := "layout.html"
	if r.Header.Get("HX-Request") == "true" {
		block = fragment
	}
	s.render(w, r, status, page, block, s.newView(w, r, title, "customers", data))
}

// render writes a page (block "layout") or, for htmx fragment requests, a
// named block. It renders into a buffer first, so a template error becomes an
// error page instead of half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page, block string, v view) {
	t := s.pages.byLang[v.Lang][page]
	if t == nil {
		t = s.pages.byLang[i18n.Default][page]
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, v); err != nil {
		s.Logger.ErrorContext(r.Context(), "render page", "page", page, "block", block, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.Lang)
	h.Add("Vary", "HX-Request, HX-Target, Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
