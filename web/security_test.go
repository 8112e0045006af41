package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip"
)

// Payloads planted in every field a creator or brand can type. Each, if it
// ran, would set window.__xss.
var plants = []string{
	`<script>window.__xss="script"</script>`,
	`<img src=x onerror="window.__xss='img'">`,
	`"><svg onload="window.__xss='svg'">`,
	`');window.__xss='js';//`,
}

// TestXSSPlantsStayInert plants script payloads in a creator's name, a
// clip's title and a product's title, and checks on every page, in a real
// browser, that none runs and each shows as the text it is; that the API
// refuses them in coupon codes and javascript: URLs in product links.
func TestXSSPlantsStayInert(t *testing.T) {
	w := newWorld(t)
	shop := newShop(t)
	creator := w.account(shopclip.RoleCreator, "creator "+plants[0])
	brand := w.account(shopclip.RoleBrand, "brand "+plants[1])
	clip := w.clip(creator, "clip "+plants[1]+plants[3])
	p := w.product(brand, "product "+plants[2]+plants[0], 1999, shop.URL+"/p?a=1&b="+url.QueryEscape(plants[2]), "")
	w.discount(brand, p, 10, time.Now().Add(-time.Minute), time.Now().Add(time.Hour), true, "OK10")
	tg := w.tag(brand, clip, p, 0, 7000, 0.5, 0.5)

	// The API refuses what no page could show safely.
	for _, body := range []map[string]any{
		{"kind": "percent", "percent_off": 5, "coupon_code": `<script>x</script>`, "starts_at": time.Now().Format(time.RFC3339), "ends_at": time.Now().Add(time.Hour).Format(time.RFC3339)},
	} {
		w.call(w.keys[brand.ID], "POST", "/v1/products/"+p.ID+"/discounts", body, 400, nil)
	}
	for _, u := range []string{"javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "JaVaScRiPt:alert(1)"} {
		w.call(w.keys[brand.ID], "POST", "/v1/products", map[string]any{"sku": "X", "title": "x", "currency": "USD", "price_minor": 100, "url": u}, 400, nil)
		w.call(w.keys[brand.ID], "PATCH", "/v1/products/"+p.ID, map[string]any{"image_url": u}, 400, nil)
	}

	// What the API refuses, a row written behind its back (an older
	// version, a migration) must not turn into a link or an image either.
	sneaky := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: brand.ID, SKU: "SNEAKY", Title: "sneaky",
		Currency: "USD", PriceMinor: 100, URL: "javascript:window.__xss='href'", ImageURL: "javascript:window.__xss='src'", InStock: true}
	if err := w.db.CreateProduct(t.Context(), sneaky); err != nil {
		t.Fatal(err)
	}
	st := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: clip.ID, ProductID: sneaky.ID, BrandID: brand.ID,
		StartMS: 0, EndMS: 7000, X: 0.1, Y: 0.1, Status: shopclip.TagActive}
	if err := w.db.CreateTag(t.Context(), st); err != nil {
		t.Fatal(err)
	}

	pages := []string{
		"/", "/watch/" + clip.ID, "/embed/" + clip.ID, "/deals", "/creators/" + creator.ID,
		"/search?q=" + url.QueryEscape("product"), "/search?q=" + url.QueryEscape(plants[0]+plants[1]),
	}
	for _, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) {
			tb := newTab(t, vp)
			for _, path := range pages {
				tb.open(w.srv.URL + path)
				if path == "/watch/"+clip.ID {
					tb.waitJS("the card", fmt.Sprintf(`document.querySelector('[data-popup-tag=%q]')`, tg.ID), 20*time.Second)
					eval[bool](tb, `(async () => { const v = document.querySelector('video'); v.pause(); v.currentTime = 1; await new Promise(r => v.addEventListener('seeked', r, {once: true})); return true; })()`)
					card := eval[string](tb, fmt.Sprintf(`document.querySelector('[data-popup-tag=%q]').textContent`, tg.ID))
					if !strings.Contains(card, plants[2]+plants[0]) {
						t.Errorf("the card does not show the product's title as text: %q", card)
					}
					tb.screenshot("xss-watch")
				}
				time.Sleep(300 * time.Millisecond) // let anything that would run, run
				if got := eval[string](tb, `String(window.__xss || '')`); got != "" {
					t.Errorf("%s: a planted payload ran (%s)", path, got)
				}
				if n := eval[int](tb, `document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload]').length`); n != 0 {
					t.Errorf("%s: %d planted elements made it into the DOM", path, n)
				}
				if n := eval[int](tb, `[...document.querySelectorAll('a[href], img[src]')].filter(e => !/^https?:$/.test(new URL(e.href || e.src).protocol)).length`); n != 0 {
					t.Errorf("%s: %d links or images with a scheme other than http(s)", path, n)
				}
				text := eval[string](tb, `document.body.innerText + ' ' + document.title`)
				switch {
				case path == "/watch/"+clip.ID:
					for _, want := range []string{"clip " + plants[1] + plants[3], "product " + plants[2] + plants[0], "creator " + plants[0]} {
						if !strings.Contains(text, strings.TrimSpace(want)) {
							t.Errorf("%s: the page does not show %q as text", path, want)
						}
					}
				case path == "/creators/"+creator.ID:
					if !strings.Contains(text, "@creator "+plants[0]) {
						t.Errorf("%s: the creator's name is not shown as text", path)
					}
				}
			}
		})
	}
}

