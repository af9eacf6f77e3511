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

// bornAt is a database created at a given time on the fake clock (the store
// reports the real time of its first migration).
type bornAt struct {
	nightly.Store
	at time.Time
}

func (b bornAt) Created(context.Context) (time.Time, error) { return b.at, nil }

// setClock moves the fake clock to t (forward only).
func setClock(c *testkit.Clock, t time.Time) { c.Advance(t.Sub(c.Now())) }

// longAgo is a creation time before every fake clock below.
var longAgo = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestNightlyRunsOncePerShanghaiDayAfterTwo(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// 17:30 UTC on 1 March is 01:30 on 2 March in Shanghai.
		clock := testkit.NewClock(time.Date(2026, 3, 1, 17, 30, 0, 0, time.UTC))
		levels, quality := &counter{}, &counter{fail: true}
		s := nightly.New(nightly.Options{Clock: clock, Store: bornAt{db.Nightly(), longAgo},
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
		s2 := nightly.New(nightly.Options{Clock: clock, Store: bornAt{db.Nightly(), longAgo}, Jobs: []nightly.Job{{Name: "levels", Run: other.run}}})
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
		s := nightly.New(nightly.Options{Clock: clock, Store: bornAt{db.Nightly(), longAgo}, Poll: 5 * time.Millisecond,
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

// A server that starts after 02:00 catches up only inside the off-peak
// window; after it the day's work waits for the next night.
func TestNightlyCatchUpOnlyInsideTheWindow(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st := bornAt{db.Nightly(), longAgo}
		// 21:59 UTC on 1 March is 05:59 on 2 March in Shanghai: inside 02:00–06:00.
		clock := testkit.NewClock(time.Date(2026, 3, 1, 21, 59, 0, 0, time.UTC))
		job := &counter{}
		s := nightly.New(nightly.Options{Clock: clock, Store: st, Jobs: []nightly.Job{{Name: "levels", Run: job.run}}})
		if ran, err := s.RunDue(ctx); err != nil || len(ran) != 1 {
			t.Fatalf("start at 05:59: %v %v", ran, err)
		}
		// The next day the server restarts at 10:00 (it was down at 02:00):
		// nothing starts, all day long.
		setClock(clock, time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC))
		for range 14 {
			if ran, err := s.RunDue(ctx); err != nil || len(ran) != 0 {
				t.Fatalf("%s: ran %v %v", clock.Now(), ran, err)
			}
			clock.Advance(time.Hour) // up to 23:00, then 00:00 on 4 March
		}
		if job.count() != 1 {
			t.Fatalf("%d runs", job.count())
		}
		if d, due := s.Due(clock.Now()); due || d.String() != "2026-03-04" {
			t.Fatalf("due at %s: %s %v", clock.Now(), d, due)
		}
		// It runs at the next start, 02:00 on 4 March.
		setClock(clock, time.Date(2026, 3, 3, 18, 0, 0, 0, time.UTC))
		if ran, err := s.RunDue(ctx); err != nil || len(ran) != 1 || job.count() != 2 {
			t.Fatalf("02:00 on 4 March: %v %v", ran, err)
		}
		recs, err := s.Recent(ctx, 10)
		if err != nil || len(recs) != 2 || recs[0].Day.String() != "2026-03-04" || recs[1].Day.String() != "2026-03-02" {
			t.Fatalf("records %+v %v", recs, err)
		}
		// A longer window, configured: a restart at 09:00 still catches up.
		other := &counter{}
		wide := nightly.New(nightly.Options{Clock: clock, Store: st, Window: 8 * time.Hour,
			Jobs: []nightly.Job{{Name: "tags", Run: other.run}}})
		setClock(clock, time.Date(2026, 3, 4, 1, 0, 0, 0, time.UTC)) // 09:00 on 4 March
		if ran, err := wide.RunDue(ctx); err != nil || len(ran) != 1 || other.count() != 1 {
			t.Fatalf("09:00 with an 8 h window: %v %v", ran, err)
		}
		setClock(clock, time.Date(2026, 3, 5, 2, 0, 0, 0, time.UTC)) // 10:00 on 5 March
		if ran, _ := wide.RunDue(ctx); len(ran) != 0 {
			t.Fatalf("10:00 with an 8 h window: %v", ran)
		}
	})
}

// A database created after the day's start (a demo bank made this morning)
// has nothing to catch up for that day, even inside the window.
func TestNightlyNotForADatabaseCreatedThatDay(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		created, err := db.Nightly().Created(ctx)
		if err != nil || created.IsZero() || created.After(time.Now()) || created.Location() != time.UTC {
			t.Fatalf("the store's creation time %v %v", created, err)
		}
		// Created at 03:00 on 2 March in Shanghai, served at 03:10.
		born := time.Date(2026, 3, 1, 19, 0, 0, 0, time.UTC)
		clock := testkit.NewClock(born.Add(10 * time.Minute))
		job := &counter{}
		s := nightly.New(nightly.Options{Clock: clock, Store: bornAt{db.Nightly(), born},
			Jobs: []nightly.Job{{Name: "levels", Run: job.run}}})
		for range 5 {
			if ran, err := s.RunDue(ctx); err != nil || len(ran) != 0 {
				t.Fatalf("%s: ran %v %v", clock.Now(), ran, err)
			}
			clock.Advance(30 * time.Minute)
		}
		setClock(clock, time.Date(2026, 3, 2, 18, 1, 0, 0, time.UTC)) // 02:01 on 3 March
		if ran, err := s.RunDue(ctx); err != nil || len(ran) != 1 || job.count() != 1 {
			t.Fatalf("next night: %v %v", ran, err)
		}
	})
}
