package storefront_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/shopclip/shopclip/internal/clientip"
)

// behindProxy serves e's API, as shopclip does, behind a clientip Resolver
// that trusts the proxies listed (127.0.0.1: the test's client stands in
// for a reverse proxy on the same machine).
func (e *env) behindProxy(trusted ...string) *env {
	e.t.Helper()
	var p []netip.Prefix
	for _, s := range trusted {
		p = append(p, netip.MustParsePrefix(s))
	}
	srv := httptest.NewServer((&clientip.Resolver{Trusted: p}).Handler(e.srv.Config.Handler))
	e.t.Cleanup(srv.Close)
	e2 := *e
	e2.srv = srv
	return &e2
}

// TestMetricsBehindProxies: /metrics answers a scrape from this machine;
// a forwarding header from a peer not trusted never makes a request local,
// and from a trusted proxy it is believed both ways.
func TestMetricsBehindProxies(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		e      *env
		header []string
		want   int
	}{
		{"direct", e.behindProxy(), nil, 200},
		{"direct, no resolver", e, nil, 200},
		{"loopback spoof, none trusted", e.behindProxy(), []string{"X-Forwarded-For", "127.0.0.1"}, 404},
		{"a remote client through a proxy not trusted", e.behindProxy(), []string{"X-Forwarded-For", "203.0.113.7"}, 404},
		{"Forwarded through a proxy not trusted", e.behindProxy(), []string{"Forwarded", "for=203.0.113.7"}, 404},
		{"a remote client through a trusted proxy", e.behindProxy("127.0.0.1/32"), []string{"X-Forwarded-For", "203.0.113.7"}, 404},
		{"a remote client's loopback spoof through a trusted proxy", e.behindProxy("127.0.0.1/32"), []string{"X-Forwarded-For", "127.0.0.1, 203.0.113.7"}, 404},
		{"a loopback client through a trusted proxy", e.behindProxy("127.0.0.1/32"), []string{"X-Forwarded-For", "127.0.0.1"}, 200},
		{"a trusted proxy that says only Forwarded", e.behindProxy("127.0.0.1/32"), []string{"Forwarded", "for=203.0.113.7"}, 404},
		{"a trusted proxy that says nothing", e.behindProxy("127.0.0.1/32"), nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp := tc.e.do("", "GET", "/metrics", nil, tc.header...); resp.Status != tc.want {
				t.Errorf("anonymous /metrics: %d, want %d", resp.Status, tc.want)
			}
			// Admins' keys are answered from anywhere.
			if resp := tc.e.do("root", "GET", "/metrics", nil, tc.header...); resp.Status != http.StatusOK {
				t.Errorf("admin's /metrics: %d, want 200", resp.Status)
			}
		})
	}
}

// TestRateLimitsKeyOnTheClient: sign-in attempts are limited per client;
// behind a trusted proxy each client X-Forwarded-For names has its own
// budget, and a peer not trusted cannot buy a fresh one by naming another.
func TestRateLimitsKeyOnTheClient(t *testing.T) {
	e := newEnv(t)
	n := 0
	login := func(e *env, xff string) int {
		t.Helper()
		n++ // a new email each time: the limit per account stays out of it
		return e.do("", "POST", "/v1/auth/login", map[string]string{"email": fmt.Sprintf("nobody%d@example.com", n), "password": "wrong password"},
			"X-Forwarded-For", xff).Status
	}
	// The sign-in limit per address is a burst of 10 on a stopped clock.
	const burst = 10
	proxied := e.behindProxy("127.0.0.1/32")
	for i := range burst {
		if got := login(proxied, "198.51.100.1"); got != http.StatusUnauthorized {
			t.Fatalf("attempt %d through the proxy: %d, want 401", i+1, got)
		}
	}
	if got := login(proxied, "198.51.100.1"); got != http.StatusTooManyRequests {
		t.Errorf("attempt %d through the proxy: %d, want 429", burst+1, got)
	}
	if got := login(proxied, "198.51.100.2"); got != http.StatusUnauthorized {
		t.Errorf("another client through the proxy: %d, want 401", got)
	}
	// The proxy's own address was not charged: straight from it, with a
	// spoofed header that changes nothing, the budget is whole — and then
	// spent whatever each request claims.
	direct := e.behindProxy()
	for i := range burst {
		if got := login(direct, fmt.Sprintf("203.0.113.%d", i+1)); got != http.StatusUnauthorized {
			t.Fatalf("direct attempt %d: %d, want 401", i+1, got)
		}
	}
	if got := login(direct, "203.0.113.99"); got != http.StatusTooManyRequests {
		t.Errorf("direct attempt %d claiming another address: %d, want 429", burst+1, got)
	}
}
