package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kehu/internal/c360"
	"kehu/internal/contact"
	"kehu/internal/interaction"
	"kehu/internal/kehu"
	"kehu/internal/tag"
)

// customer360JSON is the body of GET /api/v1/customers/{id}/360. The profile
// is exactly what GET /api/v1/customers/{id} answers (same masking); the
// other parts are the c360 types, whose JSON form is documented in
// openapi/c360.json.
type customer360JSON struct {
	Profile       customerJSON              `json:"profile"`
	Level         c360.Level                `json:"level"`
	AUM           c360.AUM                  `json:"aum"`
	Accounts      []c360.AccountGroup       `json:"accounts"`
	Holdings      []c360.HoldingGroup       `json:"holdings"`
	Transactions  txnPageJSON               `json:"transactions"`
	Relationships []c360.Relationship       `json:"relationships"`
	Events        []c360.Event              `json:"events"`
	Interactions  []interaction.Interaction `json:"interactions"`
	QuietProducts []interaction.Quiet       `json:"quiet_products"`
	Tags          []tag.CustomerTag         `json:"tags"`
	Preferences   c360.Preferences          `json:"preferences"`
	Risk          c360.Risk                 `json:"risk"`
	Owners        c360.Owners               `json:"owners"`
	KPIs          c360.KPIs                 `json:"kpis"`
	// Merged is null unless the customer is a merged tombstone.
	Merged *c360.Merged `json:"merged"`
}

// txnPageJSON is a page of transactions; next_cursor is null on the last.
type txnPageJSON struct {
	Items      any     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func txnPageView(p c360.TxnPage) txnPageJSON {
	out := txnPageJSON{Items: p.Items}
	if p.NextCursor != "" {
		out.NextCursor = &p.NextCursor
	}
	return out
}

func (a *api) customer360(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f, err := txnFilter(r.URL.Query())
	if err != nil {
		return err
	}
	v, err := a.d.C360.View(r.Context(), id, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, customer360JSON{Profile: customerView(v.Profile), Level: v.Level, AUM: v.AUM,
		Accounts: v.Accounts, Holdings: v.Holdings, Transactions: txnPageView(v.Transactions),
		Relationships: v.Relationships, Events: v.Events, Interactions: v.Interactions,
		QuietProducts: v.QuietProducts, Tags: v.Tags, Preferences: v.Preferences, Risk: v.Risk, Owners: v.Owners,
		KPIs: v.KPIs, Merged: v.Merged})
	return nil
}

func (a *api) customerTransactions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f, err := txnFilter(r.URL.Query())
	if err != nil {
		return err
	}
	p, err := a.d.C360.Transactions(r.Context(), id, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, txnPageView(p))
	return nil
}

// txnFilter reads the transaction filter's query parameters; a value of the
// wrong form is a 400 naming it (ranges that contradict each other are the
// service's 422).
func txnFilter(q url.Values) (c360.TxnFilter, error) {
	var f c360.TxnFilter
	var issues []FieldIssue
	date := func(name string) *kehu.Date {
		s := q.Get(name)
		if s == "" {
			return nil
		}
		d, err := kehu.ParseDate(s)
		if err != nil {
			issues = append(issues, FieldIssue{name, "must be a date YYYY-MM-DD"})
			return nil
		}
		return &d
	}
	integer := func(name string) *int64 {
		s := q.Get(name)
		if s == "" {
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			issues = append(issues, FieldIssue{name, "must be an integer"})
			return nil
		}
		return &n
	}
	f.From, f.To = date("from"), date("to")
	f.Kind, f.Channel = q.Get("kind"), q.Get("channel")
	f.MinAmount, f.MaxAmount = integer("min_amount"), integer("max_amount")
	if n := integer("account"); n != nil {
		if *n < 1 {
			issues = append(issues, FieldIssue{"account", "must be a positive integer"})
		}
		f.AccountID = *n
	}
	if n := integer("limit"); n != nil {
		if *n < 1 {
			issues = append(issues, FieldIssue{"limit", "must be a positive integer"})
		}
		f.Limit = kehu.ClampLimit(int(min(*n, kehu.MaxPageSize)))
	}
	f.Cursor = q.Get("cursor")
	if len(issues) > 0 {
		return c360.TxnFilter{}, badBody("a query parameter is invalid", issues...)
	}
	return f, nil
}

// interactionPage is the body of GET /api/v1/customers/{id}/interactions:
// newest first, with the products in their quiet period.
type interactionPage struct {
	Items         []interaction.Interaction `json:"items"`
	NextCursor    *string                   `json:"next_cursor"`
	QuietProducts []interaction.Quiet       `json:"quiet_products"`
	QuietDays     int                       `json:"quiet_days"`
}

func (a *api) listInteractions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	limit, after, issues := pageParams(r, nil)
	if len(issues) > 0 {
		return badBody("a query parameter is invalid", issues...)
	}
	p, err := a.d.Interactions.List(r.Context(), id, after, limit)
	if err != nil {
		return err
	}
	// The list checked scope and recorded the read; the quiet products are
	// part of what it shows.
	quiet, err := a.d.Interactions.QuietFor(r.Context(), []int64{id})
	if err != nil {
		return err
	}
	out := interactionPage{Items: p.Items, QuietProducts: quiet[id], QuietDays: a.d.Interactions.QuietDays()}
	if out.QuietProducts == nil {
		out.QuietProducts = []interaction.Quiet{}
	}
	if next := p.NextCursor.Encode(); next != "" {
		out.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// interactionCreate is the body of POST /api/v1/customers/{id}/interactions.
// Products are product codes (strings) or ids (integers).
type interactionCreate struct {
	Channel  string            `json:"channel"`
	Purpose  string            `json:"purpose"`
	Products []json.RawMessage `json:"products"`
	Response string            `json:"response"`
	Note     string            `json:"note"`
}

func (a *api) recordInteraction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in interactionCreate
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	n := interaction.New{Channel: in.Channel, Purpose: in.Purpose, Response: in.Response, Note: in.Note}
	for i, raw := range in.Products {
		ref, ok := productRef(raw)
		if !ok {
			return badBody("products must be product codes or ids",
				FieldIssue{"products[" + strconv.Itoa(i) + "]", "must be a product code (string) or id (integer)"})
		}
		n.Products = append(n.Products, ref)
	}
	it, err := a.d.Interactions.Record(r.Context(), id, n)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/customers/"+strconv.FormatInt(id, 10)+"/interactions")
	writeJSON(w, http.StatusCreated, it)
	return nil
}

