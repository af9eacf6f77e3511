package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kehu/internal/org"
	"kehu/internal/store"
	"kehu/internal/testkit"
	"kehu/internal/web"
)

// newDemoApp is a UI server over a small demo bank, whose outlets and staff
// the sample files in testdata/ name.
func newDemoApp(t *testing.T, db *store.DB) *app {
	t.Helper()
	b := testkit.NewDemoBank(t, db, 30)
	logs := &syncBuffer{}
	h, err := web.New(web.Deps{Auth: b.Auth, Customers: b.CustomerService(), Orgs: org.NewService(db.Orgs()),
		Accounts: b.AccountService(), Entitlements: b.EntitlementService(), Audit: b.Audit, Clock: b.Clock,
		Logger: testLogger(logs), C360: b.C360Service(), Interactions: b.InteractionService(), Tags: b.TagService(),
		Levels: b.LevelService(), Merger: b.Merger(), Imports: b.ImportService(t, 0)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &app{Bank: b, srv: srv, logs: logs}
}

// upload posts the upload form of the 数据导入 page: the token, kind and
// source first, then the file, as the page's form sends them.
func (c *client) upload(csrf, kind, source, name string, content []byte) response {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if csrf != "" {
		_ = w.WriteField("csrf", csrf)
	}
	_ = w.WriteField("kind", kind)
	_ = w.WriteField("source_system", source)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest("POST", c.app.srv.URL+"/imports/upload", &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var jobLink = regexp.MustCompile(`/imports/jobs/(\d+)`)

func TestImportPages(t *testing.T) {
	testkit.EachEngine(t, func(t *testing.T, db *store.DB) {
		a := newDemoApp(t, db)
		c := a.login(t, "admin")
		page := c.get("/imports")
		if page.status != http.StatusOK {
			t.Fatalf("imports page: %d", page.status)
		}
		mustContain(t, page.body, "数据导入", `id="upload-form"`, `value="core_banking"`, "客户")
		// Without the form's token nothing is stored.
		if r := c.upload("", "customers", "core_banking", "c.csv", sample(t, "customers.csv")); r.status != http.StatusForbidden {
			t.Errorf("upload without token: %d", r.status)
		}
		r := c.upload(c.csrf(page), "customers", "core_banking", "customers.csv", sample(t, "customers.csv"))
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/imports/uploads/") {
			t.Fatalf("upload: %d %q", r.status, r.location)
		}
		prev := c.get(r.location)
		mustContain(t, prev.body, `id="mapping-form"`, `<option value="id_number" selected>`, "UTF-8", "check digit",
			`class="row-bad"`)
		mustNotContain(t, prev.body, "330106198005120017") // the first row's ID number, masked
		// Start with the suggested mapping.
		form := url.Values{"csrf": {c.csrf(prev)}, "kind": {"customers"}, "source_system": {"core_banking"}, "step": {"start"}}
		for i, col := range []string{"source_id", "type", "name", "id_type", "id_number", "mobile", "gender", "birth_date",
			"address", "org_id", "owner_id", "risk_level", "risk_assessed_at", "email"} {
			form.Set("m"+strconv.Itoa(i), col)
		}
		id := strings.TrimPrefix(strings.SplitN(r.location, "?", 2)[0], "/imports/uploads/")
		started := c.post("/imports/uploads/"+id, form)
		if started.status != http.StatusSeeOther || !jobLink.MatchString(started.location) {
			t.Fatalf("start: %d %q %s", started.status, started.location, started.body)
		}
		job := waitJobPage(t, c, started.location)
		mustContain(t, job.body, `id="count-created">10<`, `id="count-rejected">4<`, `id="rejects-link"`)
		frag := c.get(started.location, "HX-Request", "true")
		if !strings.HasPrefix(strings.TrimSpace(frag.body), `<section class="card import-progress"`) {
			t.Errorf("htmx fragment %q", frag.body[:min(200, len(frag.body))])
		}
		csv := c.get(started.location + "/rejects")
		if csv.status != http.StatusOK || !strings.Contains(csv.body, "line,column,reason") || !strings.Contains(csv.body, "org_id") {
			t.Errorf("rejects CSV %d %q", csv.status, csv.body)
		}
		// The job list shows it; a teller has neither the page nor the link.
		mustContain(t, c.get("/imports").body, started.location)
		teller := a.login(t, "hz01_teller1")
		if p := teller.get("/imports"); p.status != http.StatusForbidden {
			t.Errorf("teller on /imports: %d", p.status)
		}
		mustNotContain(t, teller.get("/customers").body, `href="/imports"`)
	})
}

// waitJobPage reloads a job page until the job has finished.
func waitJobPage(t *testing.T, c *client, path string) response {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		p := c.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("job page: %d", p.status)
		}
		if strings.Contains(p.body, `data-status="done"`) || strings.Contains(p.body, `data-status="failed"`) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not finish: %s", p.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
