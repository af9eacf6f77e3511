package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestLevelsAndQualityCommands: `kehu levels recompute` and `kehu quality
// measure` on a small demo bank, with their JSON forms and usage errors.
func TestLevelsAndQualityCommands(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "k.db")
	if code, _, stderr := run(t, nil, "demo", "--db", dbURL, "--customers", "40"); code != 0 {
		t.Fatalf("demo: %d %s", code, stderr)
	}
	code, stdout, stderr := run(t, nil, "levels", "recompute", "--db", dbURL)
	if code != 0 || !strings.Contains(stdout, "levels of 40 customers recomputed under rule version 1") {
		t.Fatalf("levels recompute: %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = run(t, nil, "levels", "recompute", "--db", dbURL, "--json")
	var runOut struct {
		Status    string
		Customers int
		Trigger   string
	}
	if err := json.Unmarshal([]byte(stdout), &runOut); code != 0 || err != nil || runOut.Status != "done" ||
		runOut.Customers != 40 || runOut.Trigger != "cli" {
		t.Fatalf("levels recompute --json: %d %q %v", code, stdout, err)
	}
	code, stdout, stderr = run(t, nil, "quality", "measure", "--db", dbURL, "--json")
	var q struct {
		Status      string
		RowsScanned int64 `json:"rows_scanned"`
	}
	if err := json.Unmarshal([]byte(stdout), &q); code != 0 || err != nil || q.Status != "done" || q.RowsScanned < 40 {
		t.Fatalf("quality measure: %d %q %q %v", code, stdout, stderr, err)
	}
	for _, args := range [][]string{{"levels"}, {"levels", "compute"}, {"quality", "run"}, {"levels", "recompute", "--nope"}} {
		if code, _, stderr := run(t, nil, args...); code != 2 || !strings.Contains(stderr, "kehu:") {
			t.Errorf("kehu %v: exit %d %q", args, code, stderr)
		}
	}
}
