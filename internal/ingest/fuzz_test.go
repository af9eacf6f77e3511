package ingest

import (
	"testing"
	"time"
)

// FuzzEventLines feeds arbitrary bodies through the line splitter and the
// event parser: nothing may panic, every line is accounted for exactly once
// (valid, or with at least one error naming its line), and errors carry
// line numbers that exist.
func FuzzEventLines(f *testing.F) {
	for _, seed := range []string{
		`{"event_id":"e1","channel":"mobile_app","kind":"app_login","occurred_at":"2026-03-02T09:30:00+08:00","customer_id":1}`,
		"\ufeff{\"event_id\":\"e2\"}\r\n\r\n[1]\n{\"detail\":{\"a\":[1,2]}}",
		`{"customer_id":1.5,"id_number":"x"}`,
		`{"event_id":"e3","channel":"wechat","kind":"message","occurred_at":"2026-03-02T09:30:00Z","id_type":"uscc","id_number":"91330106MA2B3C4D5E"}`,
		"\xff\xfe\n{}{}",
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	cfg := Config{MaxLines: 50, MaxLineBytes: 512}.withDefaults()
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, bad, err := splitLines(body, cfg)
		if err != nil {
			return
		}
		s := &Service{cfg: cfg}
		p := s.parseEvents(lines, now)
		seen := map[int]bool{}
		for _, e := range p.events {
			if e.line < 1 || seen[e.line] {
				t.Fatalf("valid line %d counted twice or out of range", e.line)
			}
			seen[e.line] = true
		}
		for _, e := range append(bad, p.errs...) {
			if e.Line < 1 || e.Reason == "" {
				t.Fatalf("error without a line or reason: %+v", e)
			}
			if seen[e.Line] {
				t.Fatalf("line %d is both valid and rejected", e.Line)
			}
		}
		if p.decoded > len(lines) {
			t.Fatalf("decoded %d of %d lines", p.decoded, len(lines))
		}
	})
}
