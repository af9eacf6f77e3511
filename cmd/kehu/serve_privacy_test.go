package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kehu/internal/kehu"
	"kehu/internal/privacy"
)

// TestPrivacyFlags: the threshold and the calendar come from flags or the
// environment, a holiday file may carry comments and CRLF, and a bad date
// or threshold stops `kehu serve` with a usage error.
func TestPrivacyFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "holidays")
	if err := os.WriteFile(file, []byte("# 2026 劳动节\r\n2026-05-01,2026-05-04\r\n2026-05-05 # 调休\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KEHU_BULK_THRESHOLD": "250", "KEHU_PRIVACY_HOLIDAYS_FILE": file,
		"KEHU_PRIVACY_WORKDAYS": "2026-05-09"}
	fs := flags(env0(env), "serve")
	p := privacyFlags(fs)
	if err := parse(env0(env), fs, nil); err != nil {
		t.Fatal(err)
	}
	cfg, err := p.config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BulkThreshold != 250 {
		t.Errorf("threshold %d", cfg.BulkThreshold)
	}
	day := func(s string) kehu.Date { d, _ := kehu.ParseDate(s); return d }
	for d, want := range map[string]bool{"2026-04-30": true, "2026-05-01": false, "2026-05-05": false, "2026-05-09": true, "2026-05-10": false} {
		if got := cfg.Calendar.WorkingDay(day(d)); got != want {
			t.Errorf("WorkingDay(%s) = %v", d, got)
		}
	}
	if def := privacyFlags(flag.NewFlagSet("x", flag.ContinueOnError)); def.bulkThreshold != privacy.DefaultBulkThreshold {
		t.Errorf("default threshold %d", def.bulkThreshold)
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "k.db")
	for _, args := range [][]string{{"--bulk-threshold", "0"}, {"--privacy-holidays", "2026-13-01"}, {"--privacy-workdays", "soon"}} {
		code, _, stderr := run(t, nil, append([]string{"serve", "--db", db}, args...)...)
		if code != 2 || !strings.Contains(stderr, strings.TrimPrefix(args[0], "--")) {
			t.Errorf("serve %v: exit %d, %q", args, code, stderr)
		}
	}
}

// env0 is an env reading from m, for flag parsing alone.
func env0(m map[string]string) env {
	return env{stdout: os.Stdout, stderr: os.Stderr, getenv: func(k string) string { return m[k] }}
}
