// Package ratelimit is an in-memory token-bucket limiter keyed by string (a
// client IP, a username, a user id). It protects the login against password
// spraying and the API against a runaway client. State is per process: with
// several servers behind a balancer each enforces its own share, which the
// per-account lockout (stored in the database) backs up.
package ratelimit

import (
	"sync"
	"time"

	"kehu/internal/kehu"
)

// maxKeys bounds memory under a flood of distinct keys (spoofed usernames):
// full buckets are swept first, and if that is not enough the map is reset.
const maxKeys = 100_000

// Limiter allows PerMinute events per key, in bursts of up to PerMinute.
type Limiter struct {
	mu        sync.Mutex
	perMinute float64
	clock     kehu.Clock
	buckets   map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter of perMinute events per key; perMinute <= 0 returns
// nil, which allows everything.
func New(perMinute int, clock kehu.Clock) *Limiter {
	if perMinute <= 0 {
		return nil
	}
	if clock == nil {
		clock = kehu.SystemClock{}
	}
	return &Limiter{perMinute: float64(perMinute), clock: clock, buckets: map[string]*bucket{}}
}

// Allow takes one token from key's bucket. When the bucket is empty it
// returns false and how long until a token is back (for Retry-After).
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxKeys {
			l.sweep(now)
		}
		b = &bucket{tokens: l.perMinute, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.perMinute, b.tokens+now.Sub(b.at).Minutes()*l.perMinute)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.perMinute * float64(time.Minute))
	return false, max(wait, time.Second)
}

// sweep drops buckets that have refilled (they hold no information), and
// everything if the map is still too big.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Minutes()*l.perMinute >= l.perMinute {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxKeys {
		l.buckets = map[string]*bucket{}
	}
}