// productRef accepts a JSON string or a positive integer.
func productRef(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var n json.Number
	if err := dec.Decode(&n); err != nil {
		return "", false
	}
	id, err := n.Int64()
	if err != nil || id < 1 {
		return "", false
	}
	return strconv.FormatInt(id, 10), true
}

// customerTagCreate is the body of POST /api/v1/customers/{id}/tags.
type customerTagCreate struct {
	TagID     int64     `json:"tag_id"`
	Reason    string    `json:"reason"`
	ExpiresOn *jsonDate `json:"expires_on"`
}

func (a *api) tagCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in customerTagCreate
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	as := tag.Assign{TagID: in.TagID, Reason: in.Reason}
	if in.ExpiresOn != nil {
		d := kehu.Date(*in.ExpiresOn)
		as.ExpiresOn = &d
	}
	ct, err := a.d.Tags.Add(r.Context(), id, as)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ct)
	return nil
}

func (a *api) untagCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	tagID, err := strconv.ParseInt(r.PathValue("tag_id"), 10, 64)
	if err != nil || tagID < 1 {
		return newProblem(http.StatusNotFound, ProblemNotFound, "no such tag")
	}
	if err := a.d.Tags.Remove(r.Context(), id, tagID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tagList is the body of GET /api/v1/tags.
type tagList struct {
	Items []tag.Tag `json:"items"`
}

func (a *api) listTags(w http.ResponseWriter, r *http.Request) error {
	inactive, err := optionalBool(r.URL.Query().Get("inactive"))
	if err != nil {
		return badBody("a query parameter is invalid", FieldIssue{"inactive", "must be true or false"})
	}
	ts, err := a.d.Tags.Catalogue(r.Context(), inactive)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []tag.Tag{}
	}
	writeJSON(w, http.StatusOK, tagList{Items: ts})
	return nil
}

// tagCreate is the body of POST /api/v1/tags.
type tagCreate struct {
	Name              string    `json:"name"`
	LabelEN           string    `json:"label_en"`
	Kind              string    `json:"kind"`
	Color             string    `json:"color"`
	Description       string    `json:"description"`
	Polarity          string    `json:"polarity"`
	DefaultExpiryDays int       `json:"default_expiry_days"`
	Rule              *tag.Rule `json:"rule"`
	ReasonRequired    bool      `json:"reason_required"`
}

func (a *api) createTag(w http.ResponseWriter, r *http.Request) error {
	var in tagCreate
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := a.d.Tags.Create(r.Context(), tag.NewTag{Name: in.Name, LabelEN: in.LabelEN, Kind: in.Kind,
		Color: in.Color, Description: in.Description, Polarity: in.Polarity,
		DefaultExpiryDays: in.DefaultExpiryDays, Rule: in.Rule, ReasonRequired: in.ReasonRequired})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tags/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, t)
	return nil
}

// tagPatch is the body of PATCH /api/v1/tags/{id}; absent members are kept.
type tagPatch struct {
	Name              *string   `json:"name"`
	LabelEN           *string   `json:"label_en"`
	Color             *string   `json:"color"`
	Description       *string   `json:"description"`
	Polarity          *string   `json:"polarity"`
	DefaultExpiryDays *int      `json:"default_expiry_days"`
	Rule              *tag.Rule `json:"rule"`
	ReasonRequired    *bool     `json:"reason_required"`
	Active            *bool     `json:"active"`
}

func tagID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, newProblem(http.StatusNotFound, ProblemNotFound, "no such tag")
	}
	return id, nil
}

func (a *api) updateTag(w http.ResponseWriter, r *http.Request) error {
	id, err := tagID(r)
	if err != nil {
		return err
	}
	var in tagPatch
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := a.d.Tags.Update(r.Context(), id, tag.Update{Name: in.Name, LabelEN: in.LabelEN, Color: in.Color,
		Description: in.Description, Polarity: in.Polarity, DefaultExpiryDays: in.DefaultExpiryDays, Rule: in.Rule,
		ReasonRequired: in.ReasonRequired, Active: in.Active})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (a *api) deleteTag(w http.ResponseWriter, r *http.Request) error {
	id, err := tagID(r)
	if err != nil {
		return err
	}
	if err := a.d.Tags.Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tagFilterParam checks the customer list's tag parameter: a tag id or a
// tag's name or code.
func tagFilterParam(s string) (string, *FieldIssue) {
	s = strings.TrimSpace(s)
	if len([]rune(s)) > 40 {
		return "", &FieldIssue{"tag", "must have at most 40 characters"}
	}
	return s, nil
}

// setPreferences is PUT /api/v1/customers/{id}/preferences: a full
// replacement of the contact preferences (contact.Input; omitted fields are
// emptied), answered with the preferences and consents as the 360 shows them.
func (a *api) setPreferences(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in contact.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := a.d.C360.SetPreferences(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
