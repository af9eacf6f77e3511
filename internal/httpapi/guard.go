package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"kehu/internal/access"
	"kehu/internal/auth"
	"kehu/internal/kehu"
)

// restrictedRoutes are what a restricted session (expired password, or a
// role that must enrol TOTP) may still call: enough to lift the restriction,
// see itself and sign out.
var restrictedRoutes = map[string]bool{
	"GET /api/v1/me":                  true,
	"POST /api/v1/auth/logout":        true,
	"POST /api/v1/me/password":        true,
	"POST /api/v1/me/totp":            true,
	"POST /api/v1/me/totp/confirm":    true,
	"GET /api/v1/me/sessions":         true,
	"DELETE /api/v1/me/sessions/{id}": true,
	"DELETE /api/v1/me/sessions":      true,
	"GET /api/v1/me/tokens":           true,
	"DELETE /api/v1/me/tokens/{id}":   true,
}

// tokenRoutes are the routes without a permission that an API token may
// call anyway; every other permission-free route (sessions, tokens,
// password, TOTP, logout) needs a signed-in session, so a leaked token
// cannot mint tokens or lock its owner out.
var tokenRoutes = map[string]bool{
	"GET /api/v1/me":   true,
	"GET /api/v1/orgs": true,
}

// tokenScopes are permission-free routes an API token may call only with
// the named scope: the route is open to sessions because the service
// decides (a c2_fields grant also opens unmasking), but a token acts for an
// integration, never on a person's grant.
var tokenScopes = map[string]access.Permission{
	"POST /api/v1/customers/{id}/unmask": access.CustomerUnmask,
}

// authorize decides whether the authenticated request may use the route:
// the per-user rate limit, a session's restriction, the role's permission
// and, for API tokens, the token's scopes.
func (a *api) authorize(ctx context.Context, rt route) error {
	actor, _ := kehu.ActorFrom(ctx)
	if ok, wait := a.d.APILimit.Allow("user:" + strconv.FormatInt(actor.UserID, 10)); !ok {
		p := newProblem(http.StatusTooManyRequests, ProblemTooManyRequests, "too many requests from this user; slow down")
		p.retryAfter = wait
		return p
	}
	sess, _ := ctx.Value(sessionKey{}).(auth.Session)
	if sess.Restriction != "" && !restrictedRoutes[rt.pattern] {
		return &auth.RestrictedError{Restriction: sess.Restriction}
	}
	if actor.TokenID != 0 {
		if p, ok := tokenScopes[rt.pattern]; ok && rt.perm == "" {
			if !auth.Permitted(actor, p) {
				return kehu.Errorf(kehu.EFORBIDDEN, "this token's scopes do not include %s", p)
			}
			return nil
		}
		if rt.perm == "" && !tokenRoutes[rt.pattern] {
			return kehu.Errorf(kehu.EFORBIDDEN, "an API token cannot call this; sign in")
		}
		if rt.perm != "" && !auth.Permitted(actor, rt.perm) {
			return kehu.Errorf(kehu.EFORBIDDEN, "this token's scopes do not include %s", rt.perm)
		}
		return nil
	}
	if rt.perm != "" && !auth.Permitted(actor, rt.perm) {
		return kehu.Errorf(kehu.EFORBIDDEN, "your role may not do this")
	}
	return nil
}

// limitLogin applies the sign-in rate limits, per client IP (one machine
// spraying many accounts) and per username (many machines on one account).
func (a *api) limitLogin(r *http.Request, username string) error {
	for _, key := range []string{"ip:" + clientIP(r), "user:" + strings.ToLower(strings.TrimSpace(username))} {
		if ok, wait := a.d.LoginLimit.Allow(key); !ok {
			p := newProblem(http.StatusTooManyRequests, ProblemTooManyRequests, "too many sign-in attempts; wait and try again")
			p.retryAfter = wait
			return p
		}
	}
	return nil
}

// authProblem maps the auth service's structured errors to their problem
// types, or returns nil for any other error.
func authProblem(err error) *Problem {
	var locked *auth.LockedError
	var totp *auth.TOTPRequiredError
	var restricted *auth.RestrictedError
	switch {
	case errors.As(err, &locked):
		p := newProblem(http.StatusLocked, ProblemLocked, kehu.ErrorMessage(err))
		p.retryAfter = locked.RetryAfter
		return p
	case errors.As(err, &totp):
		return newProblem(http.StatusUnauthorized, ProblemTOTPRequired,
			"this account has a second factor: send the request again with totp_code")
	case errors.As(err, &restricted):
		typ := ProblemTOTPEnrolRequired
		if restricted.Restriction == auth.RestrictPasswordChange {
			typ = ProblemPasswordExpired
		}
		return newProblem(http.StatusForbidden, typ, kehu.ErrorMessage(err))
	}
	return nil
}
