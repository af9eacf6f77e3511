package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/c360"
	"kehu/internal/contact"
	"kehu/internal/customer"
	"kehu/internal/interaction"
	"kehu/internal/kehu"
	"kehu/internal/org"
	"kehu/internal/suitability"
	"kehu/internal/tag"
)

// c360Routes are the customer 360's forms and fragments; the page itself is
// GET /customers/{id}.
func (s *server) c360Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /customers/{id}/transactions", s.signedIn(s.customerTransactions))
	mux.HandleFunc("POST /customers/{id}/interactions", s.signedIn(s.checkCSRF(s.recordInteraction)))
	mux.HandleFunc("POST /customers/{id}/tags", s.signedIn(s.checkCSRF(s.tagCustomer)))
	mux.HandleFunc("POST /customers/{id}/tags/{tag_id}/remove", s.signedIn(s.checkCSRF(s.untagCustomer)))
	mux.HandleFunc("POST /customers/{id}/preferences", s.signedIn(s.checkCSRF(s.setPreferences)))
	s.tagAdminRoutes(mux)
}

// customerView is the customer page: the 360 and what the page offers on it.
type customerView struct {
	c360.View
	// Customer is the profile under the name the owners and privacy panels
	// (and the unmask links) use.
	Customer customer.Customer
	Org      org.Org
	// Masked marks the fields shown masked; Unmask those the user may ask
	// to see in clear (the 显示 button).
	Masked, Unmask map[string]bool
	// UnmaskAccounts offers 显示 next to each (masked) account number.
	UnmaskAccounts bool
	Filter         txnForm
	TxnView        txnView
	AccountOptions []accountOption
	RiskExpires    kehu.Date
	Trend          trendChart
	Graph          relGraph
	Products       []interaction.Product
	Quiet          map[int64]interaction.Quiet
	QuietDays      int
	Assignable     []tag.Tag // manual and emotion tags that may be put on
	// Form state after a refused interaction or tag (422), and the notice
	// after a recorded one.
	InteractionForm interactionForm
	TagForm         tagForm
	PrefForm        prefForm
	// EditPrefs offers the contact-preference form (customer.write).
	EditPrefs   bool
	ContactDays []string
	Languages   []string
	Calendars   []string
	Notice      string
	// Suitability is the 适当性 panel (nil when the engine is not wired).
	Suitability *suitability.Report
	Channels    []string
	Purposes    []string
	Responses   []string
}

// accountOption names an account in the filter by product and the last four
// digits, so the full (masked) number appears only in the accounts table.
type accountOption struct {
	ID                 int64
	Name, NameEN, Tail string
}

// txnForm is the transaction filter as typed, for the form and the pager.
type txnForm struct {
	From, To, Kind, Channel, Min, Max, Account string
	NextURL                                    string
	Errors                                     map[string]bool
}

type interactionForm struct {
	Channel, Purpose, Response, Note string
	Checked                          map[string]bool // product codes ticked
	Errors                           map[string]bool
}

type tagForm struct {
	TagID, Reason, ExpiresOn string
	Errors                   map[string]bool
}

// prefForm is the contact-preference form: the stored preferences, or what
// was typed when they were refused.
type prefForm struct {
	Channel, From, To, Days, Language, Note string
	Calendar                                string
	DoNotCall                               bool
	UpdatedAt                               *time.Time
	Errors                                  map[string]bool
}

func prefFormOf(p contact.Preferences) prefForm {
	return prefForm{Channel: p.PreferredChannel, From: p.ContactFrom, To: p.ContactTo, Days: p.ContactDays,
		Language: p.Language, Note: p.Note, DoNotCall: p.DoNotCall, UpdatedAt: p.UpdatedAt, Errors: map[string]bool{},
		Calendar: p.BirthdayCalendar}
}

// customerPage shows one customer's 360. Unknown and out-of-scope ids both
// render the same 404 page, so the page cannot be used to probe for
// customers.
func (s *server) customerPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such customer"))
		return
	}
	s.showCustomer(w, r, id, http.StatusOK, func(*customerView) {})
}

