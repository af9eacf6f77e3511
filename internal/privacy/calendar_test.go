package privacy

import (
	"testing"
	"time"

	"kehu/internal/kehu"
)

func d(s string) kehu.Date {
	x, err := kehu.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return x
}

func TestDeadlines(t *testing.T) {
	// 2026: Labour Day holiday 1–5 May, with Saturday 9 May a make-up
	// working day (as the State Council announces them).
	hol, err := ParseDates("2026-05-01,2026-05-04 2026-05-05")
	if err != nil {
		t.Fatal(err)
	}
	cal := NewCalendar(hol, []kehu.Date{d("2026-05-09")})
	plain := NewCalendar(nil, nil)
	for _, c := range []struct {
		name string
		cal  Calendar
		from string
		n    int
		want string
	}{
		{"Monday + 15 skips three weekends", plain, "2026-03-02", 15, "2026-03-23"},
		{"Friday + 1 is Monday", plain, "2026-03-06", 1, "2026-03-09"},
		{"Saturday receipt counts from Monday", plain, "2026-03-07", 1, "2026-03-09"},
		{"holidays are skipped", cal, "2026-04-30", 1, "2026-05-06"},
		{"make-up Saturday counts", cal, "2026-05-08", 1, "2026-05-09"},
		{"15 across the May holiday", cal, "2026-04-28", 15, "2026-05-21"},
	} {
		if got := c.cal.AddWorkingDays(d(c.from), c.n).String(); got != c.want {
			t.Errorf("%s: %s + %d = %s, want %s", c.name, c.from, c.n, got, c.want)
		}
	}
	// Receipt late on Friday UTC is already Saturday in Shanghai.
	at := time.Date(2026, 3, 6, 17, 0, 0, 0, time.UTC)
	if got := plain.Deadline(at).String(); got != "2026-03-27" {
		t.Errorf("deadline of a Saturday-morning (Shanghai) receipt = %s, want 2026-03-27", got)
	}
	if _, err := ParseDates("2026-02-30"); err == nil {
		t.Error("an impossible holiday date was accepted")
	}
}
