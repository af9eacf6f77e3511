package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"kehu/internal/audit"
	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/store"
)

// outboxConfig is message delivery's part of `kehu serve` (docs/DELIVERY.md):
// the gateway of each channel, their secrets (each also from a *_FILE), the
// dispatcher's lease, age limit and rates, and the template settings. After
// wiring it holds the services and the dispatcher that serve starts.
type outboxConfig struct {
	// marketing are the services a demo bank's marketing starter set is
	// entered through (demo_marketing.go), set when the handler is built.
	marketing      marketingServices
	dir            string
	clearAddresses bool
	signature      string
	hotline        string
	lease, maxAge  time.Duration
	rates          string
	dispatch       bool
	gateway        map[msgtemplate.Channel]*string
	url            map[msgtemplate.Channel]*string
	secret         map[msgtemplate.Channel]*string
	httpTimeout    time.Duration
	smtp           outbox.SMTPConfig
	smtpPlain      bool

	templates  *msgtemplate.Service
	monitor    *outbox.Service
	dispatcher *outbox.Dispatcher
	campaigns  campaignSet // serve_campaigns.go
}

// outboxFlags registers the --outbox-* and --sms-signature flags (each also
// KEHU_… in the environment; secrets and the SMTP password also KEHU_…_FILE).
func outboxFlags(fs *flag.FlagSet) *outboxConfig {
	c := &outboxConfig{gateway: map[msgtemplate.Channel]*string{}, url: map[msgtemplate.Channel]*string{},
		secret: map[msgtemplate.Channel]*string{}}
	d := outbox.DefaultConfig()
	fs.StringVar(&c.dir, "outbox-dir", "", "where the file gateway writes messages (default: outbox/ beside a SQLite database, else data/outbox)")
	fs.BoolVar(&c.clearAddresses, "outbox-clear-addresses", false, "write mobiles and e-mail addresses in clear in the file gateway's files (masked by default)")
	fs.StringVar(&c.signature, "sms-signature", "", "the SMS signature registered with the carriers, e.g. 【客户银行】 (marketing SMS must carry it)")
	fs.StringVar(&c.hotline, "outbox-hotline", "", "the bank's service number, used when a message's RM phone is unknown")
	fs.DurationVar(&c.lease, "outbox-lease", d.Lease, "how long a dispatcher holds a claimed batch before another may take it")
	fs.DurationVar(&c.maxAge, "outbox-max-age", d.MaxAge, "a message not sent this long after it was queued fails as expired")
	fs.StringVar(&c.rates, "outbox-rates", "sms=200,push=500,wechat=100,email=50", "messages per second per channel (0: unlimited)")
	fs.BoolVar(&c.dispatch, "outbox-dispatch", true, "run the dispatcher in this server (false: only queue and serve the monitor)")
	for _, ch := range msgtemplate.Channels {
		def := "file"
		c.gateway[ch] = fs.String("outbox-"+string(ch)+"-gateway", def, "gateway of "+string(ch)+": file, "+gatewayChoices(ch))
		if ch != msgtemplate.Email {
			c.url[ch] = fs.String("outbox-"+string(ch)+"-url", "", "the "+string(ch)+" provider's URL (http gateway)")
		}
		c.secret[ch] = fs.String("outbox-"+string(ch)+"-secret", "", "the "+string(ch)+" provider's signing secret, for requests and receipts (use the _FILE form)")
	}
	fs.DurationVar(&c.httpTimeout, "outbox-http-timeout", 10*time.Second, "timeout of one request to an HTTP provider")
	fs.StringVar(&c.smtp.Addr, "outbox-smtp-addr", "", "SMTP relay host:port (smtp gateway)")
	fs.StringVar(&c.smtp.From, "outbox-smtp-from", "", "sender address of e-mail")
	fs.StringVar(&c.smtp.FromName, "outbox-smtp-from-name", "", "sender display name, e.g. 客户银行")
	fs.StringVar(&c.smtp.User, "outbox-smtp-user", "", "SMTP AUTH user")
	fs.StringVar(&c.smtp.Password, "outbox-smtp-password", "", "SMTP AUTH password (use KEHU_OUTBOX_SMTP_PASSWORD_FILE)")
	fs.BoolVar(&c.smtpPlain, "outbox-smtp-plain", false, "allow a relay without STARTTLS (a relay on this host only; no AUTH then)")
	return c
}

func gatewayChoices(ch msgtemplate.Channel) string {
	if ch == msgtemplate.Email {
		return "smtp"
	}
	return "http"
}

// parseRates reads "sms=200,push=500".
func parseRates(s string) (map[msgtemplate.Channel]float64, error) {
	out := map[msgtemplate.Channel]float64{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		n, err := strconv.ParseFloat(v, 64)
		ch := msgtemplate.Channel(strings.TrimSpace(k))
		if !ok || err != nil || n < 0 || !msgtemplate.ValidChannel(ch) {
			return nil, usageError{fmt.Sprintf("serve: --outbox-rates %q: want channel=messages-per-second, e.g. sms=200,email=50", s)}
		}
		out[ch] = n
	}
	return out, nil
}

