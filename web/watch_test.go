package web_test

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip"
)

// sample is what the page saw on one animation frame: the media time and
// which cards were visible.
type sample struct {
	T       float64         `json:"t"`
	Visible map[string]bool `json:"visible"`
}

// sampleJS plays the clip from the start and records, on every animation
// frame until the media time passes until (s), the media time and whether
// each card is visible. Sampling inside the page keeps the two readings a
// frame apart at most.
func sampleJS(tags []string, until float64) string {
	return fmt.Sprintf(`(async () => {
  const visible = %s;
  const tags = %q.split(',');
  const v = document.querySelector('video');
  v.currentTime = 0;
  await v.play().catch(() => {});
  const out = [];
  const deadline = performance.now() + 30000;
  await new Promise((done) => {
    const step = () => {
      const s = {t: v.currentTime, visible: {}};
      for (const id of tags) s.visible[id] = visible(document.querySelector('[data-popup-tag="' + id + '"]'));
      out.push(s);
      if (v.currentTime >= %f || v.ended || performance.now() > deadline) done();
      else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  return out;
})()`, visibleJS, strings.Join(tags, ","), until)
}

// window is a tag's [start, end) in seconds.
type window struct{ start, end float64 }

// checkSamples checks the contract: a card is visible exactly while the
// media time is inside its window, within 0.3 s at the edges.
func checkSamples(t *testing.T, samples []sample, windows map[string]window) {
	t.Helper()
	const slack = 0.3
	seen := map[string]bool{}
	for _, s := range samples {
		for id, w := range windows {
			vis := s.Visible[id]
			seen[id] = seen[id] || vis
			inside := s.T >= w.start+slack && s.T < w.end-slack
			outside := s.T < w.start-slack || s.T >= w.end+slack
			if inside && !vis {
				t.Errorf("at %.3f s the card of %s [%.1f, %.1f) is hidden", s.T, id, w.start, w.end)
			}
			if outside && vis {
				t.Errorf("at %.3f s the card of %s [%.1f, %.1f) is visible", s.T, id, w.start, w.end)
			}
		}
	}
	for id := range windows {
		if !seen[id] {
			t.Errorf("the card of %s never showed", id)
		}
	}
	if n := len(samples); n < 30 || samples[n-1].T < 6.5 {
		t.Errorf("playback did not get far: %d samples, last at %.2f s", n, samples[max(0, n-1)].T)
	}
}

// TestWatchPopups plays a tagged clip on /watch/{id}, at a phone's size and
// a desktop's: each card shows exactly while the playback clock is in its
// tag's window, also after seeks; it shows the price valid now, the honest
// "was" price and label, the flash sale's countdown and the coupon, at the
// tag's point of the picture; tapping it lands on the store with the
// viewer's session, and the click, the view and the impression are counted.
func TestWatchPopups(t *testing.T) {
	for _, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) { testWatchPopups(t, vp) })
	}
}

