package outbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"kehu/internal/kehu"
	"kehu/internal/msgtemplate"
)

// HTTPGateway posts each message as JSON to a provider's URL (an SMS
// aggregator, the app push service, the WeChat official account's relay),
// signed with HMAC-SHA256 over a timestamp, a nonce and the body (Sign).
// The message's idempotency key goes in the Idempotency-Key header and the
// body. A 2xx is sent (the answer's "id" is the provider's message id); a
// 5xx, 408, 429, a timeout or a refused connection is temporary (the batch
// stops there); any other 4xx is permanent for that message.
type HTTPGateway struct {
	url    string
	secret []byte
	client *http.Client
	clock  kehu.Clock
	// parallel is how many requests of a batch are in flight at once.
	parallel int
}

// HTTPConfig configures an HTTPGateway.
type HTTPConfig struct {
	URL      string
	Secret   []byte
	Timeout  time.Duration // per request; default 10 s
	Parallel int           // default 8
	Client   *http.Client  // tests: a client trusting the test server
}

// NewHTTPGateway checks cfg and returns the gateway.
func NewHTTPGateway(cfg HTTPConfig, clock kehu.Clock) (*HTTPGateway, error) {
	if cfg.URL == "" {
		return nil, kehu.Errorf(kehu.EINVALID, "the HTTP gateway needs a URL")
	}
	if len(cfg.Secret) < 16 {
		return nil, kehu.Errorf(kehu.EINVALID, "the HTTP gateway's signing secret must be at least 16 bytes")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	c := cfg.Client
	if c == nil {
		c = &http.Client{}
	}
	cc := *c
	cc.Timeout = cfg.Timeout
	if clock == nil {
		clock = kehu.SystemClock{}
	}
	return &HTTPGateway{url: cfg.URL, secret: cfg.Secret, client: &cc, clock: clock, parallel: cfg.Parallel}, nil
}

// Name implements Gateway.
func (g *HTTPGateway) Name() string { return "http" }

// HTTPMessage is the body the provider receives.
type HTTPMessage struct {
	IdempotencyKey string              `json:"idempotency_key"`
	Channel        Channel             `json:"channel"`
	To             string              `json:"to"`
	Subject        string              `json:"subject,omitempty"`
	Body           string              `json:"body,omitempty"`
	TemplateID     string              `json:"template_id,omitempty"`
	Fields         []msgtemplate.Field `json:"fields,omitempty"`
}

// Send implements Gateway: up to parallel requests at a time; after the
// first temporary failure no new request starts.
func (g *HTTPGateway) Send(ctx context.Context, batch []Envelope) []SendResult {
	out := make([]SendResult, len(batch))
	var (
		mu      sync.Mutex
		stopped bool
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, g.parallel)
	for i, e := range batch {
		sem <- struct{}{}
		mu.Lock()
		stop := stopped
		mu.Unlock()
		if stop || ctx.Err() != nil {
			<-sem
			out[i].Err = ErrNotAttempted
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			id, err := g.post(ctx, e)
			out[i] = SendResult{ProviderID: id, Err: err}
			if err != nil && !IsPermanent(err) {
				mu.Lock()
				stopped = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

func (g *HTTPGateway) post(ctx context.Context, e Envelope) (string, error) {
	body, err := json.Marshal(HTTPMessage{IdempotencyKey: e.IdempotencyKey, Channel: e.Channel, To: e.To,
		Subject: e.Subject, Body: e.Body, TemplateID: e.ExternalID, Fields: e.Fields})
	if err != nil {
		return "", Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return "", Permanent(err)
	}
	ts := strconv.FormatInt(g.clock.Now().Unix(), 10)
	nonce := newNonce()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", e.IdempotencyKey)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, Sign(g.secret, ts, nonce, body))
	resp, err := g.client.Do(req)
	if err != nil {
		// Refused, reset, timed out: the provider may be down. (The URL is
		// configuration, not personal data.)
		return "", fmt.Errorf("provider unreachable: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		var ans struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &ans) == nil && ans.ID != "" {
			return ans.ID, nil
		}
		return e.IdempotencyKey, nil
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
		return "", fmt.Errorf("provider answered %d: %s", resp.StatusCode, snippet(raw))
	default:
		return "", Permanent(fmt.Errorf("provider refused the message (%d): %s", resp.StatusCode, snippet(raw)))
	}
}

// snippet is the start of a provider's answer, for the error column.
func snippet(b []byte) string {
	s := string(bytes.TrimSpace(b))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return Redact(s)
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