// showCustomer builds and renders the page; adjust sets form state.
func (s *server) showCustomer(w http.ResponseWriter, r *http.Request, id int64, status int, adjust func(*customerView)) {
	f, form, err := txnFilterOf(r.URL.Query())
	if err != nil {
		// A bad filter shows the page unfiltered with the fields marked.
		f = c360.TxnFilter{}
	}
	v, err := s.C360.View(r.Context(), id, f)
	if kehu.ErrorCode(err) == kehu.ENOTFOUND && s.Entitlements != nil {
		s.customerNotFound(w, r, id)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cv, err := s.customerViewOf(r, v, form)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cv.Notice = c360Notices[r.URL.Query().Get("done")]
	adjust(&cv)
	page := s.newView(w, r, "customer.profile", "customers", cv)
	page.TitleText = v.Profile.Name
	s.render(w, r, status, "customer", "layout.html", page)
}

// c360Notices are the ?done= markers after a form without JavaScript.
var c360Notices = map[string]string{"interaction": "c360.interaction.done", "tagged": "c360.tags.done.added",
	"untagged": "c360.tags.done.removed", "preferences": "c360.pref.done"}

func (s *server) customerViewOf(r *http.Request, v c360.View, form txnForm) (customerView, error) {
	ctx := r.Context()
	lang := stateOf(r).lang
	cv := customerView{View: v, Customer: v.Profile, Masked: map[string]bool{}, Unmask: map[string]bool{},
		Filter: form, Channels: interaction.Channels, Purposes: interaction.Purposes, Responses: interaction.Responses,
		Quiet: map[int64]interaction.Quiet{}, QuietDays: s.Interactions.QuietDays(),
		PrefForm: prefFormOf(v.Preferences.Preferences)}
	cv.setPrefChoices(ctx)
	// customer.unmask, or a c2_fields grant for this customer, offers 显示.
	canUnmask, err := s.Customers.MayUnmask(ctx, v.Profile.ID)
	if err != nil {
		return cv, err
	}
	for _, f := range v.Profile.Masked {
		cv.Masked[f] = true
		cv.Unmask[f] = canUnmask
	}
	cv.UnmaskAccounts = canUnmask && v.AccountNoMasked
	if cv.Org, err = s.Orgs.Get(ctx, v.Profile.OrgID); err != nil {
		return cv, err
	}
	if cv.Products, err = s.Interactions.Products(ctx); err != nil {
		return cv, err
	}
	for _, q := range v.QuietProducts {
		cv.Quiet[q.Product.ID] = q
	}
	tags, err := s.Tags.Catalogue(ctx, false)
	if err != nil {
		return cv, err
	}
	for _, t := range tags {
		if t.Kind != tag.Computed {
			cv.Assignable = append(cv.Assignable, t)
		}
	}
	if v.Risk.ExpiresOn != nil {
		cv.RiskExpires = *v.Risk.ExpiresOn
	}
	if cv.Suitability, err = s.suitabilityPanel(ctx, v.Risk); err != nil {
		return cv, err
	}
	for _, g := range v.Accounts {
		for _, a := range g.Accounts {
			tail := a.AccountNo
			if len(tail) > 4 {
				tail = tail[len(tail)-4:]
			}
			cv.AccountOptions = append(cv.AccountOptions, accountOption{ID: a.ID, Name: a.ProductName,
				NameEN: a.ProductNameEN, Tail: tail})
		}
	}
	cv.TxnView = txnView{CustomerID: v.Profile.ID, Page: v.Transactions, Filter: form}
	cv.TxnView.Filter.NextURL = nextTxnURL(v.Profile.ID, form, v.Transactions.NextCursor)
	cv.Trend = newTrendChart(v.AUM.Trend)
	cv.Graph = newRelGraph(v.Profile, v.Relationships, func(code string) string {
		return s.i18n.T(lang, "c360.relation."+code)
	})
	return cv, nil
}

// txnFilterOf reads the transaction filter of the page or the fragment. A
// bad value is marked on the form and the filter is not applied.
func txnFilterOf(q url.Values) (c360.TxnFilter, txnForm, error) {
	form := txnForm{From: q.Get("from"), To: q.Get("to"), Kind: q.Get("kind"), Channel: q.Get("channel"),
		Min: q.Get("min"), Max: q.Get("max"), Account: q.Get("account"), Errors: map[string]bool{}}
	f := c360.TxnFilter{Kind: form.Kind, Channel: form.Channel, Cursor: q.Get("cursor"), Limit: c360.DefaultTxnLimit}
	date := func(name, s string) *kehu.Date {
		if s == "" {
			return nil
		}
		d, err := kehu.ParseDate(s)
		if err != nil {
			form.Errors[name] = true
			return nil
		}
		return &d
	}
	// Amounts are typed in yuan (2 decimals at most) and filtered in fen.
	yuan := func(name, s string) *int64 {
		if s == "" {
			return nil
		}
		fen, ok := c360Yuan(s)
		if !ok {
			form.Errors[name] = true
			return nil
		}
		return &fen
	}
	f.From, f.To = date("from", form.From), date("to", form.To)
	f.MinAmount, f.MaxAmount = yuan("min", form.Min), yuan("max", form.Max)
	if form.Account != "" {
		n, err := strconv.ParseInt(form.Account, 10, 64)
		if err != nil || n < 1 {
			form.Errors["account"] = true
		}
		f.AccountID = n
	}
	if err := f.Validate(); err != nil {
		short := map[string]string{"min_amount": "min", "max_amount": "max"}
		for _, fe := range kehu.ErrorFields(err) {
			if n, ok := short[fe.Field]; ok {
				form.Errors[n] = true
			} else {
				form.Errors[fe.Field] = true
			}
		}
		return f, form, err
	}
	if len(form.Errors) > 0 {
		return f, form, kehu.Errorf(kehu.EINVALID, "invalid filter")
	}
	return f, form, nil
}

// c360Yuan reads "1234.5" or "1,234.50" as fen.
func c360Yuan(s string) (int64, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" {
		return 0, false
	}
	y, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || y < 0 || y > 1e13 {
		return 0, false
	}
	f := int64(0)
	if frac != "" {
		n, err := strconv.ParseInt(frac+strings.Repeat("0", 2-len(frac)), 10, 64)
		if err != nil {
			return 0, false
		}
		f = n
	}
	return y*100 + f, true
}