func testWatchPopups(t *testing.T, vp viewport) {
	w := newWorld(t)
	shop := newShop(t)
	creator := w.account(shopclip.RoleCreator, "alice")
	brand := w.account(shopclip.RoleBrand, "acme")
	clip := w.clip(creator, "Sneaker unboxing")
	sneaker := w.product(brand, "Runner sneaker", 19900, shop.URL+"/snk-1", "")
	bag := w.product(brand, "Canvas bag", 4500, shop.URL+"/bag", "")
	now := time.Now()
	w.discount(brand, sneaker, 20, now.Add(-time.Minute), now.Add(2*time.Hour), true, "SAVE20")
	t1 := w.tag(brand, clip, sneaker, 2000, 4000, 0.1, 0.55)
	t2 := w.tag(brand, clip, bag, 5000, 7000, 0.6, 0.2)

	tb := newTab(t, vp)
	tb.open(w.srv.URL + "/watch/" + clip.ID)
	if n := eval[int](tb, `document.querySelectorAll('video').length`); n != 1 {
		t.Errorf("the watch page has %d <video> elements, want 1", n)
	}
	tb.waitJS("the cards to be loaded", fmt.Sprintf(`document.querySelector('[data-popup-tag=%q]') && document.querySelector('[data-popup-tag=%q]')`, t1.ID, t2.ID), 20*time.Second)
	// The cards ride a hidden metadata text track.
	cues := eval[int](tb, `[...document.querySelector('video').textTracks].filter(t => t.kind === 'metadata' && t.mode === 'hidden').reduce((n, t) => n + (t.cues ? t.cues.length : 0), 0)`)
	if cues != 2 {
		t.Errorf("metadata cues = %d, want 2", cues)
	}
	tb.waitJS("playback", `document.querySelector('video').currentTime > 0.3`, 30*time.Second)

	samples := eval[[]sample](tb, sampleJS([]string{t1.ID, t2.ID}, 7.6))
	checkSamples(t, samples, map[string]window{t1.ID: {2, 4}, t2.ID: {5, 7}})

	// Seeks, paused: the cards follow the media time, not a timer.
	for _, tt := range []struct {
		at       float64
		one, two bool
	}{{6.0, false, true}, {2.5, true, false}, {0.5, false, false}, {3.9, true, false}, {4.4, false, false}} {
		got := eval[[]bool](tb, fmt.Sprintf(`(async () => {
  const visible = %s;
  const v = document.querySelector('video');
  v.pause();
  v.currentTime = %f;
  await new Promise(r => v.addEventListener('seeked', r, {once: true}));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [visible(document.querySelector('[data-popup-tag=%q]')), visible(document.querySelector('[data-popup-tag=%q]'))];
})()`, visibleJS, tt.at, t1.ID, t2.ID))
		if got[0] != tt.one || got[1] != tt.two {
			t.Errorf("after a seek to %.1f s: cards visible %v, want [%v %v]", tt.at, got, tt.one, tt.two)
		}
	}

	// Paused at 2.5 s: the sneaker's card, priced now.
	eval[bool](tb, `(async () => { const v = document.querySelector('video'); v.currentTime = 2.5; await new Promise(r => v.addEventListener('seeked', r, {once: true})); await new Promise(r => setTimeout(r, 300)); return true; })()`)
	card := eval[string](tb, fmt.Sprintf(`document.querySelector('[data-popup-tag=%q]').textContent`, t1.ID))
	for _, want := range []string{"Runner sneaker", "159.20 USD", "199.00 USD", "-20%", "SAVE20"} {
		if !strings.Contains(card, want) {
			t.Errorf("the card reads %q; it lacks %q", card, want)
		}
	}
	if !regexp.MustCompile(`ends in 1:5\d:\d\d`).MatchString(card) {
		t.Errorf("the flash sale's card has no countdown: %q", card)
	}
	if was := eval[string](tb, fmt.Sprintf(`document.querySelector('[data-popup-tag=%q] s').textContent`, t1.ID)); !strings.Contains(was, "199.00 USD") {
		t.Errorf("the was-price is not struck through: <s> holds %q", was)
	}
	checkPlacement(t, tb, t1.ID, 0.1, 0.55)
	tb.screenshot("watch-card")

	// The shop list: both products, with their buy links.
	if n := eval[int](tb, `document.querySelectorAll('.shop-list [data-product-id]').length`); n != 2 {
		t.Errorf("the shop list has %d products, want 2", n)
	}

	// Tap the card: the store's page, with the session and the tag.
	session := eval[string](tb, `localStorage.getItem('shopclip.session') || ''`)
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-popup-tag=%q]`, t1.ID))))
	tb.waitJS("the store's page", fmt.Sprintf(`location.href.startsWith(%q)`, shop.URL+"/snk-1"), 15*time.Second)
	loc := eval[string](tb, `location.href`)
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("sc_tag") != t1.ID || session == "" || u.Query().Get("sc_session") != session {
		t.Errorf("landed on %s; want sc_tag=%s and sc_session=%q", loc, t1.ID, session)
	}
	waitCounted(t, w, clip.ID, t1.ID)
}

// checkPlacement checks that a card's top-left corner sits at the tag's
// point (x, y) of the picture as displayed: the video's box, scaled by its
// object-fit (cover crops, contain letterboxes), unless the card had to be
// pulled inside the stage.
func checkPlacement(t *testing.T, tb *tab, tagID string, x, y float64) {
	t.Helper()
	type geometry struct {
		W, H, VW, VH, Left, Top, CW, CH float64
		Fit                             string
	}
	g := eval[geometry](tb, fmt.Sprintf(`(() => {
  const v = document.querySelector('video');
  const c = document.querySelector('[data-popup-tag=%q]');
  const vr = v.getBoundingClientRect(), cr = c.getBoundingClientRect();
  return {W: vr.width, H: vr.height, VW: v.videoWidth, VH: v.videoHeight, Left: cr.left - vr.left, Top: cr.top - vr.top,
    CW: cr.width, CH: cr.height, Fit: getComputedStyle(v).objectFit};
})()`, tagID))
	scale := math.Min(g.W/g.VW, g.H/g.VH)
	if g.Fit == "cover" {
		scale = math.Max(g.W/g.VW, g.H/g.VH)
	}
	pw, ph := g.VW*scale, g.VH*scale
	wantX := (g.W-pw)/2 + x*pw
	wantY := (g.H-ph)/2 + y*ph
	clampedX := wantX < 8 || wantX+g.CW > g.W-8
	clampedY := wantY < 8 || wantY+g.CH > g.H-64
	if !clampedX && math.Abs(g.Left-wantX) > 2 {
		t.Errorf("card left at %.1f px, want %.1f (the tag's x %.2f of a %.0f px picture, %s)", g.Left, wantX, x, pw, g.Fit)
	}
	if !clampedY && math.Abs(g.Top-wantY) > 2 {
		t.Errorf("card top at %.1f px, want %.1f (the tag's y %.2f of a %.0f px picture, %s)", g.Top, wantY, y, ph, g.Fit)
	}
	if g.Left < 0 || g.Top < 0 || g.Left+g.CW > g.W+0.5 || g.Top+g.CH > g.H+0.5 {
		t.Errorf("card %+v leaves the player", g)
	}
}

// waitCounted waits for the click through tagID, the clip's view and the
// card's impression to be in the clip's stats.
func waitCounted(t *testing.T, w *world, clipID, tagID string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		views, err := w.db.ClipViews(context.Background(), clipID)
		if err != nil {
			t.Fatal(err)
		}
		stats, err := w.db.TagStats(context.Background(), clipID, "")
		if err != nil {
			t.Fatal(err)
		}
		var clicks, impressions int64
		for _, s := range stats {
			if s.TagID == tagID {
				clicks, impressions = s.Clicks, s.Impressions
			}
		}
		if views >= 1 && clicks >= 1 && impressions >= 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats of clip %s: %d views, tag %s: %d clicks, %d impressions; want each at least 1", clipID, views, tagID, clicks, impressions)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWatchControls drives the player as people do: the unmute button, the
// keyboard, the storyboard over the seek bar, and the products carousel
// when the clip ends.
func TestWatchControls(t *testing.T) {
	w := newScene(t, "Controls")
	clip := w.clip
	w.productTag("Lamp", 2500, "/lamp", 1000, 3000, 0.3, 0.6)
	for _, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) {
			tb := newTab(t, vp)
			tb.open(w.srv.URL + "/watch/" + clip.ID)
			tb.waitJS("playback", `document.querySelector('video').currentTime > 0.2`, 30*time.Second)
			// Muted autoplay shows the unmute button; it turns the sound on.
			if eval[bool](tb, `document.querySelector('video').muted`) {
				if eval[bool](tb, `document.querySelector('[data-unmute]').hidden`) {
					t.Fatal("the video plays muted but the unmute button is hidden")
				}
				tb.do(chromedp.Click(chromedp.CSS(`[data-unmute]`)))
				tb.waitJS("sound", `!document.querySelector('video').muted && document.querySelector('[data-unmute]').hidden`, 5*time.Second)
			}
			// The keyboard: k pauses and plays, m mutes.
			tb.do(chromedp.Focus(chromedp.CSS(`[data-player]`)), chromedp.KeyEvent("k"))
			// The pause event relabels the button a moment after the pause.
			tb.waitJS("pause by keyboard, and the button to say Play", `document.querySelector('video').paused && document.querySelector('[data-play]').getAttribute('aria-label') === 'Play'`, 5*time.Second)
			tb.do(chromedp.KeyEvent("m"))
			tb.waitJS("mute by keyboard", `document.querySelector('video').muted`, 5*time.Second)
			tb.do(chromedp.KeyEvent("k"))
			tb.waitJS("play by keyboard", `!document.querySelector('video').paused`, 5*time.Second)
			// The storyboard shows over the seek bar while pointing at it.
			thumb := `(() => { const th = document.querySelector('[data-thumb]'); return !th.hidden && th.style.backgroundImage.includes('storyboard.jpg') && th.offsetWidth > 0; })()`
			deadline := time.Now().Add(10 * time.Second)
			for !eval[bool](tb, thumb) {
				tb.do(mouseOver(`[data-seek]`, 0.6))
				if time.Now().After(deadline) {
					t.Fatal("no storyboard thumbnail over the seek bar")
				}
				time.Sleep(200 * time.Millisecond)
			}
			tb.screenshot("watch-scrub")
			// The end: the products carousel, and "watch again".
			eval[bool](tb, `(() => { const v = document.querySelector('video'); v.currentTime = v.duration - 0.5; v.play(); return true; })()`)
			tb.waitJS("the carousel at the end", `!document.querySelector('[data-end]').hidden && document.querySelector('[data-end] [data-product-id]')`, 15*time.Second)
			tb.screenshot("watch-end")
			tb.do(chromedp.Click(chromedp.CSS(`[data-replay]`)))
			tb.waitJS("replay", `document.querySelector('[data-end]').hidden && !document.querySelector('video').paused`, 10*time.Second)
		})
	}
}

// mouseOver moves the mouse over the element sel at fraction f of its width.
func mouseOver(sel string, f float64) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		box, err := chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`, sel))(ctx, tg)
		if err != nil {
			return chromedp.Void{}, err
		}
		x, y := box[0]+box[2]*f, box[1]+box[3]/2
		return chromedp.MouseEvent(chromedp.MouseMoved, x, y)(ctx, tg)
	}
}

