package storefront_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// browser is a client with a cookie jar of one session cookie.
type browser struct {
	e      *env
	cookie string // "shopclip_session=…", or "" when signed out
	origin string // the Origin it sends on state-changing requests
}

func (e *env) browser() *browser { return &browser{e: e, origin: e.srv.URL} }

// do sends a request as the browser: its cookie, and the Origin and
// Sec-Fetch-Site a browser sends from the page it is on.
func (b *browser) do(method, path string, body any, header ...string) response {
	b.e.t.Helper()
	h := append([]string{}, header...)
	if b.cookie != "" {
		h = append(h, "Cookie", b.cookie)
	}
	if method != "GET" {
		site := "same-origin"
		if b.origin != b.e.srv.URL {
			site = "cross-site"
		}
		h = append(h, "Origin", b.origin, "Sec-Fetch-Site", site)
	}
	resp := b.e.do("", method, path, body, h...)
	for _, c := range (&http.Response{Header: resp.Header}).Cookies() {
		if c.Name == "shopclip_session" {
			if c.MaxAge < 0 || c.Value == "" {
				b.cookie = ""
			} else {
				b.cookie = c.Name + "=" + c.Value
			}
		}
	}
	return resp
}

func (b *browser) signup(role, name, email, password string) response {
	b.e.t.Helper()
	return b.do("POST", "/v1/auth/signup", map[string]any{"role": role, "name": name, "email": email, "password": password})
}

func TestSignupSessionCookie(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	resp := b.signup("creator", "Carol", " Carol@Example.COM ", "a long enough password")
	if resp.Status != 201 {
		t.Fatalf("signup: %d %s", resp.Status, resp.Body)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: resp.Header}).Cookies() {
		if c.Name == "shopclip_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || !strings.HasPrefix(cookie.Value, "scs_") {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/", cookie)
	}
	if cookie.Secure {
		t.Error("the cookie is Secure on plain HTTP (a browser would never send it back)")
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on a sign-up", cc)
	}
	// The cookie works on the routes a key works on.
	var me shopclip.Account
	b.do("GET", "/v1/me", nil).json(t, &me)
	if me.Name != "Carol" || me.Role != shopclip.RoleCreator {
		t.Fatalf("me with the cookie: %+v", me)
	}
	if resp := b.do("POST", "/v1/clips", "x"); resp.Status == 401 || resp.Status == 403 {
		t.Errorf("a creator's upload with the cookie: %d %s", resp.Status, resp.Body)
	}
	// The same email again, in any case, is taken.
	if resp := e.browser().signup("brand", "Other", "carol@example.com", "another long password"); resp.Status != 409 {
		t.Errorf("a second sign-up with the email: %d %s", resp.Status, resp.Body)
	}
}

func TestSignupValidation(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name, role, who, email, password string
		status                           int
	}{
		{"admin by sign-up", "admin", "Mallory", "m@example.com", "a long enough password", 400},
		{"unknown role", "viewer", "Vic", "v@example.com", "a long enough password", 400},
		{"short password", "brand", "Bob", "b@example.com", "short", 400},
		{"bad email", "brand", "Bob", "not-an-email", "a long enough password", 400},
		{"no name", "brand", "", "b2@example.com", "a long enough password", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.browser().signup(tt.role, tt.who, tt.email, tt.password)
			if resp.Status != tt.status {
				t.Errorf("%d %s, want %d", resp.Status, resp.Body, tt.status)
			}
			if resp.Header.Get("Set-Cookie") != "" {
				t.Error("a failed sign-up set a cookie")
			}
		})
	}
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	e.browser().signup("brand", "Dora", "dora@example.com", "dora's secret phrase")
	b := e.browser()
	for _, tt := range []struct{ email, password string }{
		{"dora@example.com", "wrong password here"}, {"nobody@example.com", "dora's secret phrase"}, {"", ""},
	} {
		resp := b.do("POST", "/v1/auth/login", map[string]any{"email": tt.email, "password": tt.password})
		if resp.Status != 401 || resp.errCode() != shopclip.EUNAUTHORIZED || b.cookie != "" {
			t.Errorf("login %q/%q: %d %s", tt.email, tt.password, resp.Status, resp.Body)
		}
	}
	if resp := b.do("POST", "/v1/auth/login", map[string]any{"email": "DORA@example.com", "password": "dora's secret phrase"}); resp.Status != 200 || b.cookie == "" {
		t.Fatalf("login: %d %s", resp.Status, resp.Body)
	}
	other := e.browser()
	other.do("POST", "/v1/auth/login", map[string]any{"email": "dora@example.com", "password": "dora's secret phrase"})
	var list struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
			IP      string `json:"ip"`
		} `json:"sessions"`
	}
	b.do("GET", "/v1/me/sessions", nil).json(t, &list)
	if len(list.Sessions) != 3 { // sign-up, and two sign-ins
		t.Fatalf("sessions: %+v", list.Sessions)
	}
	current := 0
	for _, s := range list.Sessions {
		if s.Current {
			current++
		}
		if s.IP != "127.0.0.1" {
			t.Errorf("session %s from %q", s.ID, s.IP)
		}
	}
	if current != 1 {
		t.Errorf("%d sessions are marked current", current)
	}
	// Sign out here: this browser is out, the other stays in.
	if resp := b.do("POST", "/v1/auth/logout", nil); resp.Status != 204 || b.cookie != "" {
		t.Fatalf("logout: %d %s, cookie %q", resp.Status, resp.Body, b.cookie)
	}
	if resp := other.do("GET", "/v1/me", nil); resp.Status != 200 {
		t.Errorf("the other browser after this one signed out: %d", resp.Status)
	}
	// Everywhere: the other browser too.
	if resp := other.do("POST", "/v1/auth/logout", map[string]any{"everywhere": true}); resp.Status != 204 {
		t.Fatalf("logout everywhere: %d %s", resp.Status, resp.Body)
	}
	third := e.browser()
	third.do("POST", "/v1/auth/login", map[string]any{"email": "dora@example.com", "password": "dora's secret phrase"})
	third.do("GET", "/v1/me/sessions", nil).json(t, &list)
	if len(list.Sessions) != 1 {
		t.Errorf("after signing out everywhere, %d sessions remain", len(list.Sessions))
	}
}

