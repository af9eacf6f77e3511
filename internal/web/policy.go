package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/c360"
	"kehu/internal/interaction"
	"kehu/internal/kehu"
	"kehu/internal/policy"
	"kehu/internal/suitability"
)

// policyRoutes are 触达策略 (/contact-policy): the contact-policy settings
// (marketing.write edits them) and the "check a customer" tool
// (docs/POLICY.md).
func (s *server) policyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /contact-policy", s.signedIn(s.needPolicy(s.policyPage)))
	mux.HandleFunc("POST /contact-policy", s.signedIn(s.checkCSRF(s.needPolicy(s.savePolicy))))
	mux.HandleFunc("POST /contact-policy/check", s.signedIn(s.checkCSRF(s.needPolicy(s.checkContact))))
}

// needPolicy answers 404 when the server runs without the engines.
func (s *server) needPolicy(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Policy == nil || s.Suitability == nil {
			s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such page"))
			return
		}
		h(w, r)
	}
}

// policyView is the 触达策略 page.
type policyView struct {
	Settings policy.Settings
	Form     policyForm
	CanEdit  bool
	Check    checkForm
	Decision *policy.Decision
	Products []interaction.Product
	Channels []string
	Purposes []string
	Notice   string
	ErrorKey string
}

// policyForm is the settings form as typed; Errors maps a refused field to
// the catalogue key of its message.
type policyForm struct {
	MaxMarketing, PeriodDays, MaxPerChannelDay, QuietFrom, QuietTo, QuietPeriodDays, Validity string
	// BaseVersion is the version the form was filled from, sent back so a
	// save on top of someone else's newer version is refused (409).
	BaseVersion string
	Errors      map[string]string
}

func policyFormOf(st policy.Settings) policyForm {
	n := strconv.Itoa
	return policyForm{MaxMarketing: n(st.MaxMarketing), PeriodDays: n(st.PeriodDays), MaxPerChannelDay: n(st.MaxPerChannelDay),
		QuietFrom: st.QuietFrom, QuietTo: st.QuietTo, QuietPeriodDays: n(st.QuietPeriodDays),
		Validity: n(st.AssessmentValidityMonths), BaseVersion: strconv.FormatInt(st.Version, 10), Errors: map[string]string{}}
}

// checkForm is the check tool's question as typed.
type checkForm struct {
	CustomerID, Channel, Product, Purpose string
	Errors                                map[string]bool
}

func (s *server) policyPage(w http.ResponseWriter, r *http.Request) {
	v := policyView{Check: checkForm{Channel: "sms", Purpose: policy.PurposeMarketing, Errors: map[string]bool{}}}
	if r.URL.Query().Get("done") == "saved" {
		v.Notice = "policy.done.saved"
	}
	s.showPolicy(w, r, http.StatusOK, v)
}

