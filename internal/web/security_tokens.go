package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/auth"
	"kehu/internal/kehu"
)

// tokenPermissions are the permissions a token may be scoped to, in the order
// the form offers them; each user is offered those of their role.
var tokenPermissions = []access.Permission{
	access.CustomerRead, access.CustomerWrite, access.CustomerUnmask, access.CustomerTransfer,
	access.OrgRead, access.AuditRead, access.MarketingWrite, access.PrivacyManage, access.UserManage,
	access.AccessApprove, access.AccessReview, access.BreakGlass,
	// A source system's integration account feeds Kehu with these.
	access.DataIngest, access.DataImport,
}

// defaultTokenDays is the expiry the create form proposes; maxTokenDays the
// form's bound (auth.Config.MaxTokenLifetime is the rule and may be shorter).
const (
	defaultTokenDays = 90
	maxTokenDays     = 365
)

// tokensView is the 访问令牌 section of the 安全设置 page.
type tokensView struct {
	Items   []tokenRow
	Options []scopeOption // the user's permissions, for the create form
	CanEdit bool          // false in a restricted session: list and revoke only
	Name    string        // the create form's values, kept after a refusal
	Days    int
	Created *createdToken // the new secret, on the creating response only
	// ErrorKey (catalogue) and ErrorArg explain a refused creation; Errors
	// are the service's field reasons.
	ErrorKey string
	ErrorArg string
	Errors   []kehu.FieldError
}

type tokenRow struct {
	auth.APIToken
	Expired bool
}

type scopeOption struct {
	Code    string
	Checked bool
}

type createdToken struct {
	Name      string
	Secret    string
	ExpiresAt time.Time
}

// tokenScopes are the permissions of role a token may carry.
func tokenScopes(role string) []string {
	var out []string
	for _, p := range tokenPermissions {
		if access.Can(role, p) {
			out = append(out, string(p))
		}
	}
	return out
}

// loadTokens fills the section's list and options; v may already carry the
// form's values or a new secret.
func (s *server) loadTokens(r *http.Request, v *tokensView) error {
	st := stateOf(r)
	list, err := s.Auth.APITokens(r.Context())
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	v.Items = v.Items[:0]
	for _, t := range list {
		v.Items = append(v.Items, tokenRow{APIToken: t, Expired: !now.Before(t.ExpiresAt)})
	}
	checked := map[string]bool{}
	for _, o := range v.Options {
		checked[o.Code] = o.Checked
	}
	v.Options = v.Options[:0]
	for _, sc := range tokenScopes(st.actor.Role) {
		v.Options = append(v.Options, scopeOption{Code: sc, Checked: checked[sc]})
	}
	v.CanEdit = st.session.Restriction == ""
	if v.Days == 0 {
		v.Days = defaultTokenDays
	}
	return nil
}

// createToken creates a token of the signed-in user and shows its secret on
// this response only; the list shows it afterwards without the secret.
func (s *server) createToken(w http.ResponseWriter, r *http.Request) {
	if stateOf(r).session.Restriction != "" {
		s.fail(w, r, kehu.Errorf(kehu.EFORBIDDEN, "restricted session"))
		return
	}
	f := r.PostForm
	tv := tokensView{Name: strings.TrimSpace(f.Get("name"))}
	scopes := f["scopes"]
	for _, sc := range scopes {
		tv.Options = append(tv.Options, scopeOption{Code: sc, Checked: true})
	}
	days, err := strconv.Atoi(strings.TrimSpace(f.Get("days")))
	tv.Days = days
	allowed := tokenScopes(stateOf(r).actor.Role)
	var refused []string
	for _, sc := range scopes {
		if !slices.Contains(allowed, sc) {
			refused = append(refused, sc)
		}
	}
	switch {
	case len(refused) > 0:
		tv.ErrorKey, tv.ErrorArg = "security.tokens.scope_refused", strings.Join(refused, ", ")
	case len(scopes) == 0:
		tv.ErrorKey = "security.tokens.no_scope"
	case err != nil || days < 1 || days > maxTokenDays:
		tv.ErrorKey, tv.Days = "security.tokens.bad_days", 0
	}
	if tv.ErrorKey != "" {
		s.renderSecurity(w, r, http.StatusUnprocessableEntity, securityView{Tokens: tv})
		return
	}
	expires := s.Clock.Now().Add(time.Duration(days) * 24 * time.Hour)
	secret, t, err := s.Auth.CreateAPIToken(r.Context(), auth.NewAPIToken{Name: tv.Name, Scopes: scopes, ExpiresAt: expires})
	if err != nil {
		if kehu.ErrorCode(err) != kehu.EINVALID {
			s.fail(w, r, err)
			return
		}
		tv.ErrorKey, tv.Errors = "security.tokens.refused", kehu.ErrorFields(err)
		s.renderSecurity(w, r, http.StatusUnprocessableEntity, securityView{Tokens: tv})
		return
	}
	created := tokensView{Created: &createdToken{Name: t.Name, Secret: secret, ExpiresAt: t.ExpiresAt}}
	s.renderSecurity(w, r, http.StatusOK, securityView{Tokens: created})
}

// revokeToken deletes one of the user's tokens; integrations using it are
// refused from the next request.
func (s *server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, kehu.Errorf(kehu.ENOTFOUND, "no such token"))
		return
	}
	if err := s.Auth.RevokeAPIToken(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/security?done=token_revoked", http.StatusSeeOther)
}
