package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
)

// member is an account signed up with a password, its session token (the
// cookie a browser would hold) and an API key for setting things up.
type member struct {
	*shopclip.Account
	token, key string
}

// An admin is invited, as operators make them.
func (w *world) member(role shopclip.Role, name string) member {
	w.t.Helper()
	ctx := context.Background()
	email := fmt.Sprintf("%s-%d@example.com", role, time.Now().UnixNano())
	in := auth.Signup{Role: role, Name: name, Email: email, Password: "a long enough password"}
	if role == shopclip.RoleAdmin {
		token, hash := shopclip.NewToken(shopclip.InviteTokenPrefix)
		now := time.Now()
		inv := &shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: hash, Role: role, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := w.db.CreateInvite(ctx, inv); err != nil {
			w.t.Fatal(err)
		}
		in.Invite = token
	}
	a, token, _, err := w.auth.SignUp(ctx, in, auth.Client{Addr: "127.0.0.1"})
	if err != nil {
		w.t.Fatal(err)
	}
	key, _, err := w.auth.NewKey(ctx, a.ID, "setup")
	if err != nil {
		w.t.Fatal(err)
	}
	w.keys[a.ID] = key
	return member{a, token, key}
}

// signIn gives the tab m's session cookie.
func (tb *tab) signIn(base string, m member) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: auth.CookieName, Value: m.token, URL: base}); err != nil {
		tb.t.Fatal(err)
	}
}

// get fetches path with m's session cookie (none for the zero member),
// following no redirect.
func (w *world) getAs(m member, path string) *http.Response {
	w.t.Helper()
	req, _ := http.NewRequest("GET", w.srv.URL+path, nil)
	if m.Account != nil {
		req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: m.token})
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// studioPages are the studio's working pages and the role each is for.
var studioPages = map[string]shopclip.Role{
	"/studio/clips":   shopclip.RoleCreator,
	"/studio/consent": shopclip.RoleCreator,
	"/studio/catalog": shopclip.RoleBrand,
	"/studio/tagging": shopclip.RoleBrand,
}

// TestStudioAuthorization walks the studio's pages as a viewer (sent to
// sign in), as each role (its own pages only) and as an admin (all).
func TestStudioAuthorization(t *testing.T) {
	w := newWorld(t)
	who := map[shopclip.Role]member{
		shopclip.RoleCreator: w.member(shopclip.RoleCreator, "c"),
		shopclip.RoleBrand:   w.member(shopclip.RoleBrand, "b"),
	}
	admin := w.member(shopclip.RoleAdmin, "root")
	for path, role := range studioPages {
		if res := w.getAs(member{}, path); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/studio/login?next="+url.QueryEscape(path)) {
			t.Errorf("%s as a viewer: %d %s, want the sign-in page", path, res.StatusCode, res.Header.Get("Location"))
		}
		for r, m := range who {
			res := w.getAs(m, path)
			if want := map[bool]int{true: 200, false: 403}[r == role]; res.StatusCode != want {
				t.Errorf("%s as a %s: %d, want %d", path, r, res.StatusCode, want)
			}
			if res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s as a %s: Cache-Control %q", path, r, res.Header.Get("Cache-Control"))
			}
		}
		if res := w.getAs(admin, path); res.StatusCode != http.StatusOK {
			t.Errorf("%s as an admin: %d", path, res.StatusCode)
		}
	}
}