// showPolicy fills the settings in force (and the form from them unless it
// holds refused input) and renders.
func (s *server) showPolicy(w http.ResponseWriter, r *http.Request, status int, v policyView) {
	ctx := r.Context()
	var err error
	if v.Settings, err = s.Policy.Settings(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	if v.Form.Errors == nil {
		v.Form = policyFormOf(v.Settings)
	}
	if v.Check.Errors == nil {
		v.Check.Errors = map[string]bool{}
	}
	if v.Products, err = s.Interactions.Products(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	v.CanEdit = access.Can(stateOf(r).actor.Role, access.MarketingWrite)
	v.Channels, v.Purposes = policy.Channels, policy.Purposes
	s.render(w, r, status, "contact_policy", "layout.html", s.newView(w, r, "policy.title", "contact-policy", v))
}

// savePolicy saves the settings form; refused fields are shown with a
// sentence each, the input kept.
func (s *server) savePolicy(w http.ResponseWriter, r *http.Request) {
	f := policyForm{MaxMarketing: r.PostFormValue("max_marketing"), PeriodDays: r.PostFormValue("period_days"),
		MaxPerChannelDay: r.PostFormValue("max_per_channel_day"), QuietFrom: r.PostFormValue("quiet_from"),
		QuietTo: r.PostFormValue("quiet_to"), QuietPeriodDays: r.PostFormValue("quiet_period_days"),
		Validity: r.PostFormValue("assessment_validity_months"), BaseVersion: r.PostFormValue("base_version"),
		Errors: map[string]string{}}
	num := func(field, s string) int {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			f.Errors[field] = "policy.error." + field
			return -1 // out of every range: the service names it too
		}
		return n
	}
	in := policy.Input{MaxMarketing: num("max_marketing", f.MaxMarketing), PeriodDays: num("period_days", f.PeriodDays),
		MaxPerChannelDay: num("max_per_channel_day", f.MaxPerChannelDay), QuietFrom: f.QuietFrom, QuietTo: f.QuietTo,
		QuietPeriodDays:          num("quiet_period_days", f.QuietPeriodDays),
		AssessmentValidityMonths: num("assessment_validity_months", f.Validity)}
	if v := strings.TrimSpace(f.BaseVersion); v != "" {
		base, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			base = -1 // the service names base_version
		}
		in.BaseVersion = &base
	}
	_, err := s.Policy.UpdateSettings(r.Context(), in)
	if kehu.ErrorCode(err) == kehu.ECONFLICT {
		// Someone saved a newer version since this form was filled: the
		// typed values stay, the page shows the version in force, and the
		// next save is on top of it, knowingly.
		cur, serr := s.Policy.Settings(r.Context())
		if serr != nil {
			s.fail(w, r, serr)
			return
		}
		f.BaseVersion = strconv.FormatInt(cur.Version, 10)
		s.showPolicy(w, r, http.StatusConflict, policyView{Form: f, ErrorKey: "policy.error.stale",
			Check: checkForm{Channel: "sms", Purpose: policy.PurposeMarketing}})
		return
	}
	if kehu.ErrorCode(err) == kehu.EINVALID {
		for _, fe := range kehu.ErrorFields(err) {
			f.Errors[fe.Field] = "policy.error." + fe.Field
		}
		s.showPolicy(w, r, http.StatusUnprocessableEntity, policyView{Form: f, ErrorKey: "policy.error.settings",
			Check: checkForm{Channel: "sms", Purpose: policy.PurposeMarketing}})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/contact-policy?done=saved", http.StatusSeeOther)
}

// checkContact runs the check tool and shows the decision with its reasons
// in the page's language. An unknown or out-of-scope customer is a message
// on the page, not a 404: the id was typed.
func (s *server) checkContact(w http.ResponseWriter, r *http.Request) {
	c := checkForm{CustomerID: strings.TrimSpace(r.PostFormValue("customer_id")), Channel: r.PostFormValue("channel"),
		Product: r.PostFormValue("product"), Purpose: r.PostFormValue("purpose"), Errors: map[string]bool{}}
	v := policyView{Check: c}
	id, err := strconv.ParseInt(c.CustomerID, 10, 64)
	if err != nil || id <= 0 {
		c.Errors["customer_id"] = true
		v.ErrorKey = "policy.check.error.customer_id"
		s.showPolicy(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	d, err := s.Policy.Check(r.Context(), policy.CheckRequest{CustomerID: id, Channel: c.Channel, Product: c.Product,
		Purpose: c.Purpose})
	switch kehu.ErrorCode(err) {
	case "":
		v.Decision = &d
		s.showPolicy(w, r, http.StatusOK, v)
	case kehu.EINVALID:
		for _, fe := range kehu.ErrorFields(err) {
			c.Errors[fe.Field] = true
		}
		v.ErrorKey = "policy.check.error.invalid"
		s.showPolicy(w, r, http.StatusUnprocessableEntity, v)
	case kehu.ENOTFOUND:
		c.Errors["customer_id"] = true
		v.ErrorKey = "policy.check.error.not_found"
		s.showPolicy(w, r, http.StatusNotFound, v)
	default:
		s.fail(w, r, err)
	}
}

// suitabilityPanel is the 适当性 panel of the customer page: the shelf's
// governed products against the assessment the 360 already read (and
// recorded), so the panel adds no audit record. nil when not wired.
func (s *server) suitabilityPanel(ctx context.Context, risk c360.Risk) (*suitability.Report, error) {
	if s.Suitability == nil {
		return nil, nil
	}
	rep, err := s.Suitability.Shelf(ctx, suitability.Assessment{Level: risk.Level, AssessedAt: risk.AssessedAt})
	if err != nil {
		return nil, err
	}
	return &rep, nil
}
