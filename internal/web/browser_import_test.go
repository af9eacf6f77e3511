package web_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kehu/internal/testkit"
)

// TestBrowserImport drives Chromium through a newcomer's first import: sign
// in, open 数据导入, upload the sample customers file of testdata/, check
// the column mapping and the first rows' validation, start, watch the
// progress bar until the job is done, read the rejects, then find and open
// an imported customer. Set KEHU_SCREENSHOT_DIR to keep a screenshot of
// each step.
func TestBrowserImport(t *testing.T) {
	a := newDemoApp(t, testkit.NewDB(t, "sqlite"))
	ctx := testkit.Browser(t)
	shot := screenshotter(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	do, text := browserSteps(t, ctx)
	sample, err := filepath.Abs(filepath.Join("..", "..", "testdata", "customers.csv"))
	if err != nil {
		t.Fatal(err)
	}

	do("sign in as the administrator", signInActions(a.srv.URL+"/imports", "admin", ".sidenav")...)
	do("open 数据导入 from the navigation",
		chromedp.Click(css(`.sidenav a[href="/imports"]`)),
		chromedp.WaitVisible(css("#upload-form")))
	if h := text("main h1"); h != "数据导入" {
		t.Errorf("heading %q", h)
	}
	shot("import-1-upload")

	do("upload the sample customers file",
		chromedp.SetValue(css("#upload-kind"), "customers"),
		chromedp.SetValue(css("#upload-source"), "core_banking"),
		chromedp.SetUploadFiles(css("#upload-file"), []string{sample}),
		chromedp.Click(css("#upload-button")),
		chromedp.WaitVisible(css("#mapping-form")))
	if enc := text("#preview-encoding"); enc != "UTF-8" {
		t.Errorf("detected encoding %q", enc)
	}
	mapped, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#map-4").value`))
	if err != nil || mapped != "id_number" {
		t.Errorf("证件号码 suggested as %q (%v)", mapped, err)
	}
	// Four bad rows show in the preview, as the import will reject them:
	// three invalid, and line 15 repeating line 2's source id.
	if bad, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#preview-table tr.row-bad").length`)); bad != 4 {
		t.Errorf("%d preview rows marked bad, want 4", bad)
	}
	if s := text(`#preview-table [data-repeats="2"]`); !strings.Contains(s, "与第 2 行是同一记录") {
		t.Errorf("the repeated row says %q", s)
	}
	shot("import-2-preview")

	do("start and watch the progress until done",
		chromedp.Click(css("#start-button")),
		chromedp.WaitVisible(css("#job-progress")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#job-status").dataset.status === "done"`)); err != nil {
		t.Fatalf("the job did not finish: %v", err)
	}
	if created, rejected := text("#count-created"), text("#count-rejected"); created != "10" || rejected != "4" {
		t.Errorf("created %s, rejected %s", created, rejected)
	}
	shot("import-3-done")

	report, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(document.querySelector("#rejects-link").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"line,column,reason", "12,id_number,", "14,org_id,", "15,source_id,"} {
		if !strings.Contains(report, want) {
			t.Errorf("the rejects report lacks %q:\n%s", want, report)
		}
	}

	do("find and open an imported customer",
		chromedp.Click(css("#customers-link")),
		chromedp.WaitVisible(css("#q")),
		chromedp.SendKeys(css("#q"), "林晓峰"),
		chromedp.Click(css(".searchbar button.primary")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#results tbody tr").length === 1`)); err != nil {
		t.Fatalf("search results: %v", err)
	}
	do("open the customer", chromedp.Click(css("#results a.strong")), chromedp.WaitVisible(css("#customer-name")))
	if name := text("#customer-name"); !strings.HasPrefix(name, "林晓峰") {
		t.Errorf("customer page heading %q", name)
	}
	shot("import-4-customer")
}
