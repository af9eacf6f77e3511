package outbox

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"kehu/internal/kehu"
)

// SMTPGateway sends e-mail through a relay with net/smtp: one connection
// per batch, STARTTLS (required unless AllowPlain, for a relay on the same
// host), AUTH PLAIN when a user is set. The Message-ID is derived from the
// idempotency key, so a message retried after a crash carries the same id
// (SMTP itself cannot refuse a duplicate: the one window is between the
// relay accepting DATA and Kehu recording it sent). A 5xx answer to a
// recipient or to the data is permanent for that message; 4xx and network
// errors are temporary and stop the batch.
type SMTPGateway struct {
	cfg   SMTPConfig
	clock kehu.Clock
}

// SMTPConfig configures an SMTPGateway.
type SMTPConfig struct {
	Addr     string // host:port of the relay
	From     string // envelope and header sender
	FromName string // display name, e.g. 客户银行
	User     string
	Password string
	// AllowPlain permits a relay without STARTTLS (only for 127.0.0.1).
	AllowPlain bool
	TLS        *tls.Config // nil: system roots, the relay's host name
	Timeout    time.Duration
	// Domain is the right-hand side of Message-IDs (default: From's domain).
	Domain string
}

// NewSMTPGateway checks cfg and returns the gateway.
func NewSMTPGateway(cfg SMTPConfig, clock kehu.Clock) (*SMTPGateway, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, kehu.Errorf(kehu.EINVALID, "the SMTP relay address %q must be host:port", cfg.Addr)
	}
	if !strings.Contains(cfg.From, "@") {
		return nil, kehu.Errorf(kehu.EINVALID, "the SMTP sender address is required")
	}
	if cfg.User != "" && cfg.AllowPlain {
		return nil, kehu.Errorf(kehu.EINVALID, "SMTP AUTH needs STARTTLS: a password is never sent in clear")
	}
	if cfg.TLS == nil {
		cfg.TLS = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Domain == "" {
		cfg.Domain = cfg.From[strings.LastIndexByte(cfg.From, '@')+1:]
	}
	if clock == nil {
		clock = kehu.SystemClock{}
	}
	return &SMTPGateway{cfg: cfg, clock: clock}, nil
}

// Name implements Gateway.
func (g *SMTPGateway) Name() string { return "smtp" }

// Send implements Gateway.
func (g *SMTPGateway) Send(ctx context.Context, batch []Envelope) []SendResult {
	out := make([]SendResult, len(batch))
	c, err := g.dial(ctx)
	if err != nil {
		for i := range out {
			out[i].Err = ErrNotAttempted
		}
		out[0].Err = err
		return out
	}
	defer c.Close()
	for i, e := range batch {
		if ctx.Err() != nil {
			out[i].Err = ErrNotAttempted
			continue
		}
		err := g.send(c, e)
		if err == nil {
			out[i].ProviderID = g.messageID(e)
			continue
		}
		out[i].Err = err
		if !IsPermanent(err) {
			for j := i + 1; j < len(batch); j++ {
				out[j].Err = ErrNotAttempted
			}
			return out
		}
		if rerr := c.Reset(); rerr != nil {
			for j := i + 1; j < len(batch); j++ {
				out[j].Err = ErrNotAttempted
			}
			return out
		}
	}
	_ = c.Quit()
	return out
}

func (g *SMTPGateway) dial(ctx context.Context) (*smtp.Client, error) {
	d := net.Dialer{Timeout: g.cfg.Timeout}
	conn, err := d.DialContext(ctx, "tcp", g.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("SMTP relay unreachable: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(g.cfg.Timeout * 10))
	host, _, _ := net.SplitHostPort(g.cfg.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("SMTP greeting: %w", err)
	}
	if err := c.Hello("kehu." + g.cfg.Domain); err != nil {
		c.Close()
		return nil, fmt.Errorf("SMTP EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(g.cfg.TLS); err != nil {
			c.Close()
			return nil, fmt.Errorf("SMTP STARTTLS: %w", err)
		}
	} else if !g.cfg.AllowPlain {
		c.Close()
		return nil, errors.New("the SMTP relay does not offer STARTTLS; refusing to send in clear")
	}
	if g.cfg.User != "" {
		if err := c.Auth(smtp.PlainAuth("", g.cfg.User, g.cfg.Password, host)); err != nil {
			c.Close()
			return nil, classifySMTP(fmt.Errorf("SMTP AUTH: %w", err), false)
		}
	}
	return c, nil
}

func (g *SMTPGateway) messageID(e Envelope) string {
	return "<" + e.IdempotencyKey + "@" + g.cfg.Domain + ">"
}

func (g *SMTPGateway) send(c *smtp.Client, e Envelope) error {
	if !strings.Contains(e.To, "@") || strings.ContainsAny(e.To, "\r\n<>") {
		return Permanent(errors.New("the e-mail address is not valid"))
	}
	if err := c.Mail(g.cfg.From); err != nil {
		return classifySMTP(fmt.Errorf("MAIL FROM: %w", err), true)
	}
	if err := c.Rcpt(e.To); err != nil {
		return classifySMTP(fmt.Errorf("RCPT TO %s: %w", MaskEmail(e.To), err), true)
	}
	w, err := c.Data()
	if err != nil {
		return classifySMTP(fmt.Errorf("DATA: %w", err), true)
	}
	if _, err := w.Write(g.compose(e)); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return classifySMTP(fmt.Errorf("DATA: %w", err), true)
	}
	return nil
}

// compose writes the message: UTF-8 text, base64, RFC 2047 subject.
func (g *SMTPGateway) compose(e Envelope) []byte {
	var b strings.Builder
	from := g.cfg.From
	if g.cfg.FromName != "" {
		from = mime.BEncoding.Encode("UTF-8", g.cfg.FromName) + " <" + g.cfg.From + ">"
	}
	h := [][2]string{
		{"From", from},
		{"To", e.To},
		{"Subject", mime.BEncoding.Encode("UTF-8", e.Subject)},
		{"Date", g.clock.Now().Format(time.RFC1123Z)},
		{"Message-ID", g.messageID(e)},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=UTF-8"},
		{"Content-Transfer-Encoding", "base64"},
		{"X-Kehu-Idempotency-Key", e.IdempotencyKey},
	}
	for _, kv := range h {
		b.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(e.Body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return []byte(b.String())
}

// classifySMTP marks 5xx replies permanent (perMessage: the failure is this
// message's, not the relay's).
func classifySMTP(err error, perMessage bool) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && perMessage {
		return Permanent(err)
	}
	return err
}
