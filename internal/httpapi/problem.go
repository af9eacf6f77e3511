package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"kehu/internal/kehu"
)

// Problem type URIs. They are part of the API contract: clients branch on
// them, so they never change once published (docs/API.md lists them).
const (
	ProblemBadRequest       = "https://kehu.dev/problems/bad-request"
	ProblemValidation       = "https://kehu.dev/problems/validation"
	ProblemUnauthorized     = "https://kehu.dev/problems/unauthorized"
	ProblemForbidden        = "https://kehu.dev/problems/forbidden"
	ProblemCSRF             = "https://kehu.dev/problems/csrf"
	ProblemNotFound         = "https://kehu.dev/problems/not-found"
	ProblemMethodNotAllowed = "https://kehu.dev/problems/method-not-allowed"
	ProblemConflict         = "https://kehu.dev/problems/conflict"
	ProblemTooLarge         = "https://kehu.dev/problems/payload-too-large"
	ProblemMediaType        = "https://kehu.dev/problems/unsupported-media-type"
	ProblemLocked           = "https://kehu.dev/problems/locked"
	ProblemInternal         = "https://kehu.dev/problems/internal"
	ProblemUnavailable      = "https://kehu.dev/problems/unavailable"
	// Login hardening (docs/SECURITY.md).
	ProblemTOTPRequired      = "https://kehu.dev/problems/totp-required"
	ProblemTooManyRequests   = "https://kehu.dev/problems/too-many-requests"
	ProblemPasswordExpired   = "https://kehu.dev/problems/password-change-required"
	ProblemTOTPEnrolRequired = "https://kehu.dev/problems/totp-enrolment-required"
)

// problemTitles are the fixed, human-readable summaries of each type; the
// detail member carries what is specific to one occurrence.
var problemTitles = map[string]string{
	ProblemBadRequest:        "Bad request",
	ProblemValidation:        "Validation failed",
	ProblemUnauthorized:      "Authentication required",
	ProblemForbidden:         "Forbidden",
	ProblemCSRF:              "Missing or wrong CSRF token",
	ProblemNotFound:          "Not found",
	ProblemMethodNotAllowed:  "Method not allowed",
	ProblemConflict:          "Conflict",
	ProblemTooLarge:          "Request body too large",
	ProblemMediaType:         "Unsupported media type",
	ProblemLocked:            "Locked",
	ProblemInternal:          "Internal error",
	ProblemUnavailable:       "Service unavailable",
	ProblemTOTPRequired:      "Second factor required",
	ProblemTooManyRequests:   "Too many requests",
	ProblemPasswordExpired:   "Password change required",
	ProblemTOTPEnrolRequired: "Second factor enrolment required",
}

// Problem is an RFC 9457 problem detail. Errors lists the offending fields
// (body members or query parameters) so a client can point at each one.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldIssue `json:"errors,omitempty"`
	// retryAfter, when set, is sent as Retry-After (423 and 429).
	retryAfter time.Duration
}

// FieldIssue names one invalid field and what is wrong with it.
type FieldIssue struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// newProblem builds a problem of type typ with the standard title.
func newProblem(status int, typ, detail string, issues ...FieldIssue) *Problem {
	return &Problem{Type: typ, Title: problemTitles[typ], Status: status, Detail: detail, Errors: issues}
}

// Error lets a *Problem travel through handler error returns unchanged.
func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// codeProblems maps the domain's error codes to HTTP statuses and types.
var codeProblems = map[string]struct {
	status int
	typ    string
}{
	kehu.EINVALID:      {http.StatusUnprocessableEntity, ProblemValidation},
	kehu.ENOTFOUND:     {http.StatusNotFound, ProblemNotFound},
	kehu.ECONFLICT:     {http.StatusConflict, ProblemConflict},
	kehu.EUNAUTHORIZED: {http.StatusUnauthorized, ProblemUnauthorized},
	kehu.EFORBIDDEN:    {http.StatusForbidden, ProblemForbidden},
	kehu.ELOCKED:       {http.StatusLocked, ProblemLocked},
	kehu.EUNAVAILABLE:  {http.StatusServiceUnavailable, ProblemUnavailable},
}

// problemFor turns any error into a problem that is safe to show. Internal
// errors become a generic 500 whose detail only points at the request id; the
// cause is logged by writeError.
func problemFor(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	if p := authProblem(err); p != nil {
		return p
	}
	m, ok := codeProblems[kehu.ErrorCode(err)]
	if !ok {
		return newProblem(http.StatusInternalServerError, ProblemInternal,
			"An unexpected error occurred. Quote the request id when reporting it.")
	}
	p = newProblem(m.status, m.typ, kehu.ErrorMessage(err))
	for _, f := range kehu.ErrorFields(err) {
		p.Errors = append(p.Errors, FieldIssue{Field: f.Field, Message: f.Reason})
	}
	return p
}

// writeError sends err as a problem response, logging what the client is not
// told: the full error of every 5xx.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	p := problemFor(err)
	if p.Status >= 500 {
		logger.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()),
			"method", r.Method, "path", LogPath(r.URL.Path), "status", p.Status, "err", err)
	}
	writeProblem(w, r, p)
}

// writeProblem sends p as application/problem+json, adding the request id and
// the challenge header RFC 9110 requires on a 401.
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	out := *p
	out.Instance = r.URL.Path
	out.RequestID = RequestID(r.Context())
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if out.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="kehu"`)
	}
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((p.retryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(out.Status)
	_ = json.NewEncoder(w).Encode(out)
}

// writeJSON sends v as a JSON response. Responses carry personal data, so
// they are never stored by caches.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