// txnQuery is the form's query string without the cursor.
func (f txnForm) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"from": f.From, "to": f.To, "kind": f.Kind, "channel": f.Channel,
		"min": f.Min, "max": f.Max, "account": f.Account} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// txnView is the transaction tab's results fragment.
type txnView struct {
	CustomerID     int64
	Page           c360.TxnPage
	Filter         txnForm
	UnmaskAccounts bool
}

// customerTransactions answers the transaction tab: the results fragment to
// htmx (filter and 下一页), else the customer page filtered. One customer.read.
func (s *server) customerTransactions(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if r.Header.Get("HX-Request") != "true" {
		http.Redirect(w, r, "/customers/"+strconv.FormatInt(id, 10)+"?"+r.URL.RawQuery+"#transactions", http.StatusSeeOther)
		return
	}
	f, form, err := txnFilterOf(r.URL.Query())
	status := http.StatusOK
	if err != nil {
		f, status = c360.TxnFilter{Limit: c360.DefaultTxnLimit}, http.StatusUnprocessableEntity
	}
	p, err := s.C360.Transactions(r.Context(), id, f)
	if err != nil {
		// Not fragmentFail's 204: the user asked for this, and an unknown
		// or out-of-scope id is the same 404 page as everywhere.
		s.fail(w, r, err)
		return
	}
	form.NextURL = nextTxnURL(id, form, p.NextCursor)
	s.renderPanel(w, r, status, "customer", "c360_txn_fragment", "customer.transactions",
		txnView{CustomerID: id, Page: p, Filter: form})
}

func nextTxnURL(id int64, form txnForm, cursor string) string {
	if cursor == "" {
		return ""
	}
	q := form.query()
	q.Set("cursor", cursor)
	return "/customers/" + strconv.FormatInt(id, 10) + "/transactions?" + q.Encode()
}

// interactionsView is the 互动 tab's fragment after a recorded contact.
type interactionsView struct {
	customerView
}

