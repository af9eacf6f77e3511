package ratelimit_test

import (
	"testing"
	"time"

	"kehu/internal/ratelimit"
	"kehu/internal/testkit"
)

func TestRatePaces(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := ratelimit.NewRate(10, 0, clock) // 10 a second, burst 10
	if w := r.Take(10); w != 0 {
		t.Fatalf("the first burst waits %v", w)
	}
	if w := r.Take(5); w != 500*time.Millisecond {
		t.Fatalf("5 past the burst: wait %v, want 500ms", w)
	}
	clock.Advance(time.Second) // pays the debt and refills 5
	if w := r.Take(5); w != 0 {
		t.Fatalf("after a second: wait %v", w)
	}
	if w := r.Take(1); w != 100*time.Millisecond {
		t.Fatalf("one more: wait %v", w)
	}
	var none *ratelimit.Rate
	if none.Take(1000) != 0 || ratelimit.NewRate(0, 0, clock) != nil {
		t.Fatal("a zero rate paces")
	}
}
