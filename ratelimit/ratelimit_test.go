package ratelimit

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestClientAddr(t *testing.T) {
	for _, tt := range []struct{ remote, want string }{
		{"192.0.2.7:5555", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:5555", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:443", "2001:db8:1:2::/64"}, // the same subscriber
		{"[2001:db8:1:3::1]:443", "2001:db8:1:3::/64"},
		{"not-an-address", "not-an-address"},
	} {
		if got := ClientAddr(&http.Request{RemoteAddr: tt.remote}); got != tt.want {
			t.Errorf("ClientAddr(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(1, 2)
	l.Now = func() time.Time { return now }
	for i := range maxBuckets + 1000 {
		l.Allow(fmt.Sprintf("client-%d", i))
	}
	if n := len(l.buckets); n > maxBuckets+1 {
		t.Fatalf("%d buckets, want at most %d", n, maxBuckets+1)
	}
	// New clients past the bound share one bucket: two of them exhaust it.
	l.Allow("fresh-1")
	if ok, _ := l.Allow("fresh-2"); ok {
		t.Error("new clients past the bound are not limited together")
	}
	// Known clients keep their own buckets.
	if ok, _ := l.Allow("client-1"); !ok {
		t.Error("a known client lost its bucket")
	}
	// Once the idle buckets are forgotten, new clients get their own again.
	now = now.Add(2 * time.Minute)
	if ok, _ := l.Allow("fresh-3"); !ok {
		t.Error("after the sweep a new client is still limited")
	}
	if n := len(l.buckets); n > 10 {
		t.Errorf("%d buckets after the idle ones were swept", n)
	}
}

func TestPeekTakesNothing(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := New(1, 2)
	l.Now = func() time.Time { return now }
	for range 5 {
		if ok, _ := l.Peek("k"); !ok {
			t.Fatal("Peek on a full bucket says no")
		}
	}
	l.Allow("k")
	l.Allow("k")
	if ok, wait := l.Peek("k"); ok || wait <= 0 || wait > time.Second {
		t.Errorf("Peek on an empty bucket = %v, %v; want no, within a second", ok, wait)
	}
	now = now.Add(time.Second)
	if ok, _ := l.Peek("k"); !ok {
		t.Error("Peek after a refill says no")
	}
	if ok, _ := l.Allow("k"); !ok {
		t.Error("the token Peek saw is gone")
	}
}