// TestWatchPricesFollowSales keeps a watch page open while a sale starts:
// the card's price changes by itself, without a reload.
func TestWatchPricesFollowSales(t *testing.T) {
	w := newScene(t, "Sale soon")
	clip := w.clip
	p, tg := w.productTag("Lamp", 10000, "/lamp", 0, 7900, 0.3, 0.6)
	tb := newTab(t, phone)
	tb.open("about:blank") // the browser is up before the clock starts
	starts := time.Now().Add(8 * time.Second)
	w.discount(w.brand, p, 10, starts, starts.Add(time.Hour), false, "")
	tb.open(w.srv.URL + "/watch/" + clip.ID)
	card := fmt.Sprintf(`document.querySelector('[data-popup-tag=%q]')`, tg.ID)
	tb.waitJS("the card", card+` && !`+card+`.hidden`, 20*time.Second)
	eval[bool](tb, `(document.querySelector('video').pause(), true)`)
	if time.Now().Before(starts) {
		if txt := eval[string](tb, card+`.textContent`); !strings.Contains(txt, "100.00 USD") || strings.Contains(txt, "90.00 USD") {
			t.Fatalf("before the sale the card reads %q", txt)
		}
	} else {
		t.Errorf("the page took until after the sale started to show its card; the test proves less")
	}
	tb.waitJS("the sale price on the open page", card+`.textContent.includes('90.00 USD') && `+card+`.textContent.includes('-10%')`, 30*time.Second)
	if n := eval[int](tb, `performance.getEntriesByType('navigation').length`); n != 1 {
		t.Errorf("the page navigated %d times", n)
	}
}

