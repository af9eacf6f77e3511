package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// ContentSecurityPolicy is sent on every response. It suits server-rendered
// pages whose scripts, styles and fonts are all self-hosted: nothing inline,
// nothing from another origin, and no framing (clickjacking). A page that
// needs more may set its own header; Middleware sets this one first.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; " +
	"frame-ancestors 'none'"

// requestInfo travels in the context so inner handlers can report the route
// pattern they matched back to the access log and metrics.
type requestInfo struct {
	id    string
	route string
}

type requestInfoKey struct{}

// RequestID returns the id of the request being served, or "" outside
// Middleware. Logs and problem responses carry it so a user's report can be
// matched to the server's log lines.
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// setRoute records the matched route pattern for the access log and metrics.
func setRoute(ctx context.Context, pattern string) {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		info.route = pattern
	}
}

// Middleware wraps the whole server, API and UI alike: it assigns a request
// id, sets security headers, recovers panics into a 500 problem, writes one
// structured access-log line and records Prometheus metrics. m may be nil.
func Middleware(next http.Handler, logger *slog.Logger, m *Metrics) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: incomingRequestID(r.Header.Get("X-Request-ID"))}
		if info.id == "" {
			info.id = newRequestID()
		}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		setSecurityHeaders(w.Header(), r)
		w.Header().Set("X-Request-ID", info.id)
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { // the documented way to abort silently
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic", "request_id", info.id, "method", r.Method,
					"path", LogPath(r.URL.Path), "panic", v, "stack", string(debug.Stack()))
				if !rec.wroteHeader {
					writeProblem(rec, r, problemFor(errors.New("panic")))
				}
			}
			route := info.route
			if route == "" {
				route = r.Pattern // set by a ServeMux that received this very request
			}
			if route == "" {
				route = "unmatched" // never the raw path: unbounded label values
			}
			elapsed := time.Since(start)
			m.observe(r.Method, route, rec.status(), elapsed)
			logger.LogAttrs(r.Context(), slog.LevelInfo, "http request",
				slog.String("request_id", info.id), slog.String("method", r.Method),
				slog.String("route", route), slog.String("path", LogPath(r.URL.Path)),
				slog.Int("status", rec.status()), slog.Int64("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000))
		}()
		next.ServeHTTP(rec, r)
	})
}

// setSecurityHeaders applies the headers every response carries.
func setSecurityHeaders(h http.Header, r *http.Request) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// incomingRequestID returns id if it is safe to reuse: a proxy's id lets logs
// be joined across hops, but it is echoed into headers and logs, so only short
// plain tokens are accepted.
func incomingRequestID(id string) string {
	if len(id) == 0 || len(id) > 64 {
		return ""
	}
	for _, c := range id {
		ok := c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return ""
		}
	}
	return id
}

// newRequestID returns 128 random bits in hex.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// recorder remembers the status and size of a response for the access log and
// whether headers went out, so a panic after them is not answered twice.
type recorder struct {
	http.ResponseWriter
	code        int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.code, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) status() int {
	if !r.wroteHeader {
		return http.StatusOK
	}
	return r.code
}
