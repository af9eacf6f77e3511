package outbox

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"kehu/internal/customer"
	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
	"kehu/internal/ratelimit"
)

// Config tunes the dispatcher.
type Config struct {
	// Lease is how long a claimed batch is held; a dispatcher that dies
	// leaves its claims to be taken again after it. Default 2 minutes.
	Lease time.Duration
	// Batch is the most messages claimed at once (default 200).
	Batch int
	// MaxAge fails a message not sent this long after it was queued
	// (default 72 hours): an offer that arrives days late is worse than none.
	MaxAge time.Duration
	// BaseBackoff and MaxBackoff bound the exponential backoff after a
	// temporary failure (default 5 s and 5 min); each delay is drawn between
	// half and all of base·2^(attempts-1), capped at MaxBackoff, so a gateway
	// back after an hour's outage is used again within MaxBackoff.
	BaseBackoff, MaxBackoff time.Duration
	// Rates are messages per second per channel (0: unlimited).
	Rates map[Channel]float64
	// Poll is how often an idle channel looks for due messages (default 1 s).
	Poll time.Duration
}

// DefaultConfig is the dispatcher's default configuration.
func DefaultConfig() Config {
	return Config{Lease: 2 * time.Minute, Batch: 200, MaxAge: 72 * time.Hour, BaseBackoff: 5 * time.Second,
		MaxBackoff: 5 * time.Minute, Poll: time.Second,
		Rates: map[Channel]float64{msgtemplate.SMS: 200, msgtemplate.Push: 500, msgtemplate.WeChat: 100, msgtemplate.Email: 50}}
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.Lease <= 0 {
		c.Lease = d.Lease
	}
	if c.Batch <= 0 {
		c.Batch = d.Batch
	}
	if c.MaxAge <= 0 {
		c.MaxAge = d.MaxAge
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = d.BaseBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = d.MaxBackoff
	}
	if c.Poll <= 0 {
		c.Poll = d.Poll
	}
}

// Templates reads template versions (msgtemplate's store).
type Templates interface {
	GetVersion(ctx context.Context, id int64, version int) (msgtemplate.Version, error)
}

// DispatcherDeps are what the dispatcher needs.
type DispatcherDeps struct {
	Store     Store
	Gateways  map[Channel]Gateway
	Templates Templates
	Options   msgtemplate.Options
	Clock     kehu.Clock
	Logger    *slog.Logger
	Config    Config
	// Suppress, when set, is asked before each send with the message's
	// purpose (its template's; a message queued as rendered text is
	// marketing); a non-empty reason fails the message ("suppressed:
	// reason"), e.g. consent withdrawn after the message was queued.
	Suppress func(ctx context.Context, customerID int64, ch Channel, purpose msgtemplate.Purpose) (string, error)
	// Owner names this dispatcher in leases (default host-pid-random).
	Owner string
	// Sleep waits (tests replace it to drive a fake clock); it returns
	// early when ctx ends.
	Sleep func(ctx context.Context, d time.Duration)
}

// Dispatcher sends due messages, one goroutine per channel with a gateway.
type Dispatcher struct {
	d      DispatcherDeps
	cfg    Config
	rates  map[Channel]*ratelimit.Rate
	rnd    *rand.Rand
	rndMu  sync.Mutex
	tmplMu sync.Mutex
	tmpls  map[[2]int64]msgtemplate.Version
	wg     sync.WaitGroup
}

// NewDispatcher returns a dispatcher; Start runs it.
func NewDispatcher(d DispatcherDeps) *Dispatcher {
	if d.Clock == nil {
		d.Clock = kehu.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = cryptoRead(b)
		d.Owner = host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b)
	}
	if d.Sleep == nil {
		d.Sleep = sleep
	}
	cfg := d.Config
	cfg.fill()
	x := &Dispatcher{d: d, cfg: cfg, rates: map[Channel]*ratelimit.Rate{}, tmpls: map[[2]int64]msgtemplate.Version{},
		rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))}
	for ch, r := range cfg.Rates {
		x.rates[ch] = ratelimit.NewRate(r, 0, d.Clock)
	}
	return x
}

var cryptoRead = crand.Read

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Start runs a sender per channel that has a gateway, and the expiry
// sweep, until ctx ends; Wait waits for them.
func (x *Dispatcher) Start(ctx context.Context) {
	for _, ch := range msgtemplate.Channels {
		if x.d.Gateways[ch] == nil {
			continue
		}
		x.wg.Go(func() { x.runChannel(ctx, ch) })
	}
	x.wg.Go(func() {
		for ctx.Err() == nil {
			if _, err := x.Expire(ctx); err != nil && ctx.Err() == nil {
				x.d.Logger.Warn("outbox expiry", "error", Redact(err.Error()))
			}
			x.d.Sleep(ctx, time.Minute)
		}
	})
}

