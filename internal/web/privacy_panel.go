package web

import (
	"errors"
	"net/http"
	"strconv"

	"kehu/internal/access"
	"kehu/internal/kehu"
	"kehu/internal/privacy"
)

// privacyPanel is the customer's 个人信息 panel: marketing consents per
// channel with withdraw (and, for customer.write, grant) buttons, the form
// filing a data-subject request, and for privacy managers the customer's
// requests. The customer page loads it separately (htmx on load, a link
// without JavaScript) because reading consents is its own audited read
// (consent.read) and the customer page must stay one customer.read.
type privacyPanel struct {
	CustomerID int64
	Consents   []privacy.Consent
	Staff      map[int64]string
	CanGrant   bool
	CanManage  bool
	Requests   []privacy.Request
	Kinds      []string
	Sources    []string
	Notice     string // catalogue key
	FiledID    int64
	ErrorKey   string
	Fields     []string
}

// consentSources are the ways a customer tells the bank that staff may
// record; privacy_request and erasure are set by the workflow itself.
var consentSources = []string{"counter", "phone", "online", "written"}

// panelNotices are the ?done= markers a redirect back to the panel may carry.
var panelNotices = map[string]string{"withdrawn": "privacy.consent.done.withdrawn",
	"granted": "privacy.consent.done.granted", "filed": "privacy.file.done"}

// privacyPanelPage answers the panel: the fragment for htmx, otherwise a
// page of its own.
func (s *server) privacyPanelPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	p, err := s.loadPanel(r, id)
	if err != nil {
		s.fragmentFail(w, r, err)
		return
	}
	p.Notice = panelNotices[r.URL.Query().Get("done")]
	if n, err := strconv.ParseInt(r.URL.Query().Get("filed"), 10, 64); err == nil && n > 0 && p.CanManage {
		p.FiledID = n
	}
	s.renderPrivacyPanel(w, r, http.StatusOK, p)
}

// loadPanel reads the consents (recorded by the service) and, for a privacy
// manager, the customer's requests.
func (s *server) loadPanel(r *http.Request, id int64) (privacyPanel, error) {
	role := stateOf(r).actor.Role
	p := privacyPanel{CustomerID: id, CanGrant: access.Can(role, access.CustomerWrite),
		CanManage: access.Can(role, access.PrivacyManage), Kinds: privacy.Kinds, Sources: consentSources}
	var err error
	if p.Consents, err = s.Privacy.Consents(r.Context(), id); err != nil {
		return p, err
	}
	var staff []int64
	for _, c := range p.Consents {
		if c.ChangedBy != nil {
			staff = append(staff, *c.ChangedBy)
		}
	}
	if p.Staff, err = s.Accounts.StaffNames(r.Context(), staff); err != nil {
		return p, err
	}
	if p.CanManage {
		page, err := s.Privacy.Requests(r.Context(), privacy.RequestFilter{CustomerID: id, Limit: 10})
		if err != nil {
			return p, err
		}
		p.Requests = page.Items
	}
	return p, nil
}

// renderPrivacyPanel writes the panel fragment to htmx, else the panel page.
func (s *server) renderPrivacyPanel(w http.ResponseWriter, r *http.Request, status int, p privacyPanel) {
	s.renderPanel(w, r, status, "privacy_panel", "privacy_panel", "privacy.panel.title", p)
}

// changeConsent withdraws or grants one channel at once (the buttons name
// the channel: withdraw=sms or grant=sms), with how the customer said so.
func (s *server) changeConsent(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	ch, granted, done := r.PostFormValue("withdraw"), false, "withdrawn"
	if g := r.PostFormValue("grant"); g != "" {
		ch, granted, done = g, true, "granted"
	}
	_, err := s.Privacy.SetConsents(r.Context(), id, []privacy.ConsentChange{{Channel: ch, Granted: granted}},
		r.PostFormValue("source"))
	s.afterPanelPost(w, r, id, err, done, "")
}

// filePrivacyRequest files a data-subject request for the customer; anyone
// who may see the customer receives one (the counter, the call centre).
func (s *server) filePrivacyRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	req, err := s.Privacy.File(r.Context(), privacy.NewRequest{Kind: r.PostFormValue("kind"), CustomerID: id,
		Notes: r.PostFormValue("notes")})
	s.afterPanelPost(w, r, id, err, "filed", strconv.FormatInt(req.ID, 10))
}

// afterPanelPost answers a panel form: htmx gets the fresh panel (so a
// withdrawal shows at once), a plain form post a redirect to the panel
// page; a refused form is the panel again with the reason (422).
func (s *server) afterPanelPost(w http.ResponseWriter, r *http.Request, id int64, err error, done, filed string) {
	if err != nil && kehu.ErrorCode(err) != kehu.EINVALID {
		s.fail(w, r, err)
		return
	}
	if err == nil && r.Header.Get("HX-Request") != "true" {
		to := "/customers/" + strconv.FormatInt(id, 10) + "/privacy?done=" + done
		if filed != "" {
			to += "&filed=" + filed
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	p, lerr := s.loadPanel(r, id)
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	status := http.StatusOK
	if err != nil {
		status, p.ErrorKey = http.StatusUnprocessableEntity, "privacy.error.invalid"
		var ke *kehu.Error
		if errors.As(err, &ke) {
			for _, f := range ke.Fields {
				p.Fields = append(p.Fields, f.Field)
			}
		}
	} else {
		p.Notice = panelNotices[done]
		if n, _ := strconv.ParseInt(filed, 10, 64); p.CanManage {
			p.FiledID = n
		}
	}
	s.renderPrivacyPanel(w, r, status, p)
}
