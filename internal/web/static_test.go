package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"kehu/internal/testkit"
)

func TestStaticAssets(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	c := a.client(t)
	page := c.get("/login")
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if cc := page.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("page Cache-Control %q", cc)
	}
	if strings.Contains(page.body, "<script>") || regexp.MustCompile(`\sstyle=|\son[a-z]+=`).MatchString(page.body) {
		t.Error("inline script, style or event handler in the page: the CSP would block it")
	}
	urls := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(page.body, -1)
	if len(urls) != 3 {
		t.Fatalf("static URLs in the login page: %v", urls)
	}
	for _, m := range urls {
		if !regexp.MustCompile(`\.[0-9a-f]{10}\.[a-z]+$`).MatchString(m[1]) {
			t.Errorf("%s is not content-hashed", m[1])
		}
		res := c.get(m[1], "Accept-Encoding", "gzip")
		if res.status != http.StatusOK || res.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: %d %q", m[1], res.status, res.header.Get("Cache-Control"))
		}
		if res.header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s is not compressed", m[1])
		}
		etag := res.header.Get("ETag")
		if res := c.get(m[1], "If-None-Match", etag); res.status != http.StatusNotModified {
			t.Errorf("%s revalidation: %d", m[1], res.status)
		}
	}
	if res := c.get("/static/vendor/htmx/LICENSE"); res.status != http.StatusOK || res.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("plain URL: %d %q", res.status, res.header.Get("Cache-Control"))
	}
	if res := c.get("/static/nope.js"); res.status != http.StatusNotFound {
		t.Errorf("missing asset: %d", res.status)
	}
	if res := c.get("/static/vendor/htmx/htmx.min.js"); !strings.HasPrefix(res.header.Get("Content-Type"), "text/javascript") {
		t.Errorf("htmx content type %q", res.header.Get("Content-Type"))
	}
}
