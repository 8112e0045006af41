package storefront_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/shopclip/shopclip/internal/metrics/metricstest"
)

// scrape reads /metrics as a scraper on this machine does.
func (e *env) scrape() metricstest.Families {
	e.t.Helper()
	resp := e.do("", "GET", "/metrics", nil)
	if resp.Status != http.StatusOK {
		e.t.Fatalf("GET /metrics: %d %s", resp.Status, resp.Body)
	}
	return metricstest.Parse(e.t, bytes.NewReader(resp.Body))
}

// TestMetricsOfRequestsAndUploads: real requests move the latency
// histogram of their route pattern (not their path) and status code, and
// uploads count clips and bytes.
func TestMetricsOfRequestsAndUploads(t *testing.T) {
	e := newEnv(t)
	sizes := []int{100_000, 23_456}
	for _, n := range sizes {
		if resp := e.upload("alice", "clip", fakeMP4(n)); resp.Status != http.StatusAccepted {
			t.Fatalf("upload: %d %s", resp.Status, resp.Body)
		}
	}
	for _, id := range []string{"cl_nope1", "cl_nope2", "cl_nope3"} {
		e.do("alice", "GET", "/v1/clips/"+id, nil)
	}
	got := e.scrape()

	hist := []struct {
		route, code string
		want        uint64
	}{
		{"POST /v1/clips", "202", 2},
		{"GET /v1/clips/{id}", "404", 3},
		{"GET /v1/clips/{id}", "200", 0},
	}
	for _, c := range hist {
		n, sum, ok := got.Histogram("shopclip_http_request_duration_seconds", "route", c.route, "code", c.code)
		if n != c.want || ok != (c.want > 0) || (c.want > 0 && sum <= 0) {
			t.Errorf("duration of %s %s: count %d sum %g (exists %v), want count %d", c.route, c.code, n, sum, ok, c.want)
		}
		if v, _ := got.Value("shopclip_http_requests_total", "route", c.route, "code", c.code); v != float64(c.want) {
			t.Errorf("requests_total of %s %s = %v, want %d", c.route, c.code, v, c.want)
		}
	}
	if v, _ := got.Value("shopclip_uploads_total"); v != float64(len(sizes)) {
		t.Errorf("uploads_total = %v, want %d", v, len(sizes))
	}
	if v, _ := got.Value("shopclip_upload_bytes_total"); v != float64(sizes[0]+sizes[1]) {
		t.Errorf("upload_bytes_total = %v, want %d", v, sizes[0]+sizes[1])
	}
	if v, ok := got.Value("shopclip_uploads_in_flight"); !ok || v != 0 {
		t.Errorf("uploads_in_flight = %v (exists %v), want 0", v, ok)
	}
	names := got.Names()
	for _, n := range []string{"go_goroutines", "process_resident_memory_bytes", "shopclip_buy_clicks_total"} {
		if !names[n] {
			t.Errorf("no %s in /metrics", n)
		}
	}
}

// TestMetricsPerServer: two servers in one process keep their own
// registries (no global state between them).
func TestMetricsPerServer(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	for range 3 {
		a.do("", "GET", "/healthz", nil)
	}
	b.do("", "GET", "/healthz", nil)
	for _, c := range []struct {
		e    *env
		want float64
	}{{a, 3}, {b, 1}} {
		if v, _ := c.e.scrape().Value("shopclip_http_requests_total", "route", "GET /healthz", "code", "200"); v != c.want {
			t.Errorf("healthz requests = %v, want %v", v, c.want)
		}
	}
}
