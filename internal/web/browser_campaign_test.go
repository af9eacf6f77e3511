package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kehu/internal/campaign"
	"kehu/internal/msgtemplate"
	"kehu/internal/outbox"
	"kehu/internal/testkit"
)

// TestBrowserCampaign is the "done when" for campaigns, in Chromium:
// a marketing operator builds an SMS campaign on a segment (its live count
// shown), previews the message, sets a 25% control group and submits it; a
// branch manager approves it; the operator launches it and watches the
// launch finish (the runner of `kehu serve` in the background, the page
// polling); finished but with its messages still queued, it is paused (the
// backlog held) and resumed from its page; the messages go out through the
// file gateway and the results count them.
func TestBrowserCampaign(t *testing.T) {
	a := newApp(t, testkit.NewDB(t, "sqlite"))
	campaignSetup(t, a)
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	waitText := func(sel, want string) { t.Helper(); waitForText(t, ctx, sel, want, 20*time.Second) }
	choose := func(sel, value string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const s = document.querySelector("`+sel+`");
			s.value = "`+value+`"; s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`)); err != nil {
			t.Fatalf("choose %s: %v", sel, err)
		}
	}
	setValue := func(sel, value string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.querySelector("`+sel+`").value = "`+value+`"; return true; })()`)); err != nil {
			t.Fatal(err)
		}
	}

	do("sign in as the marketing operator", signInActions(a.srv.URL+"/login", "hq_marketing", ".sidenav")...)
	do("open 营销活动 and start a new campaign",
		chromedp.Click(css(`.sidenav a[href="/campaigns"]`)),
		chromedp.WaitVisible(css("#new-campaign")),
		chromedp.Click(css("#new-campaign")),
		chromedp.WaitVisible(css("#campaign-form")),
		chromedp.SendKeys(css("#campaign-name"), "春季问候短信"))
	choose("#campaign-segment", "1")
	waitText("#segment-count", "约 4 位客户")
	choose("#campaign-template", "1")
	waitText("#campaign-preview", "【客户银行】张先生您好，春季专享活动开始了，详询李明。退订回T")
	setValue("#campaign-control", "25")
	shot("campaign-1-form")
	do("save and submit",
		chromedp.Click(css("#campaign-save")),
		chromedp.WaitVisible(css("#campaign-notice")),
		chromedp.Click(css("#campaign-submit")))
	// The save's notice is still on the page: wait for the submitted status
	// itself, not for a notice.
	waitText("#campaign-status", "待审批")
	if got := text("#campaign-status"); got != "待审批" {
		t.Fatalf("status after submit %q", got)
	}
	if got := text("#campaign-control"); got != "25%" {
		t.Errorf("control %q", got)
	}
	do("sign out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#username")))

	do("sign in as the branch manager and approve",
		append(signInActions(a.srv.URL+"/login", "branch_manager", ".sidenav"),
			chromedp.Navigate(a.srv.URL+"/campaigns/1"),
			chromedp.WaitVisible(css("#campaign-approve")),
			chromedp.Click(css("#campaign-approve")),
			chromedp.WaitVisible(css("#campaign-notice")))...)
	if got := text("#campaign-status"); got != "已审批" {
		t.Fatalf("status after approval %q", got)
	}
	shot("campaign-2-approved")
	do("sign out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#username")))

	// The server's runner: it claims the run once it is launched.
	runCtx, stop := context.WithCancel(context.Background())
	runner := campaign.NewRunner(a.CampaignService(0, nil), 100*time.Millisecond)
	runner.Start(runCtx)
	t.Cleanup(func() { stop(); runner.Wait() })

	do("sign in as the operator and launch",
		append(signInActions(a.srv.URL+"/login", "hq_marketing", ".sidenav"),
			chromedp.Navigate(a.srv.URL+"/campaigns/1"),
			chromedp.WaitVisible(css("#campaign-launch")),
			chromedp.Click(css("#campaign-launch")),
			chromedp.WaitVisible(css("#campaign-notice")))...)
	do("watch the launch finish", chromedp.WaitVisible(css(`#campaign-progress[data-status="completed"]`)))
	if got := text("#r-audience"); got != "4" {
		t.Errorf("audience %q", got)
	}
	shot("campaign-3-launched")
	queued, _ := strconv.Atoi(text("#r-queued"))
	// a1, a2 and a3 consented: each is queued unless the 25% holdout took it.
	c, err := a.CampaignService(0, nil).Get(a.As("hq_marketing"), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, k := range []string{"a1", "a2", "a3"} {
		if !campaign.InControl(c.Seed, a.Customers[k].ID, 25) {
			want++
		}
	}
	if queued != want {
		t.Fatalf("queued %d, want %d", queued, want)
	}
	if want == 0 {
		return // all three held out (1 in 64): nothing to send
	}

	// Completed, but its messages are still queued (no dispatcher yet):
	// the page offers to pause the backlog; pausing holds it, resuming
	// releases it and the campaign is completed again.
	do("pause the completed campaign's queued backlog",
		chromedp.Navigate(a.srv.URL+"/campaigns/1"),
		chromedp.WaitVisible(css(`#campaign-backlog[data-queued="`+strconv.Itoa(queued)+`"]`)),
		chromedp.Click(css("#campaign-pause")),
		chromedp.WaitVisible(css(`#campaign-held[data-held="`+strconv.Itoa(queued)+`"]`)))
	if got := text("#campaign-status"); got != "已暂停" {
		t.Errorf("status after pausing the backlog %q", got)
	}
	shot("campaign-3b-backlog-held")
	do("resume it", chromedp.Click(css("#campaign-resume")),
		chromedp.WaitVisible(css(`#campaign-status[data-status="completed"]`)),
		chromedp.WaitVisible(css("#campaign-backlog")))
	// The released backlog goes from the resume, a microsecond apart.
	a.Clock.Advance(time.Second)

	// The dispatcher sends through the file gateway.
	dir := t.TempDir()
	gw, err := outbox.NewFileGateway(dir, false, a.Clock)
	if err != nil {
		t.Fatal(err)
	}
	x := outbox.NewDispatcher(outbox.DispatcherDeps{Store: a.DB.Outbox(), Templates: a.DB.Templates(),
		Gateways: map[outbox.Channel]outbox.Gateway{msgtemplate.SMS: gw}, Options: testkit.TemplateOptions, Clock: a.Clock})
	if n, _, err := x.Dispatch(context.Background(), msgtemplate.SMS); err != nil || n != queued {
		t.Fatalf("dispatched %d, %v; want %d", n, err, queued)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "sms-*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("gateway files %v", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); lines++ {
		var l outbox.FileLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Source != "campaign:1" || !strings.Contains(l.Body, "您好，春季专享活动开始了") {
			t.Errorf("line %q: %v", sc.Text(), err)
		}
	}
	if lines != queued {
		t.Errorf("%d lines in the file, %d queued", lines, queued)
	}
	do("reload the results", chromedp.Navigate(a.srv.URL+"/campaigns/1"), chromedp.WaitVisible(css("#campaign-results")))
	if got := text("#r-sent"); got != strconv.Itoa(queued) {
		t.Errorf("sent %q, want %d", got, queued)
	}
	shot("campaign-4-results")
}