// TestStudioWorkPages opens every working page of the studio at a phone's
// size and a desktop's, with script payloads planted in every field a
// creator or brand types (names, titles, SKUs, links, filenames): none
// runs, each shows as text; axe finds nothing serious; the pages work:
// a failed clip is processed again and one deleted, live; a tag approved.
func TestStudioWorkPages(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join(nodeModules(t), "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	shop := newShop(t)
	creator := w.member(shopclip.RoleCreator, "creator "+plants[0])
	brand := w.member(shopclip.RoleBrand, "brand "+plants[1])
	clip := w.clip(creator.Account, "clip "+plants[1]+plants[3])
	p := w.product(brand.Account, "product "+plants[2]+plants[0], 1999, shop.URL+"/p?a=1&b="+url.QueryEscape(plants[2]), "")
	w.discount(brand.Account, p, 10, time.Now().Add(-time.Minute), time.Now().Add(time.Hour), true, "OK10")
	w.call(brand.key, "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 500, "end_ms": 4000, "x": 0.2, "y": 0.3}, 202, nil)

	for _, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) {
			// A clip that failed for the storage's sake, and one to delete.
			failed := w.failedClip(creator.Account, "failed "+plants[2], &shopclip.Error{Code: shopclip.EINTERNAL, Message: "Storage was down " + plants[0]})
			doomed := w.failedClip(creator.Account, "doomed", shopclip.Errorf(shopclip.EMEDIAUNREADABLE, "The file is damaged."))

			c := newTab(t, vp)
			c.signIn(w.srv.URL, creator)
			c.open(w.srv.URL + "/studio/clips")
			c.waitJS("the live list", `document.querySelector('[data-studio-clips]').dataset.live === 'open' && document.querySelector('[data-clips] li .actions')`, 15*time.Second)
			checkPage(t, c, axe, "studio-clips", []string{"clip " + plants[1] + plants[3], "failed " + plants[2], "Storage was down " + plants[0]})
			// Only the failure that was not the file's can be processed again.
			row := func(id string) string { return fmt.Sprintf(`[data-clips] li[data-clip-id=%q]`, id) }
			if n := eval[int](c, `document.querySelectorAll('`+row(doomed.ID)+` button').length`); n != 1 {
				t.Errorf("a clip whose file is damaged offers %d buttons, want Delete only", n)
			}
			c.do(chromedp.Click(chromedp.CSS(row(failed.ID) + ` .actions button:not(.danger)`)))
			c.waitJS("the retried clip uploaded again", `document.querySelector('`+row(failed.ID)+`').dataset.status === 'uploaded'`, 15*time.Second)
			c.do(chromedp.Click(chromedp.CSS(row(doomed.ID) + ` .actions button.danger`)))
			c.waitJS("the confirmation", `document.querySelector('[data-confirm-delete]').open`, 5*time.Second)
			c.screenshot("studio-clips-confirm")
			c.do(chromedp.Click(chromedp.CSS(`[data-confirm-delete] button[value=delete]`)))
			c.waitJS("the clip gone", `!document.querySelector('`+row(doomed.ID)+`')`, 15*time.Second)
			if _, err := w.db.Clip(context.Background(), doomed.ID); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
				t.Errorf("the deleted clip: %v", err)
			}

			c.open(w.srv.URL + "/studio/consent")
			c.waitJS("the card on the clip", `(`+visibleJS+`)(document.querySelector('[data-pending] .popup'))`, 15*time.Second)
			checkPage(t, c, axe, "studio-consent", []string{"product " + plants[2] + plants[0], "brand " + plants[1]})
			c.open(w.srv.URL + "/studio")
			checkPage(t, c, axe, "studio-account", []string{"creator " + plants[0]})

			b := newTab(t, vp)
			b.signIn(w.srv.URL, brand)
			b.open(w.srv.URL + "/studio/catalog")
			checkPage(t, b, axe, "studio-catalog", []string{"product " + plants[2] + plants[0], "OK10"})
			b.open(w.srv.URL + "/studio/tagging")
			b.do(chromedp.SendKeys(chromedp.CSS(`[data-find] input[name=q]`), "clip"), chromedp.Click(chromedp.CSS(`[data-find] button[type=submit]`)))
			b.waitJS("the clip found", fmt.Sprintf(`document.querySelector('[data-results] [data-clip-id=%q]')`, clip.ID), 15*time.Second)
			b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-results] [data-clip-id=%q]`, clip.ID))))
			b.waitJS("the tag listed", `document.querySelector('[data-tags] li[data-status]')`, 15*time.Second)
			b.waitJS("the card previewed", `(`+visibleJS+`)(document.querySelector('[data-layer] .popup'))`, 15*time.Second)
			checkPage(t, b, axe, "studio-tagging", []string{"clip " + plants[1] + plants[3], "product " + plants[2] + plants[0]})
		})
	}
}

// failedClip records a clip of creator that failed with e.
func (w *world) failedClip(creator *shopclip.Account, title string, e *shopclip.Error) *shopclip.Clip {
	w.t.Helper()
	ctx := context.Background()
	c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: creator.ID, Title: title, OriginalSize: 10}
	c.OriginalKey = shopclip.OriginalKey(c.ID)
	if err := w.db.CreateClip(ctx, c); err != nil {
		w.t.Fatal(err)
	}
	attempt := shopclip.NewID(shopclip.PrefixAttempt)
	if _, err := w.db.StartClipAttempt(ctx, c.ID, attempt); err != nil {
		w.t.Fatal(err)
	}
	if err := w.db.FailClip(ctx, c.ID, attempt, e); err != nil {
		w.t.Fatal(err)
	}
	return c
}

// checkPage checks the page a tab shows: no planted payload ran or made
// it into the DOM, no link or image with a scheme other than http(s), the
// texts shown as text, no serious accessibility violation; and keeps a
// screenshot.
func checkPage(t *testing.T, tb *tab, axe []byte, name string, texts []string) {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // let anything that would run, run
	if got := eval[string](tb, `String(window.__xss || '')`); got != "" {
		t.Errorf("%s: a planted payload ran (%s)", name, got)
	}
	if n := eval[int](tb, `document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload]').length`); n != 0 {
		t.Errorf("%s: %d planted elements made it into the DOM", name, n)
	}
	if n := eval[int](tb, `[...document.querySelectorAll('a[href], img[src], video[src]:not([src^="blob:"])')].filter(e => !/^https?:$/.test(new URL(e.href || e.src).protocol)).length`); n != 0 {
		t.Errorf("%s: %d links, images or videos with a scheme other than http(s)", name, n)
	}
	text := eval[string](tb, `document.body.innerText + ' ' + [...document.querySelectorAll('input')].map(i => i.value).join(' ')`)
	for _, want := range texts {
		if !strings.Contains(text, strings.TrimSpace(want)) {
			t.Errorf("%s: the page does not show %q as text", name, want)
		}
	}
	eval[bool](tb, string(axe)+";true")
	type violation struct {
		ID, Impact, Help string
		Nodes            []string
	}
	got := eval[[]violation](tb, `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({ID: v.id, Impact: v.impact, Help: v.help, Nodes: v.nodes.slice(0, 3).map(n => n.html)})))`)
	for _, v := range got {
		t.Errorf("%s: %s (%s): %s: %v", name, v.ID, v.Impact, v.Help, v.Nodes)
	}
	tb.screenshot(name)
}

