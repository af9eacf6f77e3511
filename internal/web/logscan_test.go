package web_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"kehu/internal/org"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/web"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// personalData matches what must never reach a log line in clear: resident
// ID numbers (18 characters), mainland mobiles and card numbers (16–19
// digits). The same pattern as the JSON API's log scan.
var personalData = regexp.MustCompile(`\b\d{17}[\dXx]\b|\b1[3-9]\d{9}\b|\b\d{16,19}\b`)

// brokenOrgs is an organisation store that has gone away, so every page
// that names an organisation fails and logs its path.
type brokenOrgs struct{ org.Store }

func (brokenOrgs) GetOrg(context.Context, int64) (org.Org, error) {
	return org.Org{}, errors.New("organisation store unavailable")
}

// TestLogsHoldNoPersonalData walks the UI with ID, mobile and card numbers
// in paths, queries, forms and sign-in names, on a healthy server and on one
// whose pages fail (so the error log writes paths), and scans the slog
// output of both for those patterns.
func TestLogsHoldNoPersonalData(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		broken := &app{Bank: a.Bank, logs: &syncBuffer{}}
		h, err := web.New(web.Deps{Auth: a.Auth, Customers: a.CustomerService(), Orgs: org.NewService(brokenOrgs{db.Orgs()}),
			Accounts: a.AccountService(), Audit: a.Audit, Clock: a.Clock, Logger: testLogger(broken.logs),
			C360: a.C360Service(), Interactions: a.InteractionService(), Tags: a.TagService()})
		if err != nil {
			t.Fatal(err)
		}
		broken.srv = httptest.NewServer(h)
		t.Cleanup(broken.srv.Close)

		idNumber, mobile, card := a.Customers["a1"].IDNumber, a.Customers["a1"].Mobile, "6222020000000001"
		// Customer 1 addressed with leading zeros: a real page whose path
		// holds an ID-number-shaped run of digits.
		padded := "/customers/" + strings.Repeat("0", 18-len(strconv.FormatInt(a.Customers["a1"].ID, 10))) +
			strconv.FormatInt(a.Customers["a1"].ID, 10)
		paths := []string{padded, "/customers/" + idNumber, "/customers/" + mobile, "/customers/" + card,
			"/customers?q=" + idNumber, "/customers?q=" + mobile, "/customers?q=" + card,
			"/customers?after=" + idNumber, "/audit?actor=" + mobile + "&customer_id=" + idNumber,
			"/audit?customer_id=" + card, "/audit/export?actor=" + idNumber, "/nothing/" + idNumber,
			"/orgs/" + mobile, "/security?x=" + mobile}
		for _, srv := range []*app{a, broken} {
			anon := srv.client(t)
			anon.post("/login", url.Values{"csrf": {anon.csrf(anon.get("/login"))}, "username": {idNumber},
				"password": {mobile}})
			anon.get("/customers/" + idNumber)
			for _, user := range []string{"admin", "rm_a"} {
				c := srv.login(t, user)
				for _, p := range paths {
					c.get(p)
					c.get(p, "HX-Request", "true", "HX-Target", "results")
				}
			}
		}
		if !strings.Contains(broken.logs.String(), `"path":"/customers/*"`) {
			t.Errorf("the failing pages were not logged with a masked path:\n%s", broken.logs.String())
		}
		for name, logs := range map[string]string{"healthy": a.logs.String(), "failing": broken.logs.String()} {
			for _, line := range strings.Split(logs, "\n") {
				if m := personalData.FindString(line); m != "" {
					t.Errorf("%s server logged %q: %s", name, m, line)
				}
			}
		}
	})
}
