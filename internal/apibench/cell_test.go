package apibench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"none", nil, 0.99, 0},
		{"one", ms(7), 0.999, 7 * time.Millisecond},
		{"median of four", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p99.9 of 1..100 is the largest", ms(hundred...), 0.999, 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quantile(tc.sorted, tc.q); got != tc.want {
				t.Errorf("quantile(%v) = %s, want %s", tc.q, got, tc.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	a := Cell{Target: "x", Server: "shopclip", Conns: 10, OK: 3, Errors: 1, FirstError: "500", Elapsed: time.Second,
		lat: []time.Duration{1, 2, 3}}
	b := Cell{Target: "x", Server: "shopclip", Conns: 10, OK: 2, Limited: 4, Elapsed: time.Second,
		lat: []time.Duration{10, 20}}
	m := Merge(a, b)
	if m.OK != 5 || m.Errors != 1 || m.Limited != 4 || m.Elapsed != 2*time.Second || m.FirstError != "500" {
		t.Errorf("Merge = %+v", m)
	}
	if got, want := m.Rate(), 2.5; got != want {
		t.Errorf("rate %v, want %v (answers over the rounds' time)", got, want)
	}
	if m.P50 != 3 || m.P999 != 20 {
		t.Errorf("p50 %d, p99.9 %d; want 3 and 20 (over both rounds' answers)", m.P50, m.P999)
	}
}

func TestAddresses(t *testing.T) {
	var a Addresses
	seen := map[string]bool{}
	first := a.Next()
	seen[first] = true
	for range addressPool - 1 {
		ip := a.Next()
		if seen[ip] {
			t.Fatalf("%s handed out twice within %d", ip, len(seen))
		}
		seen[ip] = true
	}
	if got := a.Next(); got != first {
		t.Errorf("after the pool, %s; want the first again, %s", got, first)
	}
}

func TestFloorHandler(t *testing.T) {
	h := FloorHandler([]Capture{
		{Method: "GET", Path: "/v1/feed", Status: 200, ContentType: "application/json", Body: []byte(`{"clips":[]}`)},
		{Method: "GET", Path: "/v1/buy/tag_1", Status: 302, ContentType: "text/html; charset=utf-8", Location: "https://shop.example.com/", Body: []byte("<a>Found</a>.\n")},
		{Method: "POST", Path: "/v1/events", Status: 202, ContentType: "application/json", Body: []byte(`{"recorded":true}`)},
	})
	for _, tc := range []struct {
		method, target, body string
		status               int
		ct, loc, want        string
	}{
		{"GET", "/v1/feed?limit=5", "", 200, "application/json", "", `{"clips":[]}`},
		{"GET", "/v1/buy/tag_1", "", 302, "text/html; charset=utf-8", "https://shop.example.com/", "<a>Found</a>.\n"},
		{"POST", "/v1/events", `{"type":"view"}`, 202, "application/json", "", `{"recorded":true}`},
		{"POST", "/v1/feed", "", 404, "text/plain; charset=utf-8", "", "404 page not found\n"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body)))
			res := w.Result()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status || res.Header.Get("Content-Type") != tc.ct || res.Header.Get("Location") != tc.loc || string(b) != tc.want {
				t.Errorf("got %d %q %q %q, want %d %q %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Location"), b,
					tc.status, tc.ct, tc.loc, tc.want)
			}
			if tc.status != http.StatusNotFound && res.Header.Get("Content-Length") != "" && res.ContentLength != int64(len(tc.want)) {
				t.Errorf("Content-Length %d, want %d", res.ContentLength, len(tc.want))
			}
		})
	}
}

// TestAttackPaced checks that a paced cell sends the rate it asks for,
// spread over the cell, and says so; and that a server slower than the
// rate is reported as falling behind.
func TestAttackPaced(t *testing.T) {
	var hits atomic.Int64
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	defer fast.Close()
	tg := Target{Name: "GET /", Method: "GET", Path: "/"}
	c := Attack(context.Background(), fast.URL, tg, Load{Conns: 10, Rate: 200, Length: time.Second}, &Addresses{}, nil)
	if c.OK < 190 || c.OK > 210 || c.Errors != 0 {
		t.Errorf("paced at 200/s for 1 s: %d answered, %d errors; want about 200 and none", c.OK, c.Errors)
	}
	if c.Asked != 200 || !c.Kept() {
		t.Errorf("asked %v, got %.0f/s, kept %v; want 200 kept", c.Asked, c.Rate(), c.Kept())
	}
	if got := hits.Load(); got != int64(c.OK) {
		t.Errorf("the server saw %d requests, the cell counted %d", got, c.OK)
	}

	// Two connections to a server taking 50 ms an answer carry 40/s at
	// most: 200/s is not kept.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
	}))
	defer slow.Close()
	c = Attack(context.Background(), slow.URL, tg, Load{Conns: 2, Rate: 200, Length: time.Second}, &Addresses{}, nil)
	if c.Kept() || c.OK > 60 {
		t.Errorf("a slow server: %d answered (%.0f/s), kept %v; want about 40 and not kept", c.OK, c.Rate(), c.Kept())
	}
}
