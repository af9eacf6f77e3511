package nightly_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"kehu/internal/nightly"
	"kehu/internal/store"
	"kehu/internal/testkit"
)

// counter is a job that counts its runs.
type counter struct {
	mu   sync.Mutex
	runs int
	fail bool
}

func (c *counter) run(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs++
	if c.fail {
		return errors.New("boom")
	}
	return nil
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs
}

func TestNightlyRunsOncePerShanghaiDayAfterTwo(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// 17:30 UTC on 1 March is 01:30 on 2 March in Shanghai.
		clock := testkit.NewClock(time.Date(2026, 3, 1, 17, 30, 0, 0, time.UTC))
		levels, quality := &counter{}, &counter{fail: true}
		s := nightly.New(nightly.Options{Clock: clock, Store: db.Nightly(),
			Jobs: []nightly.Job{{Name: "levels", Run: levels.run}, {Name: "quality", Run: quality.run}}})
		if ran, err := s.RunDue(ctx); err != nil || len(ran) != 0 {
			t.Fatalf("before 02:00: %v %v", ran, err)
		}
		clock.Advance(31 * time.Minute) // 02:01
		ran, err := s.RunDue(ctx)
		if err != nil || !slices.Equal(ran, []string{"levels", "quality"}) {
			t.Fatalf("at 02:01: %v %v", ran, err)
		}
		// A failing job is recorded and does not run again that day.
		clock.Advance(3 * time.Hour)
		if ran, _ := s.RunDue(ctx); len(ran) != 0 || levels.count() != 1 || quality.count() != 1 {
			t.Fatalf("again the same day: %v %d %d", ran, levels.count(), quality.count())
		}
		recs, err := s.Recent(ctx, 10)
		if err != nil || len(recs) != 2 {
			t.Fatalf("records %+v %v", recs, err)
		}
		for _, r := range recs {
			want := nightly.StatusDone
			if r.Job == "quality" {
				want = nightly.StatusFailed
			}
			if r.Status != want || r.Day.String() != "2026-03-02" || r.FinishedAt == nil {
				t.Errorf("record %+v", r)
			}
		}
		// A second server on the same database finds today's work claimed.
		other := &counter{}
		s2 := nightly.New(nightly.Options{Clock: clock, Store: db.Nightly(), Jobs: []nightly.Job{{Name: "levels", Run: other.run}}})
		if ran, _ := s2.RunDue(ctx); len(ran) != 0 || other.count() != 0 {
			t.Fatalf("second server ran %v", ran)
		}
		// The next day after 02:00 it runs again.
		clock.Advance(21 * time.Hour) // 02:01 on 3 March
		if ran, _ := s.RunDue(ctx); len(ran) != 2 || levels.count() != 2 {
			t.Fatalf("next day: %v", ran)
		}
	})
}

func TestNightlyLoopStopsWithTheServer(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		clock := testkit.NewClock(time.Date(2026, 3, 1, 17, 59, 0, 0, time.UTC)) // 01:59 in Shanghai
		job := &counter{}
		s := nightly.New(nightly.Options{Clock: clock, Store: db.Nightly(), Poll: 5 * time.Millisecond,
			Jobs: []nightly.Job{{Name: "levels", Run: job.run}}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(30 * time.Millisecond)
		if job.count() != 0 {
			t.Fatal("ran before 02:00")
		}
		clock.Advance(2 * time.Minute)
		deadline := time.Now().Add(5 * time.Second)
		for job.count() == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if job.count() != 1 {
			t.Fatalf("the loop did not run the job at 02:01 (%d runs)", job.count())
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the scheduler did not stop with its context")
		}
		if job.count() != 1 {
			t.Errorf("%d runs", job.count())
		}
	})
}
