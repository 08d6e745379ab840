package web

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/servent-p2p/servent/content"
)

const chromiumPath = "/usr/bin/chromium"

var updateDocs = flag.Bool("update-docs", false, "also write the phone screenshot to ../docs/web-phone.png")

// newChromium starts a headless Chromium (flags that work as root in a
// sandboxed container) and returns a tab context bounded by timeout.
func newChromium(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no %s (install Debian's chromium package: apt-get install -y --no-install-recommends chromium): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// phoneVisit is what the browser test does on the page.
type phoneVisit struct {
	pageURL    string
	passphrase string // typed into the login form when set
	query      string
	wantName   string       // the result to download
	wantHash   content.Hash // its content hash
	wantNames  []string     // other results that must show, as text
	noScript   bool         // run with JavaScript disabled
}

// visitAsPhone drives the page at a phone's viewport: log in if asked,
// search, screenshot the results, download wantName and check its bytes
// by BLAKE3 hash. It returns the screenshot (PNG).
func visitAsPhone(t *testing.T, ctx context.Context, v phoneVisit) []byte {
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	if v.noScript {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		must("disable JavaScript", err)
	}
	must("open the page", chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch),
		chromedp.Navigate(v.pageURL),
	))
	if v.passphrase != "" {
		must("log in", chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.CSS(`input[name=passphrase]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=passphrase]`), v.passphrase),
			chromedp.Submit(chromedp.CSS(`input[name=passphrase]`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name=q]`)),
		))
	}
	must("search", chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`input[name=q]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=q]`), v.query),
		chromedp.Submit(chromedp.CSS(`input[name=q]`)),
		// The page before the search has a list with download links too
		// (the kit): wait for the answer's results, or its error.
		chromedp.WaitVisible(chromedp.CSS(`#results a.dl, p.err`)),
	))
	if msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("p.err") || {}).textContent || ""`)); err != nil || msg != "" {
		t.Fatalf("the search page says %q (%v)", msg, err)
	}
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#results .name")).map(e => e.firstChild.textContent)`))
	must("read the results", err)
	idx := -1
	for i, n := range names {
		if n == v.wantName {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("results %q lack %q", names, v.wantName)
	}
	for _, want := range v.wantNames {
		if !slices.Contains(names, want) {
			t.Errorf("results %q lack %q shown as text", names, want)
		}
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#results script, #results b").length`)); err != nil || n != 0 {
		t.Errorf("%d elements made from file names (%v)", n, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	must("screenshot", err)

	if h := tapDownload(t, ctx, `#results li:nth-child(`+strconv.Itoa(idx+1)+`) a.dl`); h != v.wantHash {
		t.Fatalf("downloaded bytes hash to %s, want %s", h, v.wantHash)
	}
	return shot
}

// tapDownload taps the download link sel, waits for the browser to save
// the file and returns its BLAKE3 hash.
func tapDownload(t *testing.T, ctx context.Context, sel string) content.Hash {
	t.Helper()
	h, _, _, err := content.HashFile(tapSave(t, ctx, sel))
	if err != nil {
		t.Fatalf("hash the download: %v", err)
	}
	return h
}

// tapSave taps the download link sel, waits for the browser to save the
// file and returns its path.
func tapSave(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	dir := t.TempDir()
	events := true
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events,
	})
	must("allow downloads", err)
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	must("tap download", chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))))
	var guid string
	for ev, err := range progress {
		must("wait for the download", err)
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the browser cancelled the download")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	return filepath.Join(dir, guid)
}

// uploadAsPhone picks a file in the page's upload form and sends it; it
// returns the page's message.
func uploadAsPhone(t *testing.T, ctx context.Context, file string) string {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS(`input[type=file]`), []string{file}),
		chromedp.Submit(chromedp.CSS(`input[type=file]`)),
		chromedp.WaitVisible(chromedp.CSS(`.msg.ok, .msg.err`)),
	); err != nil {
		t.Fatalf("upload: %v", err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.msg.ok, .msg.err`)))
	if err != nil {
		t.Fatalf("upload message: %v", err)
	}
	return msg
}

// saveScreenshot keeps the phone screenshot: in $SERVENT_ARTIFACTS when set,
// and in ../docs/web-phone.png with -update-docs.
func saveScreenshot(t *testing.T, png []byte) {
	t.Helper()
	var paths []string
	if dir := os.Getenv("SERVENT_ARTIFACTS"); dir != "" {
		paths = append(paths, filepath.Join(dir, "web-phone.png"))
	}
	if *updateDocs {
		paths = append(paths, filepath.Join("..", "docs", "web-phone.png"))
	}
	for _, p := range paths {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Errorf("saving the screenshot: %v", err)
		} else {
			t.Logf("phone screenshot saved to %s", p)
		}
	}
}
