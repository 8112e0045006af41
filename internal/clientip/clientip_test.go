package clientip_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/internal/clientip"
)

func TestParsePrefixes(t *testing.T) {
	got, err := clientip.ParsePrefixes([]string{"127.0.0.1", "::1", "10.1.2.3/8", " fd00::/8", "::ffff:192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1/32", "::1/128", "10.0.0.0/8", "fd00::/8", "192.0.2.7/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("prefix %d: got %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "localhost", "10.0.0.0/33", "1.2.3", "fe80::1%eth0", "*"} {
		if _, err := clientip.ParsePrefixes([]string{bad}); err == nil {
			t.Errorf("%q: got no error, want one", bad)
		}
	}
}

func TestResolve(t *testing.T) {
	trusted, err := clientip.ParsePrefixes([]string{"127.0.0.1", "10.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		trusted bool // with the trusted proxies above, or none
		peer    string
		header  []string // name, value pairs
		client  string
		local   bool
	}{
		{"direct", true, "203.0.113.9:5000", nil, "203.0.113.9", false},
		{"direct loopback", true, "127.0.0.1:5000", nil, "127.0.0.1", true},
		{"direct loopback, none trusted", false, "127.0.0.1:5000", nil, "127.0.0.1", true},
		{"direct IPv6 loopback", false, "[::1]:5000", nil, "::1", true},
		{"spoof from an untrusted peer", true, "203.0.113.9:5000", []string{"X-Forwarded-For", "127.0.0.1"}, "203.0.113.9", false},
		{"loopback spoof from an untrusted peer", true, "203.0.113.9:5000", []string{"X-Forwarded-For", "::1"}, "203.0.113.9", false},
		{"a proxy not trusted", false, "127.0.0.1:5000", []string{"X-Forwarded-For", "198.51.100.4"}, "127.0.0.1", false},
		{"loopback client through a proxy not trusted", false, "127.0.0.1:5000", []string{"X-Forwarded-For", "127.0.0.1"}, "127.0.0.1", false},
		{"Forwarded from a proxy not trusted", false, "127.0.0.1:5000", []string{"Forwarded", "for=198.51.100.4"}, "127.0.0.1", false},
		{"X-Real-IP from a proxy not trusted", false, "127.0.0.1:5000", []string{"X-Real-Ip", "198.51.100.4"}, "127.0.0.1", false},
		{"trusted proxy", true, "127.0.0.1:5000", []string{"X-Forwarded-For", "198.51.100.4"}, "198.51.100.4", false},
		{"trusted proxy, client's spoof on the left", true, "127.0.0.1:5000", []string{"X-Forwarded-For", "127.0.0.1, 198.51.100.4"}, "198.51.100.4", false},
		{"two trusted hops", true, "127.0.0.1:5000", []string{"X-Forwarded-For", "6.6.6.6, 198.51.100.4, 10.2.3.4"}, "198.51.100.4", false},
		{"several header lines", true, "10.0.0.1:5000", []string{"X-Forwarded-For", "6.6.6.6", "X-Forwarded-For", "198.51.100.4, 10.9.9.9"}, "198.51.100.4", false},
		{"with ports", true, "[::1]:5000", []string{"X-Forwarded-For", "[2001:db8::7]:4711, 10.0.0.2:80"}, "2001:db8::7", false},
		{"mapped IPv4", true, "[::ffff:127.0.0.1]:5000", []string{"X-Forwarded-For", "::ffff:198.51.100.4"}, "198.51.100.4", false},
		{"every hop trusted", true, "127.0.0.1:5000", []string{"X-Forwarded-For", "10.0.0.5, 10.0.0.6"}, "10.0.0.5", false},
		{"the proxy's own loopback health check", true, "127.0.0.1:5000", []string{"X-Forwarded-For", "127.0.0.1"}, "127.0.0.1", true},
		{"malformed right-most hop", true, "127.0.0.1:5000", []string{"X-Forwarded-For", "198.51.100.4, nonsense"}, "127.0.0.1", false},
		{"malformed hop behind a good one", true, "127.0.0.1:5000", []string{"X-Forwarded-For", "nonsense, 10.0.0.7"}, "10.0.0.7", false},
		{"trusted proxy without X-Forwarded-For", true, "127.0.0.1:5000", nil, "127.0.0.1", true},
		{"trusted proxy with only Forwarded", true, "127.0.0.1:5000", []string{"Forwarded", "for=198.51.100.4"}, "127.0.0.1", false},
		{"empty X-Forwarded-For", true, "127.0.0.1:5000", []string{"X-Forwarded-For", ""}, "127.0.0.1", false},
		{"not an address", true, "pipe", []string{"X-Forwarded-For", "127.0.0.1"}, "invalid IP", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := &clientip.Resolver{}
			if tc.trusted {
				rs.Trusted = trusted
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for i := 0; i+1 < len(tc.header); i += 2 {
				r.Header.Add(tc.header[i], tc.header[i+1])
			}
			var got clientip.Info
			var local bool
			rs.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got, local = clientip.From(r), clientip.Local(r)
			})).ServeHTTP(httptest.NewRecorder(), r)
			if got.Client.String() != tc.client {
				t.Errorf("client: got %s, want %s", got.Client, tc.client)
			}
			if local != tc.local {
				t.Errorf("local: got %v, want %v", local, tc.local)
			}
		})
	}
}