// TestHeaders checks what every page and asset answers with: one strict
// CSP without inline script or eval, framing refused but for /embed/{id},
// hashed asset names served immutable and gzipped, no inline script in any
// page, Open Graph tags on /watch, and HTML errors for what is not there.
func TestHeaders(t *testing.T) {
	w := newWorld(t, framedBy("https://shop.example.com"))
	creator := w.account(shopclip.RoleCreator, "alice")
	clip := w.clip(creator, "Headers")
	for _, path := range []string{"/", "/watch/" + clip.ID, "/deals", "/creators/" + creator.ID, "/search?q=x", "/embed/" + clip.ID} {
		res, body := w.get(path)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "base-uri 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: CSP allows inline script or eval: %q", path, csp)
		}
		if strings.HasPrefix(path, "/embed/") {
			if !strings.Contains(csp, "frame-ancestors 'self' https://shop.example.com") || res.Header.Get("X-Frame-Options") != "" {
				t.Errorf("GET %s: framing headers %q, X-Frame-Options %q", path, csp, res.Header.Get("X-Frame-Options"))
			}
		} else if !strings.Contains(csp, "frame-ancestors 'none'") || res.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: the page may be framed: CSP %q, X-Frame-Options %q", path, csp, res.Header.Get("X-Frame-Options"))
		}
		for h, want := range map[string]string{"Referrer-Policy": "strict-origin-when-cross-origin", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, h, got, want)
			}
		}
		if m := regexp.MustCompile(`<script(\s[^>]*)?>`).FindAllString(body, -1); len(m) > 0 {
			for _, tag := range m {
				if !strings.Contains(tag, " src=") {
					t.Errorf("GET %s: inline script %s", path, tag)
				}
			}
		}
		for _, src := range regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1) {
			checkAsset(t, w, src[1])
		}
	}

	_, watch := w.get("/watch/" + clip.ID)
	for _, want := range []string{
		`<meta property="og:title" content="Headers">`,
		`<meta property="og:video" content="` + w.srv.URL + `/v1/clips/` + clip.ID + `/media/`,
		`<meta property="og:image" content="` + w.srv.URL + `/v1/clips/` + clip.ID + `/media/`,
		`<meta name="twitter:card" content="summary_large_image">`,
	} {
		if !strings.Contains(watch, want) {
			t.Errorf("/watch lacks %s", want)
		}
	}
	// Things that are not there get an HTML page with the right status.
	for path, status := range map[string]int{
		"/watch/clp_aaaaaaaaaaaaaaaaaaaaaaaaaa": 404, "/watch/nonsense": 404, "/creators/" + clip.ID: 404,
		"/embed/clp_aaaaaaaaaaaaaaaaaaaaaaaaaa": 404, "/?cursor=garbage": 400, "/static/xyz/nope.js": 404,
	} {
		res, body := w.get(path)
		if res.StatusCode != status {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, status)
		}
		if !strings.HasPrefix(path, "/static/") && (!strings.Contains(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<h1")) {
			t.Errorf("GET %s: not an HTML page: %s %.80q", path, res.Header.Get("Content-Type"), body)
		}
	}
	// A clip that is not ready has no page.
	c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: creator.ID, Title: "processing", OriginalKey: "originals/x"}
	if err := w.db.CreateClip(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if res, _ := w.get("/watch/" + c.ID); res.StatusCode != 404 {
		t.Errorf("the page of a clip that is not ready: %d, want 404", res.StatusCode)
	}
}