func (c *outboxConfig) validate(dbURL string) error {
	if c.lease < 10*time.Second || c.lease > time.Hour {
		return usageError{"serve: --outbox-lease must be between 10s and 1h"}
	}
	if c.maxAge < time.Hour || c.maxAge > 30*24*time.Hour {
		return usageError{"serve: --outbox-max-age must be between 1h and 720h"}
	}
	if _, err := parseRates(c.rates); err != nil {
		return err
	}
	if c.dir == "" {
		c.dir = filepath.Join("data", "outbox")
		if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
			c.dir = filepath.Join(filepath.Dir(path), "outbox")
		}
	}
	for _, ch := range msgtemplate.Channels {
		switch g := *c.gateway[ch]; {
		case g == "file":
		case g == "http" && ch != msgtemplate.Email:
			if *c.url[ch] == "" || len(*c.secret[ch]) < 16 {
				return usageError{fmt.Sprintf("serve: --outbox-%s-gateway http needs --outbox-%s-url and a --outbox-%s-secret of at least 16 bytes", ch, ch, ch)}
			}
		case g == "smtp" && ch == msgtemplate.Email:
			if c.smtp.Addr == "" || c.smtp.From == "" {
				return usageError{"serve: --outbox-email-gateway smtp needs --outbox-smtp-addr and --outbox-smtp-from"}
			}
		default:
			return usageError{fmt.Sprintf("serve: --outbox-%s-gateway %q: want file or %s", ch, g, gatewayChoices(ch))}
		}
	}
	return nil
}

// wire builds the template service, the monitor and the dispatcher; a nil
// configuration (tests and benchmarks) wires nothing.
func (c *outboxConfig) wire(db *store.DB, clock kehu.Clock, trail *audit.Log, customers *customer.Service, logger *slog.Logger,
	suppress func(context.Context, int64, outbox.Channel, msgtemplate.Purpose) (string, error)) error {
	if c == nil {
		return nil
	}
	opt := msgtemplate.Options{Signature: c.signature, Hotline: c.hotline}
	c.templates = msgtemplate.NewService(msgtemplate.Deps{Store: db.Templates(), Clock: clock, Audit: trail, Tx: db, Options: opt})
	secrets := map[msgtemplate.Channel][]byte{}
	gateways := map[msgtemplate.Channel]outbox.Gateway{}
	var file *outbox.FileGateway
	for _, ch := range msgtemplate.Channels {
		if s := *c.secret[ch]; s != "" {
			secrets[ch] = []byte(s)
		}
		switch *c.gateway[ch] {
		case "file":
			if file == nil {
				g, err := outbox.NewFileGateway(c.dir, c.clearAddresses, clock)
				if err != nil {
					return err
				}
				file = g
			}
			gateways[ch] = file
		case "http":
			g, err := outbox.NewHTTPGateway(outbox.HTTPConfig{URL: *c.url[ch], Secret: []byte(*c.secret[ch]), Timeout: c.httpTimeout}, clock)
			if err != nil {
				return err
			}
			gateways[ch] = g
		case "smtp":
			cfg := c.smtp
			cfg.AllowPlain = c.smtpPlain
			g, err := outbox.NewSMTPGateway(cfg, clock)
			if err != nil {
				return err
			}
			gateways[ch] = g
		}
	}
	c.monitor = outbox.NewService(outbox.ServiceDeps{Store: db.Outbox(), Customers: customers, Clock: clock, Audit: trail,
		Tx: db, Secrets: secrets})
	rates, err := parseRates(c.rates)
	if err != nil {
		return err
	}
	if c.dispatch {
		c.dispatcher = outbox.NewDispatcher(outbox.DispatcherDeps{Store: db.Outbox(), Gateways: gateways, Templates: db.Templates(),
			Options: opt, Clock: clock, Logger: logger.With("component", "outbox"), Suppress: suppress,
			Config: outbox.Config{Lease: c.lease, MaxAge: c.maxAge, Rates: rates}})
	}
	return nil
}

// services returns the template service and the monitor (nil, nil when
// not wired).
func (c *outboxConfig) services() (*msgtemplate.Service, *outbox.Service) {
	if c == nil {
		return nil, nil
	}
	return c.templates, c.monitor
}

// start runs the dispatcher until ctx ends; the returned function waits
// for it (a batch in flight is recorded before it returns).
func (c *outboxConfig) start(ctx context.Context) (wait func()) {
	if c == nil || c.dispatcher == nil {
		return func() {}
	}
	c.dispatcher.Start(ctx)
	return c.dispatcher.Wait
}
