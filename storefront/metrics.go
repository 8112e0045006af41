package storefront

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/clientip"
)

// metrics holds the counters /metrics exposes in the Prometheus text format.
type metrics struct {
	mu       sync.Mutex
	requests map[reqKey]*reqStats

	uploads     atomic.Int64
	uploadBytes atomic.Int64
	clicks      atomic.Int64
	// uploadsInFlight counts the uploads receiving bytes (a gauge).
	uploadsInFlight atomic.Int64
}

type reqKey struct {
	route string
	code  int
}

type reqStats struct {
	count   int64
	seconds float64
}

func newMetrics() *metrics { return &metrics{requests: map[reqKey]*reqStats{}} }

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := reqKey{route, code}
	st := m.requests[k]
	if st == nil {
		st = &reqStats{}
		m.requests[k] = st
	}
	st.count++
	st.seconds += d.Seconds()
}

// serveMetrics exposes the counters to scrapers on the same machine and to
// admins; to anyone else the route does not exist (OWASP API9: no
// operational inventory on the public listener). "The same machine" is
// clientip.Local: a loopback peer with no forwarding headers, or a trusted
// proxy naming a loopback client; a forwarding header from a peer not
// trusted never is.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	if !clientip.Local(r) {
		if a := account(r); a == nil || a.Role != shopclip.RoleAdmin {
			return shopclip.Errorf(shopclip.ENOTFOUND, "No route for %s %s.", r.Method, r.URL.Path)
		}
	}
	w.Header().Del("Access-Control-Allow-Origin")
	m := s.metrics
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].code < keys[j].code
	})
	fmt.Fprintln(w, "# HELP shopclip_http_requests_total HTTP requests by route and status.")
	fmt.Fprintln(w, "# TYPE shopclip_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "shopclip_http_requests_total{route=%s,code=\"%d\"} %d\n", strconv.Quote(k.route), k.code, m.requests[k].count)
	}
	fmt.Fprintln(w, "# HELP shopclip_http_request_seconds_total Time spent serving requests by route and status.")
	fmt.Fprintln(w, "# TYPE shopclip_http_request_seconds_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "shopclip_http_request_seconds_total{route=%s,code=\"%d\"} %g\n", strconv.Quote(k.route), k.code, m.requests[k].seconds)
	}
	m.mu.Unlock()
	for _, c := range []struct {
		name, help string
		v          int64
	}{
		{"shopclip_uploads_total", "Clips uploaded.", m.uploads.Load()},
		{"shopclip_upload_bytes_total", "Bytes of clips uploaded.", m.uploadBytes.Load()},
		{"shopclip_buy_clicks_total", "Clicks through buy URLs.", m.clicks.Load()},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", c.name, c.help, c.name, c.name, c.v)
	}
	fmt.Fprintf(w, "# HELP shopclip_uploads_in_flight Uploads receiving bytes in this process.\n# TYPE shopclip_uploads_in_flight gauge\nshopclip_uploads_in_flight %d\n", m.uploadsInFlight.Load())
	return nil
}
