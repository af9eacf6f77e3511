package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestTagsRecomputeCommand: `kehu tags recompute` on a small demo bank puts
// computed tags on, a second run changes nothing, --json prints the run,
// and bad usage exits 2.
func TestTagsRecomputeCommand(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "k.db")
	if code, _, stderr := run(t, nil, "demo", "--db", dbURL, "--customers", "60"); code != 0 {
		t.Fatalf("demo: %d %s", code, stderr)
	}
	code, stdout, stderr := run(t, nil, "tags", "recompute", "--db", dbURL, "--batch", "7")
	if code != 0 || !strings.Contains(stdout, "computed tags of 60 customers") {
		t.Fatalf("tags recompute: %d %q %q", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, nil, "tags", "recompute", "--db", dbURL, "--json")
	var out struct {
		Status    string
		Trigger   string
		Customers int
		Added     int
		Removed   int
		Changed   int
		AfterID   int64 `json:"after_id"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); code != 0 || err != nil || out.Status != "done" ||
		out.Customers != 60 || out.Trigger != "cli" || out.Added+out.Removed+out.Changed != 0 || out.AfterID == 0 {
		t.Fatalf("tags recompute --json: %d %q %q %v", code, stdout, stderr, err)
	}
	for _, args := range [][]string{{"tags"}, {"tags", "compute"}, {"tags", "recompute", "--batch", "0", "--db", dbURL},
		{"tags", "recompute", "--nope"}} {
		if code, _, stderr := run(t, nil, args...); code != 2 || !strings.Contains(stderr, "kehu:") {
			t.Errorf("kehu %v: exit %d %q", args, code, stderr)
		}
	}
}
