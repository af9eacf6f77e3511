package web

import (
	"net/http"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/kehu"
	"kehu/internal/tag"
)

// tagAdminRoutes are the tag catalogue's pages (标签管理, tag.manage):
// the list with the form for a new manual or emotion tag, an entry's edit
// page (computed tags: their rule's parameters), deactivation and deletion.
func (s *server) tagAdminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /tags", s.signedIn(s.needTagManage(s.tagsPage)))
	mux.HandleFunc("POST /tags", s.signedIn(s.checkCSRF(s.needTagManage(s.createTag))))
	mux.HandleFunc("GET /tags/{id}", s.signedIn(s.needTagManage(s.tagEditPage)))
	mux.HandleFunc("POST /tags/{id}", s.signedIn(s.checkCSRF(s.needTagManage(s.saveTag))))
	mux.HandleFunc("POST /tags/{id}/active", s.signedIn(s.checkCSRF(s.needTagManage(s.setTagActive))))
	mux.HandleFunc("POST /tags/{id}/delete", s.signedIn(s.checkCSRF(s.needTagManage(s.deleteTag))))
}

func (s *server) needTagManage(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !access.Can(stateOf(r).actor.Role, access.TagManage) {
			s.fail(w, r, kehu.Errorf(kehu.EFORBIDDEN, "your role may not manage the tag catalogue"))
			return
		}
		h(w, r)
	}
}

// tagsView is the catalogue page.
type tagsView struct {
	Tags     []tag.Tag
	Form     tagEntryForm // the new-tag form
	Notice   string
	ErrorKey string
	Colors   []string
}

// tagEntryForm is a catalogue entry as typed. Amounts are in yuan; Errors
// marks the refused fields by their API names (rule.min_aum, …).
type tagEntryForm struct {
	ID                                int64
	Code, Kind, RuleKind              string
	Name, LabelEN, Color, Description string
	Polarity, ExpiryDays              string
	MinAUM, Months, Days, MinCount    string
	ReasonRequired, Active            bool
	Errors                            map[string]bool
}

func entryFormOf(t tag.Tag) tagEntryForm {
	f := tagEntryForm{ID: t.ID, Code: t.Code, Kind: t.Kind, Name: t.Name, LabelEN: t.LabelEN, Color: t.Color,
		Description: t.Description, Polarity: t.Polarity, ReasonRequired: t.ReasonRequired, Active: t.Active,
		Errors: map[string]bool{}}
	if t.Kind != tag.Computed {
		f.ExpiryDays = strconv.Itoa(t.DefaultExpiryDays)
	}
	if r := t.Rule; r != nil {
		f.RuleKind = r.Kind
		num := func(n int) string {
			if n == 0 {
				return ""
			}
			return strconv.Itoa(n)
		}
		f.Months, f.Days, f.MinCount = num(r.Months), num(r.Days), num(r.MinCount)
		if r.MinAUM != 0 {
			f.MinAUM = strconv.FormatInt(r.MinAUM/100, 10)
		}
	}
	return f
}

// tagNotices are the ?done= markers after a change.
var tagNotices = map[string]string{"created": "tags.done.created", "saved": "tags.done.saved",
	"deactivated": "tags.done.deactivated", "activated": "tags.done.activated", "deleted": "tags.done.deleted"}

func (s *server) tagsPage(w http.ResponseWriter, r *http.Request) {
	s.showTags(w, r, http.StatusOK, tagsView{Notice: tagNotices[r.URL.Query().Get("done")],
		Form: tagEntryForm{Kind: tag.Manual, Color: "blue", ExpiryDays: "0", Errors: map[string]bool{}}})
}

func (s *server) showTags(w http.ResponseWriter, r *http.Request, status int, v tagsView) {
	var err error
	if v.Tags, err = s.Tags.Catalogue(r.Context(), true); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Colors = tag.Colors
	s.render(w, r, status, "tags", "layout.html", s.newView(w, r, "tags.title", "tags", v))
}

// entryFromForm reads the posted fields into f and the service's terms.
// A number that is not one is marked and left out.
func entryFromForm(r *http.Request, f *tagEntryForm) (days int, rule *tag.Rule) {
	f.Name, f.LabelEN = r.PostFormValue("name"), r.PostFormValue("label_en")
	f.Color, f.Description = r.PostFormValue("color"), r.PostFormValue("description")
	f.Polarity, f.ExpiryDays = r.PostFormValue("polarity"), strings.TrimSpace(r.PostFormValue("default_expiry_days"))
	f.ReasonRequired = r.PostFormValue("reason_required") != ""
	if f.Errors == nil {
		f.Errors = map[string]bool{}
	}
	atoi := func(field, s string) int {
		s = strings.TrimSpace(s)
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			f.Errors[field] = true
		}
		return n
	}
	if f.Kind != tag.Computed {
		if f.ExpiryDays == "" {
			f.ExpiryDays = "0"
		}
		days = atoi("default_expiry_days", f.ExpiryDays)
	}
	if f.Kind == tag.Computed && f.RuleKind != "" {
		f.MinAUM, f.Months = r.PostFormValue("min_aum"), r.PostFormValue("months")
		f.Days, f.MinCount = r.PostFormValue("days"), r.PostFormValue("min_count")
		rule = &tag.Rule{Kind: f.RuleKind, Months: atoi("rule.months", f.Months), Days: atoi("rule.days", f.Days),
			MinCount: atoi("rule.min_count", f.MinCount)}
		if f.RuleKind == tag.RuleAUMAtLeast {
			if fen, ok := c360Yuan(f.MinAUM); ok {
				rule.MinAUM = fen
			} else {
				f.Errors["rule.min_aum"] = true
			}
		}
	}
	return days, rule
}