// TestDoNotTrack: with Do Not Track or Global Privacy Control on, the page
// keeps no session and sends no event (beacons and fetches to /v1/events
// are counted in the page); buy links carry no session; the click still
// counts, anonymously.
func TestDoNotTrack(t *testing.T) {
	for _, tt := range []struct{ name, signal string }{
		{"GPC", `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});`},
		{"DNT", `Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newScene(t, "Private")
			clip, shop := w.clip, w.shop
			_, tg := w.productTag("Lamp", 2500, "/lamp", 500, 4000, 0.3, 0.6)
			tb := newTab(t, desktop)
			ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: tt.signal + `
window.__events = 0;
const beacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = (u, d) => { if (String(u).includes('/v1/events')) window.__events++; return beacon(u, d); };
const f = window.fetch;
window.fetch = (u, o) => { if (String(u).includes('/v1/events')) window.__events++; return f(u, o); };`})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			tb.open(w.srv.URL + "/watch/" + clip.ID)
			tb.waitJS("3.5 s of playback", `document.querySelector('video').currentTime > 3.5`, 30*time.Second)
			if n := eval[int](tb, `window.__events`); n != 0 {
				t.Errorf("the page sent %d events", n)
			}
			if s := eval[string](tb, `localStorage.getItem('shopclip.session') || ''`); s != "" {
				t.Errorf("a session was kept: %q", s)
			}
			href := eval[string](tb, fmt.Sprintf(`document.querySelector('[data-popup-tag=%q]').href`, tg.ID))
			if strings.Contains(href, "session=") {
				t.Errorf("the buy link carries a session: %s", href)
			}
			eval[bool](tb, `(document.querySelector('video').pause(), document.querySelector('video').currentTime = 1, true)`)
			tb.waitJS("the card", fmt.Sprintf(`!document.querySelector('[data-popup-tag=%q]').hidden`, tg.ID), 10*time.Second)
			tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-popup-tag=%q]`, tg.ID))))
			tb.waitJS("the store", fmt.Sprintf(`location.href.startsWith(%q)`, shop.URL), 15*time.Second)
			if loc := eval[string](tb, `location.href`); strings.Contains(loc, "sc_session") {
				t.Errorf("the store got a session: %s", loc)
			}
			stats, err := w.db.TagStats(context.Background(), clip.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			views, _ := w.db.ClipViews(context.Background(), clip.ID)
			if len(stats) != 1 || stats[0].Clicks != 1 || stats[0].Impressions != 0 || views != 0 {
				t.Errorf("stats %+v, %d views: want one click, no impression, no view", stats, views)
			}
		})
	}
}

