package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip"
)

// TestFeed scrolls the feed at a phone's size (one clip per screen,
// snapping) and a desktop's (a grid): the clip on screen plays muted, the
// next one is loaded ahead, a second page arrives by itself at the end, and
// the featured creators are ranked by attributed sales.
func TestFeed(t *testing.T) {
	w := newWorld(t)
	shop := newShop(t)
	alice := w.account(shopclip.RoleCreator, "alice")
	bob := w.account(shopclip.RoleCreator, "bob")
	brand := w.account(shopclip.RoleBrand, "acme")
	var clips []*shopclip.Clip
	for i := range 15 {
		creator := alice
		if i%3 == 0 {
			creator = bob
		}
		clips = append(clips, w.clip(creator, fmt.Sprintf("Clip %02d", i)))
	}
	// A sale through bob's clip: a click in a session, then the brand's
	// report of a purchase in that session.
	p := w.product(brand, "Lamp", 2500, shop.URL+"/lamp", "")
	tg := w.tag(brand, clips[0], p, 0, 3000, 0.5, 0.5)
	res, _ := w.get("/v1/buy/" + tg.ID + "?session=feedsession01")
	if res.StatusCode != 302 {
		t.Fatalf("buy: %d", res.StatusCode)
	}
	w.call(w.keys[brand.ID], "POST", "/v1/events", map[string]any{"type": "purchase", "session_id": "feedsession01",
		"product_id": p.ID, "order_id": "o-1", "amount_minor": 2500, "currency": "USD"}, 201, nil)

	// The server's first page: 12 clips, newest first, and a link to more.
	_, html := w.get("/")
	if n := strings.Count(html, "data-clip-id="); n != 12 || !strings.Contains(html, "data-next") {
		t.Errorf("the feed's first page holds %d clips (and a next link: %v), want 12 and one", n, strings.Contains(html, "data-next"))
	}

	for _, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) {
			tb := newTab(t, vp)
			tb.open(w.srv.URL + "/")
			featured := eval[[]string](tb, `[...document.querySelectorAll('.featured a')].map(a => a.textContent.trim())`)
			if len(featured) != 2 || featured[0] != "@bob" || featured[1] != "@alice" {
				t.Errorf("featured creators = %q, want [@bob @alice] (bob sold one)", featured)
			}
			ids := eval[[]string](tb, `[...document.querySelectorAll('[data-feed] [data-clip-id]')].map(e => e.dataset.clipId)`)
			if len(ids) < 12 || ids[0] != clips[14].ID {
				t.Fatalf("first page: %d clips starting %v, want 12 or more starting with the newest", len(ids), ids[:min(1, len(ids))])
			}
			// The first clip plays muted; the second is loaded ahead.
			first := `document.querySelectorAll('[data-feed] .clip video')[0]`
			second := `document.querySelectorAll('[data-feed] .clip video')[1]`
			tb.waitJS("the first clip to play", first+`.currentTime > 0.2 && !`+first+`.paused`, 30*time.Second)
			if !eval[bool](tb, first+`.muted`) {
				t.Error("the feed's clip plays with sound")
			}
			if vp.mobile {
				tb.waitJS("the next clip to be loaded ahead", second+`.readyState >= 2 && `+second+`.paused`, 20*time.Second)
				tb.screenshot("feed")
				// Swipe to the second clip: it plays, the first pauses.
				eval[bool](tb, `(document.querySelector('[data-feed]').scrollBy(0, innerHeight), true)`)
				tb.waitJS("the second clip to play", second+`.currentTime > 0.2 && !`+second+`.paused`, 20*time.Second)
				tb.waitJS("the first clip to pause", first+`.paused`, 5*time.Second)
				if snap := eval[string](tb, `getComputedStyle(document.querySelector('[data-feed]')).scrollSnapType`); !strings.HasPrefix(snap, "y") {
					t.Errorf("the phone feed's scroll-snap-type is %q, want y mandatory", snap)
				}
			} else {
				cols := eval[int](tb, `getComputedStyle(document.querySelector('[data-feed]')).gridTemplateColumns.split(' ').length`)
				if cols < 3 {
					t.Errorf("the desktop feed has %d columns, want a grid", cols)
				}
				tb.screenshot("feed")
			}
			// To the end: the next page arrives by itself.
			tb.waitJS("the second page", `(() => {
  const f = document.querySelector('[data-feed]');
  f.scrollTop = f.scrollHeight;
  window.scrollTo(0, document.body.scrollHeight);
  return document.querySelectorAll('[data-feed] [data-clip-id]').length === 15;
})()`, 30*time.Second)
			if n := eval[int](tb, `new Set([...document.querySelectorAll('[data-clip-id]')].map(e => e.dataset.clipId)).size`); n != 15 {
				t.Errorf("after the second page the feed holds %d distinct clips, want 15", n)
			}
			if eval[bool](tb, `!!document.querySelector('a[data-next]')`) {
				t.Error("the last page still links to a next one")
			}
			if !vp.mobile {
				return
			}
			// Down to the oldest clip (bob's, with the tag), up to the top
			// and down again: its player is unloaded and loaded again, with
			// one card and one metadata track, never two.
			swipe := func(dy string) {
				eval[bool](tb, `(document.querySelector('[data-feed]').scrollBy(0, `+dy+`), true)`)
				time.Sleep(250 * time.Millisecond)
			}
			for range 2 {
				for range 15 {
					swipe("innerHeight")
				}
				for range 15 {
					swipe("-innerHeight")
				}
			}
			for range 15 {
				swipe("innerHeight")
			}
			last := fmt.Sprintf(`document.querySelector('[data-clip-id=%q]')`, clips[0].ID)
			tb.waitJS("the oldest clip to play again", last+`.querySelector('video').currentTime > 0.2 && !`+last+`.querySelector('video').paused`, 20*time.Second)
			tb.waitJS("its card", fmt.Sprintf(`document.querySelectorAll('[data-popup-tag=%q]').length > 0`, tg.ID), 10*time.Second)
			if n := eval[int](tb, fmt.Sprintf(`document.querySelectorAll('[data-popup-tag=%q]').length`, tg.ID)); n != 1 {
				t.Errorf("after unloading and loading the clip again it has %d cards for one tag", n)
			}
			if n := eval[int](tb, last+`.querySelector('video').textTracks.length`); n != 1 {
				t.Errorf("after unloading and loading the clip again its video has %d text tracks", n)
			}
			if n := eval[int](tb, `[...document.querySelectorAll('[data-feed] video')].filter(v => !v.paused).length`); n > 1 {
				t.Errorf("%d feed clips play at once on a phone", n)
			}
		})
	}
}

