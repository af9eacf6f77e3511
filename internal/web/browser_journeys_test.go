package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kehu/internal/httpapi"
	"kehu/internal/ingest"
	"kehu/internal/journey"
	"kehu/internal/msgtemplate"
	"kehu/internal/org"
	"kehu/internal/privacy"
	"kehu/internal/testkit"
)

// TestBrowserJourneyFiresOnLiveEvent is the issue's "watch a journey fire
// on a live event": in Chromium a marketing operator opens 客户旅程, creates
// a large-inflow journey that sends an SMS; a core-banking feed then posts a
// ¥150,000 credit to POST /api/v1/ingest/transactions; the engine, woken by
// the feed's subscriber, fires within seconds, and the operator sees the
// firing with its queued message and the results on the journey's page.
func TestBrowserJourneyFiresOnLiveEvent(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	b := a.Bank
	b.AddPortfolio(t)
	a1 := b.Customers["a1"].ID
	if _, err := b.PrivacyService().SetConsents(b.As("admin"), a1,
		[]privacy.ConsentChange{{Channel: "sms", Granted: true}}, "counter"); err != nil {
		t.Fatal(err)
	}
	tm, err := b.TemplateService().Create(b.As("hq_marketing"), msgtemplate.Input{Name: "大额到账关怀",
		Channel: msgtemplate.SMS, Purpose: msgtemplate.Marketing, Content: msgtemplate.Content{
			Body: "【客户银行】{{salutation}}，您有一笔{{amount_wan}}到账，{{rm_name}}将为您推荐稳健理财。退订回T"}})
	if err != nil {
		t.Fatal(err)
	}
	// The engine runs as in `kehu serve`: the feed's subscriber wakes it.
	engine := b.JourneyEngine(journey.Options{Tick: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { engine.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	api := httptest.NewServer(httpapi.Middleware(httpapi.New(httpapi.Deps{Auth: b.Auth, Customers: b.CustomerService(),
		Entitlements: b.EntitlementService(), Orgs: org.NewService(b.DB.Orgs()), Audit: b.Audit, Clock: b.Clock,
		Ingest: b.IngestService(t, ingest.Config{}, engine.Notify)}), nil, httpapi.NewMetrics()))
	t.Cleanup(api.Close)

	bctx := testkit.Browser(t)
	shot := screenshotter(t, bctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, bctx)
	do("sign in as the marketing operator", signInActions(a.srv.URL+"/login", "hq_marketing", ".sidenav")...)
	do("open 客户旅程 from the navigation", chromedp.Click(css(`.sidenav a[href="/journeys"]`)),
		chromedp.WaitVisible(css("#journey-list-empty")))
	do("start a new journey", chromedp.Click(css("#new-journey")), chromedp.WaitVisible(css("#journey-form")))
	do("define a large inflow of at least ¥100,000 that sends the SMS",
		chromedp.SendKeys(css("#journey-name"), "大额入账关怀"),
		chromedp.SetValue(css("#journey-trigger"), "large_inflow"),
		chromedp.SetValue(css("#journey-min-amount"), "100000"),
		chromedp.SetValue(css("#journey-channel"), "sms"),
		chromedp.SetValue(css("#journey-template"), strconv.FormatInt(tm.ID, 10)))
	shot("journeys-1-editor")
	do("save", chromedp.Click(css("#journey-save")), chromedp.WaitVisible(css("#journey-notice")))
	if got := text("#journey-notice"); got != "旅程已创建并开始运行。" {
		t.Errorf("notice %q", got)
	}
	if got := text("#journey-status"); got != "运行中" {
		t.Errorf("status %q", got)
	}
	if got := text("#results-fired"); got != "0" {
		t.Errorf("fired before any event: %q", got)
	}
	page, err := chromedp.Run(bctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil || !strings.HasPrefix(page, "/journeys/") {
		t.Fatalf("after saving the page is %q (%v)", page, err)
	}

	// The feed: a token with data.ingest only, one transaction line.
	token := ingestToken(t, api.URL, b.Clock.Now())
	line := `{"source_system":"core_banking","reference":"T-LIVE-0001","account_no":"` + testkit.AccountNo(1) +
		`","occurred_at":"2026-03-02 09:29:00","amount":"150000.00","direction":"贷","kind":"transfer_in","channel":"手机银行"}` + "\n"
	req, _ := http.NewRequest("POST", api.URL+"/api/v1/ingest/transactions", strings.NewReader(line))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var report struct{ Accepted int }
	_ = json.NewDecoder(res.Body).Decode(&report)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || report.Accepted != 1 {
		t.Fatalf("ingest: %d, %+v", res.StatusCode, report)
	}

	// The operator reloads the journey's page until the firing shows.
	deadline := time.Now().Add(10 * time.Second)
	for {
		do("reload the journey", chromedp.Navigate(a.srv.URL+page), chromedp.WaitVisible(css("#journey-firings")))
		if n, _ := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#firing-list tbody tr").length`)); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the journey did not fire within 10 s of the ingested transaction")
		}
		time.Sleep(300 * time.Millisecond)
	}
	shot("journeys-2-fired")
	if got := text("#firing-list tbody tr td:nth-child(4)"); !strings.Contains(got, "发送消息：已排队发送") {
		t.Errorf("firing outcome %q", got)
	}
	if got := text("#firing-list tbody tr td:nth-child(2)"); got != "#"+strconv.FormatInt(a1, 10) {
		t.Errorf("firing customer %q", got)
	}
	if got := text("#results-fired"); got != "1" {
		t.Errorf("results fired %q", got)
	}
	if got := text("#results-actions tbody"); !strings.Contains(got, "已排队发送") || !strings.Contains(got, "1") {
		t.Errorf("results actions %q", got)
	}
	// The queued message is in the outbox, with the amount for the template.
	var key, data string
	if err := b.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRow(`SELECT dedup_key, data FROM outbox_messages WHERE source_kind = 'journey' AND customer_id = $1
			AND status = 'queued'`, a1).Scan(&key, &data)
	}); err != nil {
		t.Fatalf("queued message: %v", err)
	}
	if !strings.Contains(data, `"amount":15000000`) {
		t.Errorf("message data %s", data)
	}

	// 旅程效果: from the journey's page to the charts of its results.
	do("open the journey's results", chromedp.Click(css("#journey-results-link")),
		chromedp.WaitVisible(css("#funnel-chart")), chromedp.WaitVisible(css("#conversion-chart")))
	shot("journeys-3-results")
	// SVG text has no innerText: read textContent.
	svgText := func(sel string) string {
		got, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.querySelector(`+"`"+sel+"`"+`) || {}).textContent || ""`))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return strings.TrimSpace(got)
	}
	if got := svgText(`#funnel-chart g[data-stage="fired"] text.value`); got != "1 · 100.0%" {
		t.Errorf("funnel fired %q", got)
	}
	if got := svgText(`#funnel-chart g[data-stage="treatment"] text.label`); got != "实验组（执行动作）" {
		t.Errorf("funnel treatment label %q", got)
	}
	if got := svgText(`#conversion-chart g[data-group="treatment"] text.label`); got != "实验组 0.00%" {
		t.Errorf("conversion treatment %q", got)
	}
	if got := text("#lift-text"); got != "没有对照组，无法计算提升。" {
		t.Errorf("lift text %q", got)
	}
	href, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("#results-export").getAttribute("href")`))
	if err != nil || !strings.HasSuffix(href, "/results.xlsx?lang=zh-CN") {
		t.Errorf("export link %q (%v)", href, err)
	}
}

// ingestToken signs in as admin on the API and creates a token that may only
// feed.
func ingestToken(t *testing.T, base string, now time.Time) string {
	t.Helper()
	post := func(path, token string, body any) map[string]any {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(string(raw)))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode >= 300 {
			t.Fatalf("%s: %d %v", path, res.StatusCode, out)
		}
		return out
	}
	session := post("/api/v1/auth/login", "", map[string]string{"username": "admin", "password": testkit.Password})
	tok := post("/api/v1/me/tokens", session["token"].(string), map[string]any{"name": "core-feed",
		"scopes": []string{"data.ingest"}, "expires_at": now.Add(24 * time.Hour).Format(time.RFC3339)})
	return tok["token"].(string)
}