// checkAsset checks that an asset's path is versioned, that it is served
// immutable, gzipped when asked, and revalidated under another version.
func checkAsset(t *testing.T, w *world, path string) {
	t.Helper()
	res, body := w.get(path, "Accept-Encoding", "gzip")
	if res.StatusCode != 200 {
		t.Errorf("GET %s: %d", path, res.StatusCode)
		return
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("GET %s: Cache-Control %q", path, cc)
	}
	ct := res.Header.Get("Content-Type")
	if (strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript")) && res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("GET %s: %s not gzipped", path, ct)
	}
	if len(body) == 0 {
		t.Errorf("GET %s: empty", path)
	}
	parts := strings.SplitN(strings.TrimPrefix(path, "/static/"), "/", 2)
	res, _ = w.get("/static/000000000000/" + parts[1])
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("GET %s under another version: %d, Cache-Control %q", parts[1], res.StatusCode, res.Header.Get("Cache-Control"))
	}
	// Revalidation, HEAD, and ranges: each encoding its own tag, no range
	// of gzipped bytes.
	plain, plainBody := w.get(path, "Accept-Encoding", "identity") // else net/http asks for gzip itself
	gz, _ := w.get(path, "Accept-Encoding", "gzip")
	if res.Header.Get("Content-Encoding") == "gzip" || gz.Header.Get("Content-Encoding") == "gzip" {
		if plain.Header.Get("ETag") == gz.Header.Get("ETag") {
			t.Errorf("GET %s: the plain and the gzipped body share the ETag %s", path, plain.Header.Get("ETag"))
		}
		if res, _ := w.get(path, "Accept-Encoding", "gzip", "Range", "bytes=0-9"); res.StatusCode != 200 {
			t.Errorf("GET %s gzipped with a Range: %d, want the whole file (200)", path, res.StatusCode)
		}
	}
	if res, body := w.get(path, "Accept-Encoding", "identity", "Range", "bytes=0-9"); res.StatusCode != 206 || body != plainBody[:min(10, len(plainBody))] {
		t.Errorf("GET %s bytes 0-9: %d %q", path, res.StatusCode, body)
	}
	if res, body := w.get(path, "Accept-Encoding", "identity", "If-None-Match", plain.Header.Get("ETag")); res.StatusCode != 304 || body != "" {
		t.Errorf("GET %s If-None-Match its ETag: %d, want 304", path, res.StatusCode)
	}
	req, _ := http.NewRequest("HEAD", w.srv.URL+path, nil)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != plain.Header.Get("Content-Type") {
		t.Errorf("HEAD %s: %v %v", path, res, err)
	} else {
		res.Body.Close()
	}
}

// TestEmbedFraming puts /embed/{id} and /watch/{id} in iframes of a store's
// page: the embed shows for the configured origin and is refused for
// another; the watch page is refused everywhere.
func TestEmbedFraming(t *testing.T) {
	var allowed, other *httptest.Server
	host := func(src *string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(rw, `<!doctype html><title>store</title><iframe id="f" width="360" height="640" src="%s%s"></iframe>`, *src, r.URL.Query().Get("path"))
		}))
	}
	var base string
	allowed, other = host(&base), host(&base)
	defer allowed.Close()
	defer other.Close()
	w := newWorld(t, framedBy(allowed.URL))
	base = w.srv.URL
	creator := w.account(shopclip.RoleCreator, "alice")
	clip := w.clip(creator, "Embedded")

	tb := newTab(t, desktop)
	tb.allowErrors("frame-ancestors", "Refused to display", "X-Frame-Options")
	for _, tt := range []struct {
		store *httptest.Server
		path  string
		shown bool
	}{
		{allowed, "/embed/" + clip.ID, true},
		{other, "/embed/" + clip.ID, false},
		{allowed, "/watch/" + clip.ID, false},
	} {
		before := len(tb.errors())
		tb.open(tt.store.URL + "/?path=" + url.QueryEscape(tt.path))
		// Until the frame has its document, or the browser said no.
		var refused, embedded bool
		var frames []string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			refused = false
			for _, e := range tb.errors()[before:] {
				refused = refused || strings.Contains(e, "frame-ancestors") || strings.Contains(e, "X-Frame-Options") || strings.Contains(e, "Refused to display")
			}
			frames = frameURLs(t, tb)
			embedded = false
			for _, f := range frames {
				embedded = embedded || strings.HasPrefix(f, w.srv.URL+tt.path)
			}
			if refused || (embedded && eval[bool](tb, `document.querySelector('iframe').contentWindow.length >= 0`)) {
				break
			}
		}
		if tt.shown {
			time.Sleep(500 * time.Millisecond) // a refusal can follow the commit
			for _, e := range tb.errors()[before:] {
				refused = refused || strings.Contains(e, "frame-ancestors") || strings.Contains(e, "Refused to display")
			}
		}
		if tt.shown && (refused || !embedded) {
			t.Errorf("%s in a page of %s: refused %v, frames %v; want it shown", tt.path, tt.store.URL, refused, frames)
		}
		if !tt.shown && (!refused || embedded) {
			t.Errorf("%s in a page of %s: refused %v, frames %v; want it refused", tt.path, tt.store.URL, refused, frames)
		}
		if tt.shown {
			tb.screenshot("embed-in-store")
		}
	}
}

// frameURLs lists the URLs of the documents in the page's child frames, as
// the browser committed them: a refused frame holds an error page instead
// (its URL is not the one asked for).
func frameURLs(t *testing.T, tb *tab) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		t.Fatalf("frame tree: %v", err)
	}
	var urls []string
	var walk func(ft *page.FrameTree)
	walk = func(ft *page.FrameTree) {
		for _, c := range ft.ChildFrames {
			u := c.Frame.URL
			if c.Frame.UnreachableURL != "" {
				u = "unreachable:" + c.Frame.UnreachableURL
			}
			urls = append(urls, u)
			walk(c)
		}
	}
	walk(res.FrameTree)
	return urls
}