// TestCardCurrencies reads cards priced in currencies with 0, 2 and 3
// minor digits: the page formats money as the server does.
func TestCardCurrencies(t *testing.T) {
	w := newScene(t, "Currencies")
	var tags []*shopclip.Tag
	for i, c := range []struct {
		cur   string
		minor int64
	}{{"HUF", 199900}, {"JPY", 1500}, {"KWD", 12345}} {
		var p shopclip.Product
		w.call(w.keys[w.brand.ID], "POST", "/v1/products", map[string]any{"sku": c.cur, "title": "Item " + c.cur, "currency": c.cur,
			"price_minor": c.minor, "url": w.shop.URL + "/" + c.cur}, 201, &p)
		tags = append(tags, w.tag(w.brand, w.clip, &p, int64(i)*2000, int64(i)*2000+1900, 0.2, 0.2))
	}
	tb := newTab(t, phone)
	tb.open(w.srv.URL + "/watch/" + w.clip.ID)
	for i, want := range []string{"1999.00 HUF", "1500 JPY", "12.345 KWD"} {
		card := fmt.Sprintf(`document.querySelector('[data-popup-tag=%q]')`, tags[i].ID)
		tb.waitJS("the card", card, 20*time.Second)
		if got := eval[string](tb, card+`.querySelector('.sale').textContent`); got != want {
			t.Errorf("card %d: %q, want %q (as the shop list: %q)", i, got, want,
				eval[string](tb, fmt.Sprintf(`document.querySelectorAll('.shop-list .sale')[%d].textContent`, i)))
		}
	}
}
