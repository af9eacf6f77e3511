package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"kehu/internal/access"
	"kehu/internal/auth"
	"kehu/internal/kehu"
	"kehu/internal/ratelimit"
	"kehu/internal/vault"
)

// securityConfig is the login-hardening and TLS part of `kehu serve`
// (docs/SECURITY.md lists the defaults and why).
type securityConfig struct {
	tlsCert, tlsKey  string
	passwordMinLen   int
	passwordMaxAge   time.Duration
	lockoutThreshold int
	requireTOTP      string
	loginRate        int
	apiRate          int
	// totpRoles is requireTOTP resolved by validate; cert is the loaded
	// key pair, read before listening so a bad file fails the start.
	totpRoles []string
	cert      tls.Certificate
}

// securityFlags declares the flags on fs (each also KEHU_* in the environment).
func securityFlags(fs *flag.FlagSet) *securityConfig {
	c := &securityConfig{}
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS; needs --tls-key")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	fs.IntVar(&c.passwordMinLen, "password-min-length", auth.DefaultPasswordPolicy.MinLength, "shortest password accepted (characters)")
	fs.DurationVar(&c.passwordMaxAge, "password-max-age", 0, "force a password change at sign-in after this long, e.g. 2160h (90 days); 0 never")
	fs.IntVar(&c.lockoutThreshold, "lockout-threshold", auth.DefaultLockout.Threshold,
		"consecutive failed sign-ins that lock an account (1 min, doubling, at most 1 h)")
	fs.StringVar(&c.requireTOTP, "require-totp-roles", "auto",
		"comma-separated roles that must enrol a TOTP second factor; \"none\" for nobody; \"auto\" is "+
			strings.Join(auth.DefaultTOTPRoles, ",")+", or nobody with --insecure-cookies (plain-HTTP development)")
	fs.IntVar(&c.loginRate, "login-rate", 10, "sign-in attempts per minute per client IP and per username; 0 unlimited")
	fs.IntVar(&c.apiRate, "api-rate", 600, "API requests per minute per user; 0 unlimited")
	return c
}

// validate checks the flags and resolves the TOTP roles.
func (c *securityConfig) validate(insecureCookies bool) error {
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return usageError{"serve: --tls-cert and --tls-key go together"}
	}
	if c.tls() && insecureCookies {
		return usageError{"serve: --insecure-cookies makes no sense with --tls-cert"}
	}
	if c.tls() {
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return kehu.Errorf(kehu.EINVALID, "serve: --tls-cert/--tls-key: %v", err)
		}
		c.cert = cert
	}
	if c.passwordMinLen < 8 {
		return usageError{"serve: --password-min-length must be at least 8"}
	}
	switch c.requireTOTP {
	case "auto":
		if !insecureCookies {
			c.totpRoles = auth.DefaultTOTPRoles
		}
	case "none", "":
	default:
		for _, r := range strings.Split(c.requireTOTP, ",") {
			r = strings.TrimSpace(r)
			if !access.ValidRole(r) {
				return usageError{fmt.Sprintf("serve: --require-totp-roles: unknown role %q (roles: %s)", r, strings.Join(access.Roles, ", "))}
			}
			c.totpRoles = append(c.totpRoles, r)
		}
	}
	return nil
}

func (c *securityConfig) tls() bool { return c.tlsCert != "" }

// apply sets the policy on an auth configuration.
func (c *securityConfig) apply(cfg *auth.Config) {
	cfg.Password.MinLength = c.passwordMinLen
	cfg.Password.MaxAge = c.passwordMaxAge
	cfg.Lockout.Threshold = c.lockoutThreshold
	cfg.RequireTOTPRoles = c.totpRoles
}

// limiters returns the sign-in limiter (shared by API and UI) and the
// per-user API limiter.
func (c *securityConfig) limiters(clock kehu.Clock) (login, api *ratelimit.Limiter) {
	return ratelimit.New(c.loginRate, clock), ratelimit.New(c.apiRate, clock)
}

// withHSTS sends Strict-Transport-Security on every response of a server
// whose cookies are Secure: it is reached over HTTPS, directly (--tls-cert)
// or through a TLS-terminating proxy, so API and UI answers agree (the UI
// already sends it whenever its cookies are secure).
func withHSTS(h http.Handler, secure bool) http.Handler {
	if !secure {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		h.ServeHTTP(w, r)
	})
}

// serveOn runs srv on ln, over TLS 1.2+ when a certificate is configured.
func (c *securityConfig) serveOn(srv *http.Server, ln net.Listener) error {
	if !c.tls() {
		return srv.Serve(ln)
	}
	srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{c.cert}}
	return srv.ServeTLS(ln, "", "")
}

// scheme is the URL scheme the server answers on.
func (c *securityConfig) scheme() string {
	if c.tls() {
		return "https"
	}
	return "http"
}

// keyringSealer seals TOTP secrets with the vault's field encryption, bound
// to the column "auth_state.totp_secret" so a value moved elsewhere fails to
// open.
type keyringSealer struct{ k *vault.Keyring }

// totpField names the sealed column for the vault's authenticated data.
const totpField = "auth_state.totp_secret"

func (s keyringSealer) Seal(_ context.Context, plain string) (string, error) {
	return s.k.Encrypt(totpField, plain)
}

func (s keyringSealer) Open(_ context.Context, sealed string) (string, error) {
	return s.k.Decrypt(totpField, sealed)
}
