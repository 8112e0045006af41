package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip/internal/testenv"
)

// ScreenshotDir is where the browser tests keep what they saw, a phone and a
// desktop picture of each page (the README names it). It is kept out of git.
const ScreenshotDir = "screenshots"

// viewport is a browser window size the pages are tested at.
type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

var (
	phone   = viewport{"phone", 430, 932, true}
	desktop = viewport{"desktop", 1280, 800, false}
	sizes   = []viewport{phone, desktop}
)

// The browser: one headless Chromium for the package (Debian's, as
// scripts/deps.sh --test installs it), a fresh browser context (its own
// storage) per tab.
var chrome struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func browserContext(t testing.TB) context.Context {
	t.Helper()
	path := testenv.Tool(t, "chromium")
	chrome.once.Do(func() {
		dir, err := os.MkdirTemp("", "shopclip-chromium-")
		if err != nil {
			chrome.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.UserDataDir(dir),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("mute-audio", true),
			chromedp.Flag("hide-scrollbars", true),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		if err := chromedp.Do(ctx); err != nil { // starts the browser
			chrome.err = err
		}
		chrome.ctx = ctx
		chrome.cancel = func() {
			cancel()
			cancelAlloc()
			os.RemoveAll(dir)
		}
	})
	if chrome.err != nil {
		testenv.Unavailable(t, "chromium does not start: %v", chrome.err)
	}
	return chrome.ctx
}

func stopBrowser() {
	if chrome.cancel != nil {
		chrome.cancel()
	}
}

// tab is a page in its own browser context at a viewport. The test fails
// on any uncaught exception or error the page logs (a CSP refusal among
// them), unless the test expects them (tab.allowErrors).
type tab struct {
	t   *testing.T
	ctx context.Context
	vp  viewport

	mu      sync.Mutex
	errs    []string
	allowed []string // substrings of errors the test expects
}

func newTab(t *testing.T, vp viewport) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserContext(t), chromedp.WithNewBrowserContext())
	tb := &tab{t: t, ctx: ctx, vp: vp}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == "error" {
				tb.mu.Lock()
				msg := string(m.Type) + ": " + m.Text
				if m.URL != "" {
					msg += " (" + m.URL + ")"
				}
				tb.errs = append(tb.errs, msg)
				tb.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		tb.mu.Lock()
		for _, e := range tb.errs {
			if !tb.expected(e) {
				t.Errorf("%s: the page logged %s", vp.name, e)
			}
		}
		tb.mu.Unlock()
		cancel()
		<-done
	})
	opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	tb.do(chromedp.EmulateViewport(vp.width, vp.height, opts...))
	return tb
}

func (tb *tab) expected(err string) bool {
	for _, a := range tb.allowed {
		if strings.Contains(err, a) {
			return true
		}
	}
	return false
}

// allowErrors lets the page log errors containing any of subs.
func (tb *tab) allowErrors(subs ...string) {
	tb.mu.Lock()
	tb.allowed = append(tb.allowed, subs...)
	tb.mu.Unlock()
}

// errors returns what the page logged as errors so far.
func (tb *tab) errors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.errs...)
}

// do runs actions with a deadline, failing the test on error.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", tb.vp.name, err)
	}
}

// open navigates to url and waits until the page has loaded.
func (tb *tab) open(url string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: evaluate %.120q: %v", tb.vp.name, expr, err)
	}
	return v
}

// waitJS waits until the expression is true.
func (tb *tab) waitJS(what, expr string, timeout time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		// An evaluation that fails (the page is navigating) is tried again.
		ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")", chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s: timed out after %s waiting for %s (last error: %v)", tb.vp.name, timeout, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshot keeps a picture of the viewport as ScreenshotDir/name-viewport.png.
func (tb *tab) screenshot(name string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("%s: screenshot: %v", tb.vp.name, err)
	}
	if err := os.MkdirAll(ScreenshotDir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	path := filepath.Join(ScreenshotDir, name+"-"+tb.vp.name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	return path
}

// visibleJS is a JavaScript function that says whether an element is seen:
// a box of non-zero size, not display:none, not visibility:hidden and not
// transparent (its own opacity and every ancestor's).
const visibleJS = `(el) => {
  if (!el || !el.isConnected) return false;
  const r = el.getBoundingClientRect();
  if (r.width <= 0 || r.height <= 0) return false;
  const s = getComputedStyle(el);
  if (s.display === 'none' || s.visibility !== 'visible') return false;
  for (let e = el; e; e = e.parentElement) if (Number(getComputedStyle(e).opacity) === 0) return false;
  return true;
}`