func TestCrossSiteRequestsWithTheCookie(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signup("brand", "Eve", "eve@example.com", "eve's long password")
	evil := &browser{e: e, cookie: b.cookie, origin: "https://evil.example"}
	body := map[string]any{"sku": "X", "title": "x", "currency": "USD", "price_minor": 100, "url": "https://x.example/p"}
	if resp := evil.do("POST", "/v1/products", body); resp.Status != 403 {
		t.Errorf("a cross-site POST with the cookie: %d %s", resp.Status, resp.Body)
	}
	// Origin alone (no Sec-Fetch-Site) is checked against the host too.
	if resp := e.do("", "POST", "/v1/products", body, "Cookie", b.cookie, "Origin", "https://evil.example"); resp.Status != 403 {
		t.Errorf("a POST from another Origin with the cookie: %d %s", resp.Status, resp.Body)
	}
	if resp := b.do("POST", "/v1/products", body); resp.Status != 201 {
		t.Errorf("a same-origin POST with the cookie: %d %s", resp.Status, resp.Body)
	}
	// A read is no state change; an API key from a script of any origin
	// is no cookie.
	if resp := evil.do("GET", "/v1/me", nil); resp.Status != 200 {
		t.Errorf("a cross-site GET: %d", resp.Status)
	}
	if resp := e.do("acme", "POST", "/v1/products", body, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); resp.Status != 201 {
		t.Errorf("a cross-site POST with an API key: %d %s", resp.Status, resp.Body)
	}
	// Login CSRF: another site cannot sign the browser in.
	if resp := evil.do("POST", "/v1/auth/login", map[string]any{"email": "eve@example.com", "password": "eve's long password"}); resp.Status != 403 {
		t.Errorf("a cross-site login: %d", resp.Status)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	e.browser().signup("creator", "Finn", "finn@example.com", "finn's long password")
	b := e.browser()
	limited := 0
	for range 10 {
		resp := b.do("POST", "/v1/auth/login", map[string]any{"email": "finn@example.com", "password": "guess guess guess"})
		if resp.Status == 429 {
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Fatal("10 wrong passwords in a row for one account were never slowed down")
	}
	// The right password waits too, while the account is limited.
	if resp := b.do("POST", "/v1/auth/login", map[string]any{"email": "finn@example.com", "password": "finn's long password"}); resp.Status != 429 {
		t.Errorf("right password while limited: %d", resp.Status)
	}
	// Later it works again.
	e.now = e.now.Add(10 * time.Minute)
	if resp := b.do("POST", "/v1/auth/login", map[string]any{"email": "finn@example.com", "password": "finn's long password"}); resp.Status != 200 {
		t.Errorf("right password after the wait: %d %s", resp.Status, resp.Body)
	}
}

func TestAPIKeysOverHTTP(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signup("brand", "Gus", "gus@example.com", "gus's long password")
	var k struct {
		ID, Key, Name string
	}
	resp := b.do("POST", "/v1/me/keys", map[string]any{"name": "CI upload script"})
	if resp.Status != 201 {
		t.Fatalf("create key: %d %s", resp.Status, resp.Body)
	}
	resp.json(t, &k)
	if !shopclip.LooksLikeAPIKey(k.Key) || k.Name != "CI upload script" {
		t.Fatalf("new key: %+v", k)
	}
	key := func(method, path string) response {
		return e.do("", method, path, nil, "Authorization", "Bearer "+k.Key)
	}
	if resp := key("GET", "/v1/me"); resp.Status != 200 {
		t.Fatalf("the new key: %d", resp.Status)
	}
	var list struct {
		Keys []map[string]any `json:"keys"`
	}
	b.do("GET", "/v1/me/keys", nil).json(t, &list)
	if len(list.Keys) != 1 || list.Keys[0]["id"] != k.ID || list.Keys[0]["key"] != nil || list.Keys[0]["hash"] != nil {
		t.Fatalf("key list: %+v (no key, no hash)", list.Keys)
	}
	// Another account cannot revoke it.
	if resp := e.do("globex", "DELETE", "/v1/me/keys/"+k.ID, nil); resp.Status != 404 {
		t.Errorf("another brand revoking the key: %d", resp.Status)
	}
	if resp := b.do("DELETE", "/v1/me/keys/"+k.ID, nil); resp.Status != 204 {
		t.Fatalf("revoke: %d %s", resp.Status, resp.Body)
	}
	if resp := key("GET", "/v1/me"); resp.Status != 401 {
		t.Errorf("a revoked key: %d", resp.Status)
	}
	for _, name := range []string{"", strings.Repeat("n", shopclip.MaxKeyNameLen+1), "bad\nname"} {
		if resp := b.do("POST", "/v1/me/keys", map[string]any{"name": name}); resp.Status != 400 {
			t.Errorf("key named %q: %d", name, resp.Status)
		}
	}
}

func TestInvitationsWhenSignupIsClosed(t *testing.T) {
	e := newEnv(t)
	e.auth.ClosedSignup = true
	if resp := e.browser().signup("creator", "Hal", "hal@example.com", "hal's long password"); resp.Status != 403 {
		t.Fatalf("open sign-up while closed: %d %s", resp.Status, resp.Body)
	}
	token, hash := shopclip.NewToken(shopclip.InviteTokenPrefix)
	inv := &shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: hash, Role: shopclip.RoleBrand, Email: "ivy@example.com",
		CreatedAt: e.now, ExpiresAt: e.now.Add(shopclip.InviteLifetime)}
	if err := e.store.CreateInvite(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	body := map[string]any{"role": "creator", "name": "Ivy", "email": "someone@example.com", "password": "ivy's long password", "invite": token}
	if resp := b.do("POST", "/v1/auth/signup", body); resp.Status != 403 {
		t.Errorf("the invitation with another email: %d %s", resp.Status, resp.Body)
	}
	body["email"] = "ivy@example.com"
	resp := b.do("POST", "/v1/auth/signup", body)
	if resp.Status != 201 {
		t.Fatalf("sign-up by invitation: %d %s", resp.Status, resp.Body)
	}
	var out struct{ Account shopclip.Account }
	resp.json(t, &out)
	if out.Account.Role != shopclip.RoleBrand {
		t.Errorf("the invitation's role is %s, the account's %s", shopclip.RoleBrand, out.Account.Role)
	}
	body["email"] = "ivy2@example.com"
	if resp := e.browser().do("POST", "/v1/auth/signup", body); resp.Status != 403 {
		t.Errorf("an invitation used twice: %d", resp.Status)
	}
}

func TestDisabledAccount(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signup("creator", "Jo", "jo@example.com", "jo's long password")
	var me shopclip.Account
	b.do("GET", "/v1/me", nil).json(t, &me)
	k := b.do("POST", "/v1/me/keys", map[string]any{"name": "k"})
	var key struct{ Key string }
	k.json(t, &key)
	if err := e.store.SetAccountDisabled(context.Background(), me.ID, true); err != nil {
		t.Fatal(err)
	}
	if resp := b.do("GET", "/v1/me", nil); resp.Status != 401 {
		t.Errorf("the disabled account's session: %d", resp.Status)
	}
	if resp := e.do("", "GET", "/v1/me", nil, "Authorization", "Bearer "+key.Key); resp.Status != 401 {
		t.Errorf("the disabled account's key: %d", resp.Status)
	}
	if resp := b.do("POST", "/v1/auth/login", map[string]any{"email": "jo@example.com", "password": "jo's long password"}); resp.Status != 401 {
		t.Errorf("signing in to the disabled account: %d %s", resp.Status, resp.Body)
	}
}