// recordInteraction records a contact. htmx gets the fresh 互动 panel; without
// JavaScript a 303 back to the tab. A refused form comes back with the
// fields marked (422).
func (s *server) recordInteraction(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	form := interactionForm{Channel: r.PostFormValue("channel"), Purpose: r.PostFormValue("purpose"),
		Response: r.PostFormValue("response"), Note: r.PostFormValue("note"), Checked: map[string]bool{},
		Errors: map[string]bool{}}
	products := r.PostForm["products"]
	for _, p := range products {
		form.Checked[p] = true
	}
	_, err := s.Interactions.Record(r.Context(), id, interaction.New{Channel: form.Channel, Purpose: form.Purpose,
		Products: products, Response: form.Response, Note: form.Note})
	if kehu.ErrorCode(err) == kehu.EINVALID {
		for _, fe := range kehu.ErrorFields(err) {
			form.Errors[strings.SplitN(fe.Field, "[", 2)[0]] = true
		}
		s.afterC360Post(w, r, id, http.StatusUnprocessableEntity, "c360_interactions", func(cv *customerView) {
			cv.InteractionForm = form
		})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterC360Post(w, r, id, http.StatusOK, "c360_interactions", func(cv *customerView) {
		cv.Notice = "c360.interaction.done"
	})
}

// tagCustomer puts a manual or emotion tag on the customer.
func (s *server) tagCustomer(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	form := tagForm{TagID: r.PostFormValue("tag_id"), Reason: r.PostFormValue("reason"),
		ExpiresOn: r.PostFormValue("expires_on"), Errors: map[string]bool{}}
	in := tag.Assign{Reason: form.Reason}
	in.TagID, _ = strconv.ParseInt(form.TagID, 10, 64)
	var err error
	if form.ExpiresOn != "" {
		d, perr := kehu.ParseDate(form.ExpiresOn)
		if perr != nil {
			var v kehu.Validation
			v.Add("expires_on", "must be a date")
			err = v.Err()
		} else {
			in.ExpiresOn = &d
		}
	}
	if err == nil {
		_, err = s.Tags.Add(r.Context(), id, in)
	}
	if kehu.ErrorCode(err) == kehu.EINVALID {
		for _, fe := range kehu.ErrorFields(err) {
			form.Errors[fe.Field] = true
		}
		s.afterC360Post(w, r, id, http.StatusUnprocessableEntity, "c360_tags", func(cv *customerView) { cv.TagForm = form })
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterC360Post(w, r, id, http.StatusOK, "c360_tags", func(cv *customerView) { cv.Notice = "c360.tags.done.added" })
}

// untagCustomer takes a tag off.
func (s *server) untagCustomer(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	tagID, ok2 := pathInt(r, "tag_id")
	if !ok || !ok2 {
		s.notFound(w, r)
		return
	}
	if err := s.Tags.Remove(r.Context(), id, tagID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterC360Post(w, r, id, http.StatusOK, "c360_tags", func(cv *customerView) { cv.Notice = "c360.tags.done.removed" })
}

// afterC360Post answers a 360 form. Without JavaScript a success redirects
// to the tab (303) and a refusal renders the whole page with the form
// (the page is a read of the customer like any other). With htmx the
// panel is rendered from what the write already checked and recorded: the
// service checked scope, so the panel reads the customer's interactions or
// tags without a second audit record.
func (s *server) afterC360Post(w http.ResponseWriter, r *http.Request, id int64, status int, panel string, adjust func(*customerView)) {
	anchor := map[string]string{"c360_interactions": "interactions", "c360_tags": "tags",
		"c360_prefs": "preferences"}[panel]
	if r.Header.Get("HX-Request") != "true" {
		if status == http.StatusOK {
			done := map[string]string{"c360_interactions": "interaction", "c360_tags": "tagged",
				"c360_prefs": "preferences"}[panel]
			if strings.HasSuffix(r.URL.Path, "/remove") {
				done = "untagged"
			}
			http.Redirect(w, r, "/customers/"+strconv.FormatInt(id, 10)+"?done="+done+"#"+anchor, http.StatusSeeOther)
			return
		}
		s.showCustomer(w, r, id, status, adjust)
		return
	}
	cv, err := s.panelView(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	adjust(&cv)
	// The section stays in the page (it is its tab's :target); htmx swaps
	// its content.
	s.renderPanel(w, r, status, "customer", panel+"_body", "customer.profile", cv)
}

// panelView is what the 互动 and 标签 panels show, read without an audit
// record: it runs only after a write on the customer that checked scope and
// recorded itself.
func (s *server) panelView(r *http.Request, id int64) (customerView, error) {
	ctx := r.Context()
	cv := customerView{Channels: interaction.Channels, Purposes: interaction.Purposes, Responses: interaction.Responses,
		Quiet: map[int64]interaction.Quiet{}, QuietDays: s.Interactions.QuietDays()}
	cv.Profile.ID, cv.Customer.ID = id, id
	cv.setPrefChoices(ctx)
	p, err := s.Interactions.Recent(ctx, id, kehu.Cursor{}, c360.RecentInteractions)
	if err != nil {
		return cv, err
	}
	cv.Interactions = p.Items
	quiet, err := s.Interactions.QuietFor(ctx, []int64{id})
	if err != nil {
		return cv, err
	}
	cv.QuietProducts = quiet[id]
	for _, q := range cv.QuietProducts {
		cv.Quiet[q.Product.ID] = q
	}
	if cv.Products, err = s.Interactions.Products(ctx); err != nil {
		return cv, err
	}
	if cv.Tags, err = s.Tags.Of(ctx, id); err != nil {
		return cv, err
	}
	all, err := s.Tags.Catalogue(ctx, false)
	if err != nil {
		return cv, err
	}
	for _, t := range all {
		if t.Kind != tag.Computed {
			cv.Assignable = append(cv.Assignable, t)
		}
	}
	return cv, nil
}

// setPrefChoices fills the contact-preference form's choices and whether the
// user may change them.
func (cv *customerView) setPrefChoices(ctx context.Context) {
	a, _ := kehu.ActorFrom(ctx)
	cv.EditPrefs = access.Can(a.Role, access.CustomerWrite)
	cv.ContactDays, cv.Languages, cv.Calendars = contact.Days, contact.Languages, []string{contact.Solar, contact.Lunar}
	if cv.Channels == nil {
		cv.Channels = interaction.Channels
	}
}

// setPreferences saves the 偏好与授权 tab's contact-preference form
// (c360.Service.SetPreferences: customer.write, the write scope, one
// customer.preferences record). htmx gets the fresh form; without
// JavaScript a 303 back to the tab; a refused form comes back with the
// fields marked (422).
func (s *server) setPreferences(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	in := contact.Input{PreferredChannel: r.PostFormValue("preferred_channel"), ContactFrom: r.PostFormValue("contact_from"),
		ContactTo: r.PostFormValue("contact_to"), ContactDays: r.PostFormValue("contact_days"),
		Language: r.PostFormValue("language"), DoNotCall: r.PostFormValue("do_not_call") != "", Note: r.PostFormValue("note"),
		BirthdayCalendar: r.PostFormValue("birthday_calendar")}
	p, err := s.C360.SetPreferences(r.Context(), id, in)
	if kehu.ErrorCode(err) == kehu.EINVALID {
		form := prefForm{Channel: in.PreferredChannel, From: in.ContactFrom, To: in.ContactTo, Days: in.ContactDays,
			Language: in.Language, Note: in.Note, DoNotCall: in.DoNotCall, Errors: map[string]bool{},
			Calendar: in.BirthdayCalendar}
		for _, fe := range kehu.ErrorFields(err) {
			form.Errors[fe.Field] = true
		}
		s.afterC360Post(w, r, id, http.StatusUnprocessableEntity, "c360_prefs", func(cv *customerView) {
			cv.PrefForm = form
		})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterC360Post(w, r, id, http.StatusOK, "c360_prefs", func(cv *customerView) {
		cv.Preferences = p
		cv.PrefForm = prefFormOf(p.Preferences)
		cv.Notice = "c360.pref.done"
	})
}
