package storefront_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
)

// jsonRoute is a route with a JSON body, as a caller allowed on it calls
// it, with a body it accepts.
type jsonRoute struct {
	user, method, path string
	valid              map[string]any
}

// jsonRoutes are the JSON-bodied routes of a world with alice's ready
// clip, acme's product and acme's tag on the clip.
func (e *env) jsonRoutes() []jsonRoute {
	e.t.Helper()
	clip, p, tag := e.tagged()
	return []jsonRoute{
		{"", "POST", "/v1/auth/signup", map[string]any{"role": "creator", "name": "Carol", "email": "carol@example.com", "password": "correct horse battery"}},
		{"", "POST", "/v1/auth/login", map[string]any{"email": "carol@example.com", "password": "correct horse battery"}},
		{"", "POST", "/v1/auth/logout", map[string]any{"everywhere": true}},
		{"alice", "POST", "/v1/me/keys", map[string]any{"name": "laptop"}},
		{"acme", "POST", "/v1/products", map[string]any{"sku": "S-2", "title": "Tote", "currency": "EUR", "price_minor": 2500, "url": "https://shop.example.com/p/2"}},
		{"acme", "PATCH", "/v1/products/" + p.ID, map[string]any{"price_minor": 18900, "in_stock": false}},
		{"acme", "POST", "/v1/products/" + p.ID + "/discounts", map[string]any{"kind": "percent", "percent_off": 10, "starts_at": "2026-11-21T00:00:00Z", "ends_at": "2026-11-28T00:00:00Z"}},
		{"acme", "POST", "/v1/clips/" + clip.ID + "/tags", map[string]any{"product_id": p.ID, "start_ms": 1000, "end_ms": 2000, "x": 0.2, "y": 0.3}},
		{"alice", "POST", "/v1/clips/" + clip.ID + "/tags/" + tag.ID + "/approve", map[string]any{"always": true}},
		{"alice", "POST", "/v1/me/approved-brands", map[string]any{"brand_id": e.accounts["globex"].ID}},
		{"", "POST", "/v1/events", map[string]any{"type": "view", "session_id": "sess-12345678", "clip_id": clip.ID}},
		{"acme", "POST", "/v1/events", map[string]any{"type": "purchase", "session_id": "sess-12345678", "product_id": p.ID, "order_id": "o-1", "amount_minor": 18900, "currency": "USD"}},
	}
}

// send posts body to rt as its user, with t's failures.
func (e *env) send(t *testing.T, rt jsonRoute, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(rt.method, e.srv.URL+rt.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if rt.user != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[rt.user])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// FuzzJSONRoutes sends any body to every JSON-bodied route, through the
// whole handler as an allowed caller: never a 5xx, and never a success for
// a body past the 1 MiB limit.
func FuzzJSONRoutes(f *testing.F) {
	e := newEnv(f)
	routes := e.jsonRoutes()
	for i, rt := range routes {
		valid, _ := json.Marshal(rt.valid)
		for _, seed := range []string{
			string(valid), "{}", "null", `{"unknown": 1}`, "[]", `"x"`, "{", string(valid) + " {}",
			strings.Replace(string(valid), "{", `{"id": "x", `, 1), `{"price_minor": 1e400, "start_ms": -9223372036854775808}`,
			`{"x": 1e308, "y": -0.0, "end_ms": 9223372036854775807}`, `{"starts_at": "0000-01-01T00:00:00Z", "ends_at": "9999-12-31T23:59:59Z"}`,
		} {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		rt := routes[int(which)%len(routes)]
		resp := e.send(t, rt, body)
		if resp.Status >= 500 {
			t.Fatalf("%s %s %q: %d %s", rt.method, rt.path, body, resp.Status, resp.Body)
		}
		if len(body) > 1<<20 && resp.Status < 400 {
			t.Fatalf("%s %s: %d bytes accepted: %d", rt.method, rt.path, len(body), resp.Status)
		}
	})
}

// TestJSONRoutesStrict: every JSON-bodied route answers 413 to a body past
// the limit and 400 naming the field to an unknown one — a client cannot
// set what the server decides (brand_id, status) by sending it.
func TestJSONRoutesStrict(t *testing.T) {
	e := newEnv(t)
	for _, rt := range e.jsonRoutes() {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			// The valid body with a string field (or, lacking one, an
			// unknown field) grown past the limit.
			big := map[string]any{"pad": strings.Repeat(" ", 1<<20)}
			for k, v := range rt.valid {
				big[k] = v
				if _, ok := v.(string); ok && big["pad"] != nil {
					big[k], big["pad"] = strings.Repeat("a", 1<<20), nil
				}
			}
			if big["pad"] == nil {
				delete(big, "pad")
			}
			body, _ := json.Marshal(big)
			if resp := e.send(t, rt, body); resp.Status != http.StatusRequestEntityTooLarge || resp.errCode() != shopclip.ETOOLARGE {
				t.Errorf("%d bytes: %d %s, want 413", len(body), resp.Status, resp.Body)
			}
			extra := map[string]any{"status": "active"}
			for k, v := range rt.valid {
				extra[k] = v
			}
			body, _ = json.Marshal(extra)
			if resp := e.send(t, rt, body); resp.Status != http.StatusBadRequest || !strings.Contains(resp.errMessage(), `Unknown field "status"`) {
				t.Errorf("an unknown field: %d %s, want 400 naming it", resp.Status, resp.Body)
			}
		})
	}
}
