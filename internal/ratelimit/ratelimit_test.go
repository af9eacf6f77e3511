package ratelimit_test

import (
	"testing"
	"time"

	"kehu/internal/ratelimit"
	"kehu/internal/testkit"
)

func TestLimiter(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	l := ratelimit.New(10, clock)
	for i := range 10 {
		if ok, _ := l.Allow("ip:1"); !ok {
			t.Fatalf("event %d refused", i+1)
		}
	}
	ok, wait := l.Allow("ip:1")
	if ok || wait != 6*time.Second {
		t.Fatalf("11th event: %v, wait %v", ok, wait)
	}
	if ok, _ := l.Allow("ip:2"); !ok {
		t.Error("another key shares the bucket")
	}
	clock.Advance(6 * time.Second)
	if ok, _ := l.Allow("ip:1"); !ok {
		t.Error("not refilled after 6 s")
	}
	if ok, _ := l.Allow("ip:1"); ok {
		t.Error("refilled more than one token")
	}
	var none *ratelimit.Limiter = ratelimit.New(0, clock)
	if ok, _ := none.Allow("x"); !ok {
		t.Error("a nil limiter refused")
	}
}
