package testkit

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BrowserTimeout bounds a whole browser test, so a hung page fails the test
// instead of the suite's global timeout.
const BrowserTimeout = 90 * time.Second

// browserNames are tried in PATH after CHROME_PATH and /usr/bin/chromium.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// FindBrowser returns the Chromium executable to use, or "" when none is
// installed: CHROME_PATH if set, else /usr/bin/chromium, else the first of
// browserNames found in PATH.
func FindBrowser() string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	if st, err := os.Stat("/usr/bin/chromium"); err == nil && !st.IsDir() {
		return "/usr/bin/chromium"
	}
	for _, n := range browserNames {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// Browser starts a fresh headless Chromium for the test and returns a
// chromedp context for one tab. The browser gets its own profile in
// t.TempDir() and no background traffic (sync, updates, QUIC), so tests are
// isolated and quiet; it is stopped when the test ends. Without a browser the
// test skips — or fails under KEHU_TEST_STRICT=1.
func Browser(t testing.TB) context.Context {
	t.Helper()
	path := FindBrowser()
	if path == "" {
		Skip(t, "no Chromium found (set CHROME_PATH or install chromium)")
	}
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1366, 768),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Like a branch PC's Chinese Windows, whatever the test machine's
		// locale, so pages render in the default language unless switched.
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
	}
	for _, f := range []string{"headless", "no-sandbox", "disable-gpu", "disable-background-networking",
		"disable-component-update", "disable-sync", "no-first-run", "disable-quic", "disable-dev-shm-usage"} {
		opts = append(opts, chromedp.Flag(f, true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, BrowserTimeout)
	// Cleanups run last-in first-out: the tab closes, then the browser exits,
	// then t.TempDir removes the profile it no longer writes to.
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelTab)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return ctx
}