// TestStudioStats records a viewer's view, impression and click and the
// purchase a brand reports, then reads them on the creator's stats and the
// brand's sales, at both sizes: the totals, a chart per measure (bars on
// the day, a summary for screen readers, the numbers in a table), the row
// of the clip and of the product, and one clip's own stats.
func TestStudioStats(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join(nodeModules(t), "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	shop := newShop(t)
	creator := w.member(shopclip.RoleCreator, "Mia")
	brand := w.member(shopclip.RoleBrand, "Acme")
	clip := w.clip(creator.Account, "Ferry at dusk")
	p := w.product(brand.Account, "Canvas tote", 3990, shop.URL+"/tote", "")
	tg := w.tag(brand.Account, clip, p, 0, 4000, 0.2, 0.3)
	session := "stats-session-1"
	for _, ev := range []map[string]any{
		{"type": "view", "session_id": session, "clip_id": clip.ID},
		{"type": "popup_impression", "session_id": session, "clip_id": clip.ID, "tag_id": tg.ID},
		{"type": "popup_click", "session_id": session, "clip_id": clip.ID, "tag_id": tg.ID},
	} {
		w.call("", "POST", "/v1/events", ev, 202, nil)
	}
	w.call(brand.key, "POST", "/v1/events", map[string]any{"type": "purchase", "session_id": session, "product_id": p.ID,
		"order_id": "order-1", "amount_minor": 3990, "currency": "USD"}, 201, nil)

	// One clip's or product's stats are its owner's only.
	other := w.member(shopclip.RoleBrand, "Globex")
	otherCreator := w.member(shopclip.RoleCreator, "Ned")
	for _, tc := range []struct {
		m    member
		path string
	}{{otherCreator, "/studio/stats?clip=" + clip.ID}, {creator, "/studio/stats?clip=clp_aaaaaaaaaaaaaaaaaaaaaaaaaa"}, {other, "/studio/sales?product=" + p.ID}} {
		if res := w.getAs(tc.m, tc.path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s as %s: %d, want 404", tc.path, tc.m.Name, res.StatusCode)
		}
	}

	totals := func(tb *tab) string {
		return eval[string](tb, `[...document.querySelectorAll('[data-totals] div')].map(d => d.querySelector('dt').textContent + '=' + d.querySelector('dd').textContent).join('; ')`)
	}
	const want = "Views=1; Card impressions=1; Clicks=1; Click-through=100.0%; Purchases=1; Revenue=39.90 USD"
	for _, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) {
			c := newTab(t, vp)
			c.signIn(w.srv.URL, creator)
			c.open(w.srv.URL + "/studio/stats")
			if got := totals(c); got != want {
				t.Errorf("creator's totals: %s, want %s", got, want)
			}
			charts := eval[[]string](c, `[...document.querySelectorAll('[data-chart]')].map(f => f.dataset.chart + ':' + f.querySelectorAll('svg.chart rect').length + ':' + f.querySelector('svg.chart').getAttribute('aria-label'))`)
			if len(charts) != 4 {
				t.Fatalf("charts %q, want views, impressions and clicks, purchases, revenue", charts)
			}
			for i, prefix := range []string{"Views:1:Views per day", "Impressions and clicks:1:", "Purchases:1:", "Revenue in USD:1:"} {
				if !strings.HasPrefix(charts[i], prefix) {
					t.Errorf("chart %d: %q, want %q…", i, charts[i], prefix)
				}
			}
			if !strings.Contains(charts[3], "Revenue: 39.90 USD in all") {
				t.Errorf("the revenue chart's summary: %q", charts[3])
			}
			if got := eval[string](c, `document.querySelector('table.stats tbody tr') ? '' : 'none'`); got != "" {
				t.Errorf("no table of numbers")
			}
			checkPage(t, c, axe, "studio-stats", []string{"Ferry at dusk"})
			c.do(chromedp.Click(chromedp.CSS(`section[aria-labelledby="per-h"] tbody a`)))
			c.waitJS("the clip's own stats", `location.search.includes('clip=`+clip.ID+`') && document.querySelector('.lede').textContent.includes('Ferry at dusk')`, 10*time.Second)
			if got := totals(c); got != want {
				t.Errorf("the clip's totals: %s", got)
			}

			b := newTab(t, vp)
			b.signIn(w.srv.URL, brand)
			b.open(w.srv.URL + "/studio/sales?days=7")
			if got := totals(b); got != want {
				t.Errorf("brand's totals: %s, want %s", got, want)
			}
			checkPage(t, b, axe, "studio-sales", []string{"Canvas tote", "Ferry at dusk", "39.90 USD"})
		})
	}
}

