package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kehu/internal/testkit"
)

// server is a kehu serve process started from this test binary.
type server struct {
	cmd  *exec.Cmd
	base string
}

func startServer(t *testing.T, dbURL string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--db", dbURL, "--insecure-cookies", "--log-level", "warn")
	// PostgreSQL gets no generated key file: the server needs keys given.
	cmd.Env = append(os.Environ(), "KEHU_TEST_AS_BINARY=1", "KEHU_KEYS="+testkit.TestKeysAES)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "Kehu is serving at "); ok {
			go io.Copy(io.Discard, stdout)
			return &server{cmd: cmd, base: strings.TrimSuffix(u, "/")}
		}
	}
	cmd.Wait()
	t.Fatalf("server did not start: %s", stderr.String())
	return nil
}

func (s *server) login(t *testing.T, user, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(s.base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.Token == "" {
		t.Fatalf("login %s: status %d, %v", user, resp.StatusCode, err)
	}
	return out.Token
}

func (s *server) do(method, path, token string, body any) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return http.DefaultClient.Do(req)
}

// TestAcknowledgedWritesSurviveKill streams customer creations from four
// clients, kills the server with SIGKILL mid-stream, restarts it and reads
// back every customer whose creation was acknowledged with 201.
func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	for _, engine := range testkit.Engines {
		t.Run(engine, func(t *testing.T) {
			url := testkit.DBURL(t, engine)
			if code, _, stderr := run(t, nil, "init", "--db", url, "--bank", "耐久银行", "--password", "Head-office-2026"); code != 0 {
				t.Fatalf("init: %s", stderr)
			}
			srv := startServer(t, url)
			token := srv.login(t, "admin", "Head-office-2026")

			type ack struct {
				id       int64
				idNumber string
			}
			var (
				mu     sync.Mutex
				acked  []ack
				count  atomic.Int64
				killed = make(chan struct{})
				wg     sync.WaitGroup
			)
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						birth := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)
						idNumber := testkit.ResidentID(fmt.Sprintf("110101%s%03d", birth.Format("20060102"), w))
						resp, err := srv.do("POST", "/api/v1/customers", token, map[string]any{
							"type": "individual", "name": "耐久测试", "id_type": "resident_id", "id_number": idNumber, "org_id": 1})
						if err != nil {
							return // the server is gone
						}
						var c struct{ ID int64 }
						err = json.NewDecoder(resp.Body).Decode(&c)
						resp.Body.Close()
						if resp.StatusCode != http.StatusCreated || err != nil {
							select {
							case <-killed:
								return
							default:
								t.Errorf("create: status %d, %v", resp.StatusCode, err)
								return
							}
						}
						mu.Lock()
						acked = append(acked, ack{c.ID, idNumber})
						mu.Unlock()
						count.Add(1)
					}
				}()
			}
			deadline := time.Now().Add(2 * time.Minute)
			for count.Load() < 300 && time.Now().Before(deadline) && !t.Failed() {
				time.Sleep(5 * time.Millisecond)
			}
			close(killed)
			if err := srv.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown code runs
				t.Fatal(err)
			}
			wg.Wait()
			srv.cmd.Wait()
			if len(acked) < 300 {
				t.Fatalf("only %d writes were acknowledged before the deadline", len(acked))
			}

			srv = startServer(t, url)
			token = srv.login(t, "admin", "Head-office-2026")
			for _, a := range acked {
				// Found again by its exact ID number: the row and its blind
				// index both survived (the number itself is masked on output).
				resp, err := srv.do("GET", "/api/v1/customers?q="+a.idNumber, token, nil)
				if err != nil {
					t.Fatal(err)
				}
				var page struct {
					Items []struct {
						ID int64 `json:"id"`
					} `json:"items"`
				}
				json.NewDecoder(resp.Body).Decode(&page)
				resp.Body.Close()
				if resp.StatusCode != 200 || len(page.Items) != 1 || page.Items[0].ID != a.id {
					t.Fatalf("acknowledged customer %d (%s) lost after kill -9: status %d, found %+v",
						a.id, a.idNumber, resp.StatusCode, page.Items)
				}
			}
			t.Logf("%d acknowledged writes all present after kill -9", len(acked))
		})
	}
}
