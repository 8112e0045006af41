package storefront_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHotPaths drives the viewers' hottest routes through the whole
// handler (authentication, deadlines, metrics, the request log as JSON)
// over loopback HTTP, for profiles: go test -run '^$' -bench HotPaths
// -cpuprofile cpu.out ./storefront. make bench-api measures the real
// server against its floor.
func BenchmarkHotPaths(b *testing.B) {
	e := newEnv(b)
	e.api.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	e.api.EventRate, e.api.BuyRate = 1e9, 1e9 // one client address here
	e.srv = httptest.NewServer(e.api.Handler())
	b.Cleanup(e.srv.Close)
	clip := e.readyClip("alice")
	p := e.product("acme", 10000)
	var tag struct{ ID string }
	e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 0, "end_ms": 1000, "x": 0.5, "y": 0.5}).json(b, &tag)
	e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/approve", nil)
	e.now = time.Now() // events are stamped now
	tr := &http.Transport{MaxIdleConnsPerHost: 100}
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var n atomic.Int64
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"popups", func() *http.Request {
			r, _ := http.NewRequest("GET", e.srv.URL+"/v1/clips/"+clip.ID+"/popups", nil)
			return r
		}},
		{"playlist", func() *http.Request {
			r, _ := http.NewRequest("GET", e.srv.URL+"/v1/clips/"+clip.ID+"/media/"+clip.Generation+"/master.m3u8", nil)
			return r
		}},
		{"events", func() *http.Request {
			body := fmt.Appendf(nil, `{"type":"view","clip_id":%q,"session_id":"sess-%08d"}`, clip.ID, n.Add(1))
			r, _ := http.NewRequest("POST", e.srv.URL+"/v1/events", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
		{"buy", func() *http.Request {
			r, _ := http.NewRequest("GET", e.srv.URL+fmt.Sprintf("/v1/buy/%s?session=sess-%08d", tag.ID, n.Add(1)), nil)
			return r
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetParallelism(50)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Do(tc.req())
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode >= 400 {
						b.Errorf("%s: %d", tc.name, resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