// TestSearchPage types into the header's search box: the clips whose title
// or tagged products match, and a clear word when nothing does.
func TestSearchPage(t *testing.T) {
	w := newWorld(t)
	shop := newShop(t)
	creator := w.account(shopclip.RoleCreator, "alice")
	brand := w.account(shopclip.RoleBrand, "acme")
	lamp := w.clip(creator, "Desk tour")
	other := w.clip(creator, "Morning run")
	w.tag(brand, lamp, w.product(brand, "Brass lamp", 2500, shop.URL+"/lamp", ""), 0, 2000, 0.5, 0.5)
	for _, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) {
			tb := newTab(t, vp)
			tb.open(w.srv.URL + "/")
			tb.do(chromedp.SendKeys(chromedp.CSS(`#q`), "bras\n"))
			tb.waitJS("the results", `location.pathname === '/search' && document.querySelector('h1.page-title')`, 10*time.Second)
			got := eval[[]string](tb, `[...document.querySelectorAll('[data-feed] [data-clip-id]')].map(e => e.dataset.clipId)`)
			if len(got) != 1 || got[0] != lamp.ID {
				t.Errorf("searching 'bras' lists %v, want [%s] (not %s)", got, lamp.ID, other.ID)
			}
			if v := eval[string](tb, `document.querySelector('#q').value`); v != "bras" {
				t.Errorf("the search box holds %q after the search", v)
			}
			tb.screenshot("search")
			tb.open(w.srv.URL + "/search?q=kettle")
			if txt := eval[string](tb, `document.querySelector('main').innerText`); !strings.Contains(txt, "No clip or product matches") {
				t.Errorf("no-match page reads %q", txt)
			}
		})
	}
}
