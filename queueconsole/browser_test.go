package queueconsole_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/queueconsole"
	"github.com/shopclip/shopclip/workers"
)

// screenshotDir is where the browser test keeps what it saw (kept out of
// git, as web's are).
const screenshotDir = "screenshots"

// The browser: one headless Chromium for the package, a fresh browser
// context (its own cookies) per tab, as in web's browser tests.
var chrome struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func browser(t testing.TB) context.Context {
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
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("hide-scrollbars", true),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		if err := chromedp.Do(ctx); err != nil {
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

// TestBrowser: an admin signs in through the studio's form on the way to
// the console, which runs under its Content-Security-Policy without one
// refusal or error, shows shopclip's queues, and looks like a console at a
// phone's size and a desktop's.
func TestBrowser(t *testing.T) {
	e := newEnv(t, false)
	admin := e.users["admin"]
	for _, vp := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{
		{"phone", 430, 932, true},
		{"desktop", 1280, 800, false},
	} {
		t.Run(vp.name, func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(browser(t), chromedp.WithNewBrowserContext())
			defer cancel()
			ctx, cancelRun := context.WithTimeout(ctx, 90*time.Second)
			defer cancelRun()
			var mu sync.Mutex
			var logged []string
			msgs := chromedp.Console(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for m, err := range msgs {
					if err != nil {
						return
					}
					if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning && m.Source == "security" {
						mu.Lock()
						logged = append(logged, m.String()+" ("+m.URL+")")
						mu.Unlock()
					}
				}
			}()
			opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
			if vp.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, actions...); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			do("open the console signed out", chromedp.EmulateViewport(vp.width, vp.height, opts...),
				chromedp.Navigate(e.srv.URL+queueconsole.Path), chromedp.WaitReady(chromedp.CSS(`input[name=email]`)))
			if loc := eval[string](t, ctx, `location.pathname + location.search`); !strings.HasPrefix(loc, "/studio/login?next=") {
				t.Fatalf("signed out, the console sent the browser to %s, want the sign-in", loc)
			}
			do("sign in", chromedp.SendKeys(chromedp.CSS(`input[name=email]`), admin.email),
				chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
				chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
			waitJS(t, ctx, "the console's queue table", `(() => {
				const t = document.querySelector('#root table');
				if (!t) return false;
				const text = t.innerText;
				return ['transcode', 'tag', 'share'].every(q => text.split(/\s+/).includes(q));
			})()`, 30*time.Second)
			if p := eval[string](t, ctx, `location.pathname`); !strings.HasPrefix(p, queueconsole.Path) {
				t.Errorf("after signing in the browser is at %s, want the console", p)
			}
			var allowed []string
			if vp.mobile {
				// asynqmon opens its sidebar on every screen; on a phone its
				// charts get too little room (Chromium complains of their
				// negative sizes), until the admin closes the sidebar with
				// the menu button, as the test does (asynqmon remembers it).
				allowed = []string{"<rect> attribute width: A negative value", "<rect> attribute height: A negative value"}
				do("close the sidebar", chromedp.Click(chromedp.CSS(`header button[aria-label="open drawer"]`)))
				waitJS(t, ctx, "the charts to have room", `(() => {
					// The two charts (the others are their legends' icons).
					const w = [...document.querySelectorAll('#root svg.recharts-surface')].map(e => e.getBoundingClientRect().width).sort((a, b) => b - a);
					return w.length >= 2 && w[1] > 100;
				})()`, 20*time.Second)
			}
			// Every queue's name is a visible cell of the table.
			for _, q := range []string{workers.QueueTranscode, workers.QueueTag, workers.QueueShare} {
				if !eval[bool](t, ctx, `[...document.querySelectorAll('#root table td, #root table th')].some(c => {
					if (c.innerText.trim() !== `+"'"+q+"'"+`) return false;
					const r = c.getBoundingClientRect(), s = getComputedStyle(c);
					return r.width > 0 && r.height > 0 && s.visibility === 'visible' && s.display !== 'none';
				})`) {
					t.Errorf("queue %s is not a visible cell of the console's table", q)
				}
			}
			// Material-UI styled the page through the nonce: the app bar has
			// its colour, not a browser default.
			if bg := eval[string](t, ctx, `getComputedStyle(document.querySelector('header')).backgroundColor`); bg == "" || bg == "rgba(0, 0, 0, 0)" {
				t.Errorf("the console's header has background %q: its styles did not apply", bg)
			}
			if n := eval[int](t, ctx, `document.querySelectorAll('style[data-jss][nonce]').length`); n == 0 {
				t.Errorf("no style element carries the nonce")
			}
			png := screenshot(t, ctx, "queues-"+vp.name)
			checkScreenshot(t, png, vp.width, vp.height)
			cancelRun()
			<-done
			mu.Lock()
			defer mu.Unlock()
			for _, l := range logged {
				if !slices.ContainsFunc(allowed, func(a string) bool { return strings.Contains(l, a) }) {
					t.Errorf("the console logged %s", l)
				}
			}
		})
	}
}

// eval evaluates a JavaScript expression into T.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %.100q: %v", expr, err)
	}
	return v
}

// waitJS waits until expr is true, or fails the test after timeout.
func waitJS(t *testing.T, ctx context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s (last error: %v)", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// screenshot keeps a picture of the viewport as screenshotDir/name.png and
// returns it.
func screenshot(t *testing.T, ctx context.Context, name string) []byte {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// checkScreenshot checks that a picture is of the viewport and not blank:
// many colours (text, the app bar, the table), and a good part of it
// unlike the page's background.
func checkScreenshot(t *testing.T, b []byte, width, height int64) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	r := img.Bounds()
	if int64(r.Dx()) < width || int64(r.Dy()) < height {
		t.Errorf("screenshot is %dx%d, want at least the viewport %dx%d", r.Dx(), r.Dy(), width, height)
	}
	colours := map[[3]uint32]int{}
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			colours[rgb(img, x, y)]++
		}
	}
	var most, all int
	for _, n := range colours {
		most = max(most, n)
		all += n
	}
	if len(colours) < 50 || float64(most)/float64(all) > 0.95 {
		t.Errorf("screenshot looks blank: %d colours, the commonest %.0f%% of it", len(colours), 100*float64(most)/float64(all))
	}
}

func rgb(img image.Image, x, y int) [3]uint32 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint32{r >> 8, g >> 8, b >> 8}
}