// Wait returns when every goroutine Start began has stopped.
func (x *Dispatcher) Wait() { x.wg.Wait() }

// Expire fails the messages older than MaxAge that were never sent.
func (x *Dispatcher) Expire(ctx context.Context) (int64, error) {
	now := x.d.Clock.Now().UTC()
	return x.d.Store.Expire(ctx, now.Add(-x.cfg.MaxAge),
		fmt.Sprintf("expired: not sent within %s of being queued", x.cfg.MaxAge), now)
}

func (x *Dispatcher) runChannel(ctx context.Context, ch Channel) {
	failures := 0
	for ctx.Err() == nil {
		n, temporary, err := x.Dispatch(ctx, ch)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			x.d.Logger.Error("outbox dispatch", "channel", ch, "error", Redact(err.Error()))
			x.d.Sleep(ctx, x.cfg.Poll)
		case temporary:
			// The gateway is failing: wait for it with the same capped
			// backoff as its messages, and try again with one batch.
			failures++
			wait := x.backoff(failures)
			x.d.Logger.Warn("outbox gateway failing; backing off", "channel", ch, "failures", failures, "wait", wait)
			x.d.Sleep(ctx, wait)
		case n == 0:
			failures = 0
			x.d.Sleep(ctx, x.cfg.Poll)
		default:
			failures = 0
		}
	}
}

// backoff is the delay before attempt n+1: between half and all of
// base·2^(n-1), capped.
func (x *Dispatcher) backoff(n int) time.Duration {
	d := x.cfg.MaxBackoff
	if n < 31 {
		if e := x.cfg.BaseBackoff << (n - 1); e > 0 && e < d {
			d = e
		}
	}
	x.rndMu.Lock()
	f := 0.5 + x.rnd.Float64()/2
	x.rndMu.Unlock()
	return time.Duration(float64(d) * f)
}

// batchSize keeps a batch to about ten seconds of a channel's rate, well
// inside the lease.
func (x *Dispatcher) batchSize(ch Channel) int {
	n := x.cfg.Batch
	if r := x.rates[ch].PerSecond(); r > 0 {
		n = min(n, max(1, int(r*10)))
	}
	return n
}

// Dispatch claims one batch of ch and sends it. It returns how many
// messages it claimed and whether the gateway failed temporarily.
func (x *Dispatcher) Dispatch(ctx context.Context, ch Channel) (int, bool, error) {
	gw := x.d.Gateways[ch]
	if gw == nil {
		return 0, false, fmt.Errorf("no gateway for channel %s", ch)
	}
	now := x.d.Clock.Now().UTC()
	until := now.Add(x.cfg.Lease)
	msgs, err := x.d.Store.Claim(ctx, ch, x.d.Owner, now, until, x.batchSize(ch))
	if err != nil || len(msgs) == 0 {
		return 0, false, err
	}
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.CustomerID
	}
	recips, err := x.d.Store.Recipients(ctx, ids)
	if err != nil {
		// The claims lapse with the lease and are taken again.
		return len(msgs), false, fmt.Errorf("read recipients: %w", err)
	}
	outcomes := make([]Outcome, 0, len(msgs))
	var envs []Envelope
	var sent []Message
	for _, m := range msgs {
		env, reason := x.prepare(ctx, m, recips[m.CustomerID], now)
		if reason != "" {
			outcomes = append(outcomes, Outcome{ID: m.ID, Status: Failed, Attempted: true, Error: reason})
			x.d.Logger.Info("outbox message failed", "message", m.ID, "channel", ch, "reason", reason)
			continue
		}
		envs = append(envs, env)
		sent = append(sent, m)
	}
	temporary := false
	if len(envs) > 0 {
		x.d.Sleep(ctx, x.rates[ch].Take(len(envs)))
		if ctx.Err() != nil {
			return len(msgs), false, ctx.Err() // the lease lapses; nothing was sent
		}
		results := gw.Send(ctx, envs)
		done := x.d.Clock.Now().UTC()
		for i, m := range sent {
			r := SendResult{Err: ErrNotAttempted}
			if i < len(results) {
				r = results[i]
			}
			o := Outcome{ID: m.ID, Attempted: true}
			switch {
			case r.Err == nil:
				o.Status, o.ProviderID = Sent, r.ProviderID
			case IsPermanent(r.Err):
				o.Status, o.Error = Failed, Redact(r.Err.Error())
				x.d.Logger.Info("outbox message refused", "message", m.ID, "channel", ch, "gateway", gw.Name(), "error", o.Error)
			case errors.Is(r.Err, ErrNotAttempted):
				temporary = true
				o.Status, o.Attempted, o.Next = Queued, false, done.Add(x.backoff(1))
			default:
				temporary = true
				o.Status, o.Error, o.Next = Queued, Redact(r.Err.Error()), done.Add(x.backoff(m.Attempts))
				x.d.Logger.Warn("outbox send failed; will retry", "message", m.ID, "channel", ch, "gateway", gw.Name(),
					"attempts", m.Attempts, "retry_at", o.Next, "error", o.Error)
			}
			outcomes = append(outcomes, o)
		}
	}
	// Finish without ctx's cancellation: what the gateway took must be
	// recorded even when the server is stopping.
	fctx := context.WithoutCancel(ctx)
	if err := x.d.Store.Finish(fctx, x.d.Owner, outcomes, x.d.Clock.Now().UTC()); err != nil {
		return len(msgs), temporary, fmt.Errorf("record outcomes: %w", err)
	}
	return len(msgs), temporary, nil
}

