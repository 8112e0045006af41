package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip"
)

// TestStudioAccount signs a brand up in the studio's pages, as a person
// does, at a phone's size and a desktop's: the session cookie's flags, an
// API key made (shown once, working) and revoked (working no more), the
// browser in the session list, signing out, a wrong password, signing in.
func TestStudioAccount(t *testing.T) {
	w := newWorld(t)
	for i, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("brand%d@example.com", i)
			tb := newTab(t, vp)
			tb.open(w.srv.URL + "/studio")
			tb.waitJS("the sign-in page", `location.pathname === '/studio/login' && new URLSearchParams(location.search).get('next') === '/studio'`, 10*time.Second)
			tb.screenshot("studio-login")
			tb.do(chromedp.Click(chromedp.CSS(`a[href="/studio/signup"]`)))
			tb.waitJS("the sign-up page", `location.pathname === '/studio/signup'`, 10*time.Second)
			tb.do(
				chromedp.Click(chromedp.CSS(`input[name=role][value=brand]`)),
				chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Acme <b>Bags</b>"),
				chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
				chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "a long enough password"),
			)
			tb.screenshot("studio-signup")
			tb.do(chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
			tb.waitJS("the studio", `location.pathname === '/studio' && document.querySelector('h1').textContent === 'Acme <b>Bags</b>'`, 10*time.Second)
			if txt := eval[string](tb, `document.querySelector('main').innerText`); !strings.Contains(txt, "Brand account · "+email) {
				t.Errorf("the studio reads %q", txt)
			}

			// The cookie: HttpOnly, SameSite=Lax, not readable by scripts.
			ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
			cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{w.srv.URL}})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			var session *network.Cookie
			for _, c := range cookies.Cookies {
				if c.Name == "shopclip_session" {
					session = c
				}
			}
			if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteLax {
				t.Fatalf("session cookie %+v: want HttpOnly and SameSite=Lax", session)
			}
			if got := eval[string](tb, `document.cookie`); strings.Contains(got, "shopclip_session") {
				t.Errorf("scripts can read the session cookie: %q", got)
			}

			// An API key: shown once, and it works.
			tb.do(chromedp.SendKeys(chromedp.CSS(`input[name=name][placeholder]`), "upload script"), chromedp.Click(chromedp.CSS(`#keys form.inline button`)))
			tb.waitJS("the new key", `document.querySelector('[data-new-key]')`, 10*time.Second)
			key := eval[string](tb, `document.querySelector('[data-new-key]').value`)
			if !shopclip.LooksLikeAPIKey(key) {
				t.Fatalf("the new key %q", key)
			}
			tb.screenshot("studio-key")
			api := func() int {
				req, _ := http.NewRequest("GET", w.srv.URL+"/v1/me", nil)
				req.Header.Set("Authorization", "Bearer "+key)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if st := api(); st != 200 {
				t.Fatalf("the new key on the API: %d", st)
			}
			tb.open(w.srv.URL + "/studio")
			if eval[bool](tb, `!!document.querySelector('[data-new-key]')`) {
				t.Error("the key is shown again on the next visit")
			}
			tb.do(chromedp.Click(chromedp.CSS(`#keys [data-key-id] form button`)))
			tb.waitJS("the key revoked", `document.querySelector('#keys [data-key-id]').innerText.includes('revoked')`, 10*time.Second)
			if st := api(); st != 401 {
				t.Errorf("a revoked key on the API: %d", st)
			}
			if n := eval[int](tb, `document.querySelectorAll('#sessions [data-session-id]').length`); n != 1 {
				t.Errorf("%d signed-in browsers listed, want 1", n)
			}

			// Sign out, a wrong password, then in again.
			tb.do(chromedp.Click(chromedp.CSS(`#sessions [data-session-id] form button`)))
			tb.waitJS("the sign-in page", `location.pathname === '/studio/login'`, 10*time.Second)
			tb.open(w.srv.URL + "/studio")
			tb.waitJS("signed out", `location.pathname === '/studio/login'`, 10*time.Second)
			tb.allowErrors("401 (Unauthorized)")
			tb.do(chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email), chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "the wrong password"),
				chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
			tb.waitJS("the error", `document.querySelector('.form-error') && document.querySelector('.form-error').textContent.includes('Wrong email or password')`, 10*time.Second)
			if v := eval[string](tb, `document.querySelector('input[name=email]').value`); v != email {
				t.Errorf("the email typed is lost after a wrong password: %q", v)
			}
			tb.do(chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "a long enough password"), chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
			tb.waitJS("the studio again", `location.pathname === '/studio'`, 10*time.Second)
			tb.screenshot("studio")
		})
	}
}

// TestStudioRefusesCrossSiteForms: a page of another origin on the same
// site (so SameSite=Lax still sends the cookie) posts a form to the studio
// with the signed-in browser's cookie: refused, and nothing is made.
func TestStudioRefusesCrossSiteForms(t *testing.T) {
	w := newWorld(t)
	evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, `<!doctype html><title>prize</title><form id="f" method="post" action="%s/studio/keys"><input name="name" value="stolen"></form>
<button id="go" onclick="document.getElementById('f').submit()">Win</button>`, w.srv.URL)
	}))
	defer evil.Close()
	tb := newTab(t, desktop)
	tb.open(w.srv.URL + "/studio/signup")
	tb.do(
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Victim"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "victim@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "a long enough password"),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
	)
	tb.waitJS("the studio", `location.pathname === '/studio'`, 10*time.Second)
	tb.allowErrors("403 (Forbidden)")
	tb.open(evil.URL)
	tb.do(chromedp.Click(chromedp.CSS(`#go`)))
	tb.waitJS("the answer", `location.href.startsWith(`+"`"+w.srv.URL+"`"+`) && document.querySelector('h1')`, 10*time.Second)
	if h := eval[string](tb, `document.querySelector('h1').textContent`); h != "403" {
		t.Errorf("the cross-site form post got %q, want the 403 page", h)
	}
	l, err := w.db.LoginByEmail(context.Background(), "victim@example.com")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := w.db.AccountAPIKeys(context.Background(), l.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("the cross-site post made %d keys", len(keys))
	}
}