// throttle makes the tab's uploads go at bytes a second (-1: no limit),
// as a slow phone network does.
func (tb *tab) throttle(bytes float64) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{DownloadThroughput: -1, UploadThroughput: bytes}},
	}); err != nil {
		tb.t.Fatal(err)
	}
}

// TestStudioUploadQueue uploads through the clips page over a slow link:
// progress, a warning before leaving mid-upload, pause (nothing more
// sent), a reload (the page lists the unfinished upload), the same file
// picked again goes on from where it stopped and makes the clip with the
// title it was given; another upload cancelled leaves nothing.
func TestStudioUploadQueue(t *testing.T) {
	w := newWorld(t)
	creator := w.member(shopclip.RoleCreator, "Mia")
	slow := &cutter{} // counts what arrives; the browser's own network throttling slows it
	proxy := httptest.NewServer(slow.handler(w.srv.URL))
	t.Cleanup(proxy.Close)
	dir := t.TempDir()
	file := filepath.Join(dir, "beach day.mov")
	data := make([]byte, 3<<20)
	copy(data, "\x00\x00\x00\x20ftypqt  \x00\x00\x02\x00qt  \x00\x00\x00\x00")
	for i := 64; i < len(data); i++ {
		data[i] = byte(i * 31)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.mp4")
	if err := os.WriteFile(other, data, 0o644); err != nil {
		t.Fatal(err)
	}

	tb := newTab(t, desktop)
	tb.throttle(400 << 10)
	tb.signIn(proxy.URL, creator)
	tb.open(proxy.URL + "/studio/clips")
	tb.waitJS("the live status", `document.querySelector('[data-studio-clips]').dataset.live === 'open'`, 15*time.Second)
	tb.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-pick]`), []string{file}))
	item := `document.querySelector('[data-queue] li[data-upload="beach day.mov"]')`
	tb.waitJS("progress", item+` && Number(`+item+`.dataset.progress) >= 10`, 20*time.Second)
	if !eval[bool](tb, `(() => { const e = new Event('beforeunload', {cancelable: true}); dispatchEvent(e); return e.defaultPrevented; })()`) {
		t.Error("leaving mid-upload gives no warning")
	}
	if info := eval[string](tb, item+`.querySelector('.when').textContent`); !strings.Contains(info, "/s") || !strings.Contains(info, "left") {
		t.Errorf("the upload shows %q: want its speed and time left", info)
	}
	tb.screenshot("studio-upload-progress")
	tb.do(chromedp.Click(chromedp.CSS(`[data-queue] li[data-upload="beach day.mov"] .actions button:not(.danger)`)))
	tb.waitJS("paused", item+`.dataset.state === 'paused'`, 5*time.Second)
	time.Sleep(500 * time.Millisecond)
	slow.mu.Lock()
	sent := sum(slow.patches)
	slow.mu.Unlock()
	time.Sleep(time.Second)
	slow.mu.Lock()
	if after := sum(slow.patches); after != sent {
		t.Errorf("paused, the page went on sending: %d then %d bytes", sent, after)
	}
	slow.mu.Unlock()
	if sent <= 0 || sent >= int64(len(data)) {
		t.Fatalf("sent %d of %d bytes before the pause", sent, len(data))
	}

	// A reload: the page remembers the unfinished upload.
	tb.open(proxy.URL + "/studio/clips")
	tb.waitJS("the unfinished upload", `!document.querySelector('[data-unfinished]').hidden && document.querySelector('[data-unfinished-list]').textContent.includes('beach day.mov')`, 10*time.Second)
	tb.screenshot("studio-upload-unfinished")
	tb.throttle(-1)
	tb.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-pick]`), []string{file}))
	tb.waitJS("done", item+` && `+item+`.dataset.state === 'done'`, 30*time.Second)
	slow.mu.Lock()
	total := sum(slow.patches)
	slow.mu.Unlock()
	if total >= int64(len(data))+sent/2 {
		t.Errorf("%d bytes sent for a %d-byte file paused at %d: the upload started over", total, len(data), sent)
	}
	id := eval[string](tb, item+`.dataset.clipId || ''`)
	c, err := w.db.Clip(context.Background(), id)
	if err != nil || c.Title != "beach day" || c.OriginalSize != int64(len(data)) || c.CreatorID != creator.ID {
		t.Fatalf("clip %+v, %v", c, err)
	}
	tb.waitJS("the clip listed, live", fmt.Sprintf(`document.querySelector('[data-clips] li[data-clip-id=%q]')`, id), 10*time.Second)
	if eval[bool](tb, `(() => { const e = new Event('beforeunload', {cancelable: true}); dispatchEvent(e); return e.defaultPrevented; })()`) {
		t.Error("nothing uploading, yet leaving is warned against")
	}
	if !eval[bool](tb, `document.querySelector('[data-unfinished]').hidden`) {
		t.Error("the finished upload is still listed as unfinished")
	}

	// Cancel: the queue drops it, and no clip is made.
	tb.throttle(200 << 10)
	tb.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-pick]`), []string{other}))
	otherItem := `document.querySelector('[data-queue] li[data-upload="other.mp4"]')`
	tb.waitJS("the other uploading", otherItem+` && `+otherItem+`.dataset.state === 'uploading' && Number(`+otherItem+`.dataset.progress) > 0`, 20*time.Second)
	tb.do(chromedp.Click(chromedp.CSS(`[data-queue] li[data-upload="other.mp4"] button.danger`)))
	tb.waitJS("the other gone", `!`+otherItem, 10*time.Second)
	clips, err := w.db.CreatorClips(context.Background(), creator.ID, shopclip.Page{Limit: 10})
	if err != nil || len(clips) != 1 {
		t.Fatalf("clips after a cancel: %d, %v", len(clips), err)
	}
}