// markTagErrors marks the fields the service refused.
func markTagErrors(err error, f *tagEntryForm) {
	for _, fe := range kehu.ErrorFields(err) {
		f.Errors[fe.Field] = true
	}
}

func (s *server) createTag(w http.ResponseWriter, r *http.Request) {
	f := tagEntryForm{Kind: r.PostFormValue("kind"), Errors: map[string]bool{}}
	if f.Kind != tag.Emotion {
		f.Kind = tag.Manual // computed tags come with the built-in rules
	}
	days, _ := entryFromForm(r, &f)
	if len(f.Errors) == 0 {
		_, err := s.Tags.Create(r.Context(), tag.NewTag{Name: f.Name, LabelEN: f.LabelEN, Kind: f.Kind, Color: f.Color,
			Description: f.Description, Polarity: f.Polarity, DefaultExpiryDays: days, ReasonRequired: f.ReasonRequired})
		switch kehu.ErrorCode(err) {
		case "":
			http.Redirect(w, r, "/tags?done=created", http.StatusSeeOther)
			return
		case kehu.EINVALID:
			markTagErrors(err, &f)
		case kehu.ECONFLICT:
			f.Errors["name"] = true
			s.showTags(w, r, http.StatusConflict, tagsView{Form: f, ErrorKey: "tags.error.name_taken"})
			return
		default:
			s.fail(w, r, err)
			return
		}
	}
	s.showTags(w, r, http.StatusUnprocessableEntity, tagsView{Form: f, ErrorKey: "tags.error.invalid"})
}

// tagEditView is an entry's edit page.
type tagEditView struct {
	Form     tagEntryForm
	ErrorKey string
	Colors   []string
}

func (s *server) loadTag(w http.ResponseWriter, r *http.Request) (tag.Tag, bool) {
	id, ok := pathInt(r, "id")
	if ok {
		all, err := s.Tags.Catalogue(r.Context(), true)
		if err != nil {
			s.fail(w, r, err)
			return tag.Tag{}, false
		}
		for _, t := range all {
			if t.ID == id {
				return t, true
			}
		}
	}
	s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such tag"))
	return tag.Tag{}, false
}

func (s *server) tagEditPage(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTag(w, r)
	if !ok {
		return
	}
	s.showTagEdit(w, r, http.StatusOK, tagEditView{Form: entryFormOf(t)})
}

func (s *server) showTagEdit(w http.ResponseWriter, r *http.Request, status int, v tagEditView) {
	v.Colors = tag.Colors
	page := s.newView(w, r, "tags.edit.title", "tags", v)
	page.TitleText = v.Form.Name
	s.render(w, r, status, "tag_edit", "layout.html", page)
}

func (s *server) saveTag(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTag(w, r)
	if !ok {
		return
	}
	f := entryFormOf(t)
	days, rule := entryFromForm(r, &f)
	if len(f.Errors) == 0 {
		u := tag.Update{Name: &f.Name, LabelEN: &f.LabelEN, Color: &f.Color, Description: &f.Description}
		if t.Kind == tag.Computed {
			u.Rule = rule
		} else {
			u.DefaultExpiryDays, u.ReasonRequired = &days, &f.ReasonRequired
			if t.Kind == tag.Emotion {
				u.Polarity = &f.Polarity
			}
		}
		_, err := s.Tags.Update(r.Context(), t.ID, u)
		switch kehu.ErrorCode(err) {
		case "":
			http.Redirect(w, r, "/tags?done=saved#tag-"+strconv.FormatInt(t.ID, 10), http.StatusSeeOther)
			return
		case kehu.EINVALID:
			markTagErrors(err, &f)
		case kehu.ECONFLICT:
			f.Errors["name"] = true
			s.showTagEdit(w, r, http.StatusConflict, tagEditView{Form: f, ErrorKey: "tags.error.name_taken"})
			return
		default:
			s.fail(w, r, err)
			return
		}
	}
	s.showTagEdit(w, r, http.StatusUnprocessableEntity, tagEditView{Form: f, ErrorKey: "tags.error.invalid"})
}

// setTagActive deactivates an entry (no longer offered; a computed tag
// leaves customers at their next recompute) or brings it back.
func (s *server) setTagActive(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTag(w, r)
	if !ok {
		return
	}
	on := r.PostFormValue("active") == "1"
	if _, err := s.Tags.Update(r.Context(), t.ID, tag.Update{Active: &on}); err != nil {
		s.fail(w, r, err)
		return
	}
	done := "deactivated"
	if on {
		done = "activated"
	}
	http.Redirect(w, r, "/tags?done="+done+"#tag-"+strconv.FormatInt(t.ID, 10), http.StatusSeeOther)
}

// deleteTag deletes an entry no customer carries; one in use is refused
// with the advice to deactivate it.
func (s *server) deleteTag(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTag(w, r)
	if !ok {
		return
	}
	err := s.Tags.Delete(r.Context(), t.ID)
	if kehu.ErrorCode(err) == kehu.ECONFLICT {
		s.showTags(w, r, http.StatusConflict, tagsView{ErrorKey: "tags.error.in_use",
			Form: tagEntryForm{Kind: tag.Manual, Color: "blue", ExpiryDays: "0", Errors: map[string]bool{}}})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/tags?done=deleted", http.StatusSeeOther)
}
