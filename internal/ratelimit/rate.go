package ratelimit

import (
	"sync"
	"time"

	"kehu/internal/kehu"
)

// Rate is a single token bucket refilled at PerSecond, holding at most
// Burst tokens: the outbox's per-channel send rate (messages per second).
// Unlike Limiter it never refuses: Take reserves tokens, going into debt,
// and says how long to wait before acting, so a sender paces itself.
type Rate struct {
	mu        sync.Mutex
	perSecond float64
	burst     float64
	tokens    float64
	at        time.Time
	clock     kehu.Clock
}

// NewRate returns a bucket of perSecond tokens a second, full at start;
// burst < 1 means one second's worth. perSecond <= 0 returns nil, which
// never waits.
func NewRate(perSecond float64, burst int, clock kehu.Clock) *Rate {
	if perSecond <= 0 {
		return nil
	}
	if clock == nil {
		clock = kehu.SystemClock{}
	}
	b := float64(burst)
	if b < 1 {
		b = max(1, perSecond)
	}
	return &Rate{perSecond: perSecond, burst: b, tokens: b, at: clock.Now(), clock: clock}
}

// PerSecond returns the rate (0 for a nil Rate).
func (r *Rate) PerSecond() float64 {
	if r == nil {
		return 0
	}
	return r.perSecond
}

// Take reserves n tokens and returns how long the caller must wait before
// using them (0 when the bucket held them).
func (r *Rate) Take(n int) time.Duration {
	if r == nil || n <= 0 {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	r.tokens = min(r.burst, r.tokens+now.Sub(r.at).Seconds()*r.perSecond)
	r.at = now
	r.tokens -= float64(n)
	if r.tokens >= 0 {
		return 0
	}
	return time.Duration(-r.tokens / r.perSecond * float64(time.Second))
}
