package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveDemo starts `kehu serve` with a small demo bank on db and returns
// its base URL; the server stops when the test ends.
func serveDemo(t *testing.T, db string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--db", db, "--demo-customers", "300",
		"--require-totp-roles", "none", "--insecure-cookies", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "KEHU_TEST_AS_BINARY=1")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	t.Cleanup(stop)
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "Kehu is serving at "); ok {
			go io.Copy(io.Discard, stdout)
			return strings.TrimSuffix(u, "/")
		}
	}
	t.Fatalf("server did not start: %s", stderr.String())
	return ""
}

// TestDemoMarketingStarterSet: `make run`'s demo bank opens with what a
// marketing operator starts from — templates, segments, a campaign awaiting
// approval, active journeys — entered through the services (so they pass
// their validation), and a second start adds nothing.
func TestDemoMarketingStarterSet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kehu serve twice with a demo bank")
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	count := func(base string) map[string][]map[string]any {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := c.Post(base+"/api/v1/auth/login", "application/json",
			strings.NewReader(`{"username":"`+demoMarketer+`","password":"`+defaultDemoPassword+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("login as %s: %d", demoMarketer, resp.StatusCode)
		}
		out := map[string][]map[string]any{}
		for _, what := range []string{"templates", "segments", "campaigns", "journeys"} {
			r, err := c.Get(base + "/api/v1/" + what)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Items []map[string]any `json:"items"`
			}
			err = json.NewDecoder(r.Body).Decode(&body)
			r.Body.Close()
			if err != nil || r.StatusCode != 200 {
				t.Fatalf("GET %s: %d %v", what, r.StatusCode, err)
			}
			out[what] = body.Items
		}
		return out
	}
	first := count(serveDemo(t, db))
	for what, want := range map[string]int{"templates": 3, "segments": 3, "campaigns": 1, "journeys": 4} {
		if len(first[what]) != want {
			t.Errorf("%d %s, want %d: %v", len(first[what]), what, want, first[what])
		}
	}
	if len(first["campaigns"]) == 1 {
		if st := first["campaigns"][0]["status"]; st != "submitted" {
			t.Errorf("the demo campaign is %v, want submitted (awaiting a checker)", st)
		}
	}
	controlled := map[string]bool{"大额入账关怀": true, "沉睡客户流失预警": true}
	for _, j := range first["journeys"] {
		if j["status"] != "active" {
			t.Errorf("journey %v is %v", j["name"], j["status"])
		}
		// The marketing journeys measure their lift: a control group and a
		// product whose purchase converts.
		def, _ := j["definition"].(map[string]any)
		pct, _ := def["control_pct"].(float64)
		product, _ := def["product_id"].(float64)
		if name, _ := j["name"].(string); controlled[name] != (pct == 10 && product > 0) {
			t.Errorf("journey %s: control_pct %v, product %v", name, def["control_pct"], def["product_id"])
		}
	}
	again := count(serveDemo(t, db))
	for what, items := range first {
		if len(again[what]) != len(items) {
			t.Errorf("second start: %d %s, was %d", len(again[what]), what, len(items))
		}
	}
}
