package webhooks_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopclip/shopclip/webhooks"
)

func TestBlocked(t *testing.T) {
	tests := []struct {
		ip      string
		blocked bool
	}{
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"10.0.0.1", true},
		{"10.255.255.255", true},
		{"172.16.0.1", true},
		{"172.31.255.254", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"fe80::1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"0.0.0.0", true},
		{"::", true},
		{"224.0.0.1", true},
		{"ff02::1", true},
		{"100.64.0.1", true},
		{"64:ff9b::7f00:1", true},
		{"255.255.255.255", true},
		{"93.184.216.34", false},
		{"172.32.0.1", false},
		{"8.8.8.8", false},
		{"2606:4700::1111", false},
		{"::ffff:8.8.8.8", false},
	}
	for _, tt := range tests {
		if got := webhooks.Blocked(netip.MustParseAddr(tt.ip)); got != tt.blocked {
			t.Errorf("Blocked(%s) = %v, want %v", tt.ip, got, tt.blocked)
		}
	}
}

// fakeResolver answers every name with its addresses.
type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := r[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// canary is a receiver on 127.0.0.1 that counts what reaches it.
func canary(t *testing.T) (port string, hits *atomic.Int64) {
	hits = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	t.Cleanup(srv.Close)
	_, port, _ = net.SplitHostPort(srv.Listener.Addr().String())
	return port, hits
}

func TestSendRefusesPrivateDestinations(t *testing.T) {
	port, hits := canary(t)
	res := fakeResolver{
		"loopback.test": {netip.MustParseAddr("127.0.0.1")},
		"mixed.test":    {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("127.0.0.1")},
		"mapped.test":   {netip.MustParseAddr("::ffff:127.0.0.1")},
		"metadata.test": {netip.MustParseAddr("169.254.169.254")},
	}
	c := webhooks.NewClient(webhooks.ClientConfig{Resolver: res, Timeout: 5 * time.Second})
	// localhost goes through the machine's real resolver.
	real := webhooks.NewClient(webhooks.ClientConfig{Timeout: 5 * time.Second})
	urls := []string{
		"http://127.0.0.1:" + port + "/",
		"http://[::1]:" + port + "/",
		"http://10.1.2.3:" + port + "/",
		"http://172.16.0.1:" + port + "/",
		"http://192.168.0.1:" + port + "/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[fe80::1]:" + port + "/",
		"http://[fc00::1]:" + port + "/",
		"http://[::ffff:127.0.0.1]:" + port + "/",
		"http://0.0.0.0:" + port + "/",
		"http://loopback.test:" + port + "/",
		"http://mixed.test:" + port + "/",
		"http://mapped.test:" + port + "/",
		"http://metadata.test/",
	}
	msg := webhooks.Message{ID: "msg_1", Timestamp: time.Now(), Body: []byte(`{}`)}
	secrets := []string{webhooks.NewSecret()}
	for _, u := range urls {
		r := c.Send(t.Context(), u, secrets, msg)
		if !errors.Is(r.Err, webhooks.ErrRefused) {
			t.Errorf("Send(%s) = %d, %v; want ErrRefused", u, r.Status, r.Err)
		}
	}
	for _, u := range []string{
		"http://localhost:" + port + "/",
		"http://127.1:" + port + "/",
		"http://2130706433:" + port + "/",
		"http://0:" + port + "/",
	} {
		r := real.Send(t.Context(), u, secrets, msg)
		if r.Err == nil || r.Status != 0 {
			t.Errorf("Send(%s) = %d, %v; want an error and no answer", u, r.Status, r.Err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the canary on 127.0.0.1 got %d requests, want 0", n)
	}
	// The same client with allow_private reaches it: the refusals above were
	// the guard's, not a dead receiver.
	open := webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true})
	if r := open.Send(t.Context(), "http://127.0.0.1:"+port+"/", secrets, msg); !r.OK() {
		t.Errorf("with allow_private: %d, %v; want 2xx", r.Status, r.Err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("canary hits = %d, want 1", n)
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	port, hits := canary(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:"+port+"/", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	c := webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true})
	r := c.Send(t.Context(), redirect.URL, []string{webhooks.NewSecret()}, webhooks.Message{ID: "m", Timestamp: time.Now(), Body: []byte(`{}`)})
	if r.Status != http.StatusTemporaryRedirect || r.OK() {
		t.Errorf("Send = %d, ok %v; want 307, not ok", r.Status, r.OK())
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests, want 0", n)
	}
}

func TestSendHeadersAndBoundedAnswer(t *testing.T) {
	secret := webhooks.NewSecret()
	body := []byte(`{"type":"clip.ready","timestamp":"2025-12-05T00:00:00Z","data":{}}`)
	var read atomic.Int64
	var verr atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if err := verify(secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), got, r.Header.Get("webhook-signature")); err != nil {
			verr.Store(err)
		}
		w.WriteHeader(http.StatusBadRequest)
		// Far more than a delivery reads: the client stops early.
		chunk := []byte(strings.Repeat("é", 512))
		for range 1024 {
			n, err := w.Write(chunk)
			read.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true})
	r := c.Send(t.Context(), srv.URL, []string{secret}, webhooks.Message{ID: "msg_h", Timestamp: time.Unix(1764900000, 0), Body: body})
	if err, _ := verr.Load().(error); err != nil {
		t.Errorf("receiver: %v", err)
	}
	if r.Status != http.StatusBadRequest || r.Err != nil || r.OK() {
		t.Errorf("Send = %d, %v, ok %v; want 400, nil, not ok", r.Status, r.Err, r.OK())
	}
	if len(r.Excerpt) == 0 || len(r.Excerpt) > webhooks.ExcerptSize || !strings.HasPrefix(r.Excerpt, "éé") {
		t.Errorf("excerpt is %d bytes (%.20q…), want 1..%d of the answer", len(r.Excerpt), r.Excerpt, webhooks.ExcerptSize)
	}
	if !utf8Valid(r.Excerpt) {
		t.Errorf("excerpt is not valid UTF-8")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://example.com/hook", false, true},
		{"http://example.com:8080/hook", false, true},
		{"ftp://example.com/", false, false},
		{"/relative", false, false},
		{"https://user:pw@example.com/", false, false},
		{"http://127.0.0.1/", false, false},
		{"http://127.0.0.1/", true, true},
		{"http://[::1]/", false, false},
		{"https://", false, false},
		{"https://example.com/" + strings.Repeat("a", 2048), false, false},
	}
	for _, tt := range tests {
		err := webhooks.CheckURL(tt.url, tt.allowPrivate)
		if got := err == nil; got != tt.ok {
			t.Errorf("CheckURL(%.40q, %v) = %v, want ok %v", tt.url, tt.allowPrivate, err, tt.ok)
		}
	}
}