// TestWithoutHandler: a request that did not go through a Resolver is
// read as if no proxy were trusted.
func TestWithoutHandler(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.4")
	if got, want := clientip.Of(r), netip.MustParseAddr("127.0.0.1"); got != want {
		t.Errorf("client: got %s, want %s", got, want)
	}
	if clientip.Local(r) {
		t.Error("local: got true for a forwarded request, want false")
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"198.51.100.4", "127.0.0.1, 198.51.100.4", "[2001:db8::7]:4711, 10.0.0.2:80", ",,,", "nonsense, 10.0.0.7", ""} {
		f.Add(s)
	}
	rs := &clientip.Resolver{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}}
	f.Fuzz(func(t *testing.T, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "127.0.0.1:5000"
		r.Header.Set("X-Forwarded-For", xff)
		in := rs.Resolve(r)
		if !in.Client.IsValid() {
			t.Fatalf("%q: no client", xff)
		}
		trusted := rs.Trusted[0].Contains(in.Client) || rs.Trusted[1].Contains(in.Client)
		switch {
		case in.Forwarded && !trusted:
			// An untrusted client, named by the trusted hops: as wanted.
		case trusted:
			// The peer, or every hop read was a trusted proxy.
		default:
			t.Fatalf("%q: client %s is neither a forwarded untrusted client nor trusted", xff, in.Client)
		}
		if in.Forwarded && !hopsOf(xff)[in.Client] {
			t.Fatalf("%q: client %s is not one of the hops", xff, in.Client)
		}
	})
}

// hopsOf is every address X-Forwarded-For lists, with or without a port.
func hopsOf(xff string) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	for _, h := range strings.Split(xff, ",") {
		h = strings.TrimSpace(h)
		if a, err := netip.ParseAddr(h); err == nil {
			out[a.Unmap()] = true
		} else if ap, err := netip.ParseAddrPort(h); err == nil {
			out[ap.Addr().Unmap()] = true
		}
	}
	return out
}

// TestProxy: Info.Proxy says whether the peer is a trusted proxy, whatever
// headers it sent (what it adds, such as X-Request-Id, is believed only
// then).
func TestProxy(t *testing.T) {
	trusted, err := clientip.ParsePrefixes([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	rs := &clientip.Resolver{Trusted: trusted}
	for _, tc := range []struct {
		peer string
		xff  string
		want bool
	}{
		{"10.1.2.3:4000", "", true},
		{"10.1.2.3:4000", "198.51.100.4", true},
		{"203.0.113.9:4000", "", false},
		{"203.0.113.9:4000", "10.1.2.3", false},
		{"127.0.0.1:4000", "", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := rs.Resolve(r).Proxy; got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: Proxy = %v, want %v", tc.peer, tc.xff, got, tc.want)
		}
	}
}