// prepare renders and addresses m; a non-empty reason fails it.
func (x *Dispatcher) prepare(ctx context.Context, m Message, r Recipient, now time.Time) (Envelope, string) {
	if now.Sub(m.CreatedAt) > x.cfg.MaxAge {
		return Envelope{}, fmt.Sprintf("expired: not sent within %s of being queued", x.cfg.MaxAge)
	}
	switch {
	case r.CustomerID == 0:
		return Envelope{}, "the customer no longer exists"
	case r.Status == customer.StatusErased:
		return Envelope{}, "the customer's personal data was erased"
	case r.Status == "merged":
		return Envelope{}, "the customer record was merged into another; the campaign should target the survivor"
	}
	env := Envelope{MessageID: m.ID, IdempotencyKey: m.IdempotencyKey(), Channel: m.Channel, CustomerID: m.CustomerID,
		Source: m.SourceKind + ":" + strconv.FormatInt(m.SourceID, 10)}
	switch m.Channel {
	case msgtemplate.SMS:
		env.To = r.Mobile
		if env.To == "" {
			return env, "the customer has no mobile number"
		}
	case msgtemplate.Email:
		env.To = r.Email
		if env.To == "" {
			return env, "the customer has no e-mail address"
		}
	default:
		env.To = "customer:" + strconv.FormatInt(m.CustomerID, 10)
	}
	content, purpose := m.Content, msgtemplate.Marketing
	var v msgtemplate.Version
	if content == nil {
		var err error
		if v, err = x.template(ctx, m.TemplateID, m.TemplateVersion); err != nil {
			return env, fmt.Sprintf("template %d version %d: %s", m.TemplateID, m.TemplateVersion, kehu.ErrorMessage(err))
		}
		purpose = v.Purpose
	}
	if x.d.Suppress != nil {
		reason, err := x.d.Suppress(ctx, m.CustomerID, m.Channel, purpose)
		if err != nil {
			return env, "contact policy unavailable: " + err.Error()
		}
		if reason != "" {
			return env, "suppressed: " + reason
		}
	}
	if content == nil {
		data := msgtemplate.Data{}
		if m.Data != nil {
			data = *m.Data
		}
		if data.CustomerName == "" {
			data.CustomerName, data.Gender = r.Name, r.Gender
		}
		if data.RMName == "" {
			data.RMName = r.RMName
		}
		out, err := msgtemplate.Render(m.Channel, v.Content, data, x.d.Options)
		if err != nil {
			return env, "cannot render: " + kehu.ErrorMessage(err)
		}
		content = &msgtemplate.Content{Subject: out.Subject, Body: out.Body, Fields: out.Fields, ExternalID: out.ExternalID}
	}
	env.Subject, env.Body, env.Fields, env.ExternalID = content.Subject, content.Body, content.Fields, content.ExternalID
	return env, ""
}

// template returns a version, cached: versions never change.
func (x *Dispatcher) template(ctx context.Context, id int64, version int) (msgtemplate.Version, error) {
	if x.d.Templates == nil {
		return msgtemplate.Version{}, kehu.Errorf(kehu.EUNAVAILABLE, "templates are not configured")
	}
	k := [2]int64{id, int64(version)}
	x.tmplMu.Lock()
	v, ok := x.tmpls[k]
	x.tmplMu.Unlock()
	if ok {
		return v, nil
	}
	v, err := x.d.Templates.GetVersion(ctx, id, version)
	if err != nil {
		return v, err
	}
	x.tmplMu.Lock()
	x.tmpls[k] = v
	x.tmplMu.Unlock()
	return v, nil
}
