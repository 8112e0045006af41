package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTP holds the API's metrics: requests by route pattern and status, and
// uploads.
type HTTP struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	uploads     prometheus.Counter
	uploadBytes prometheus.Counter
	inFlight    prometheus.Gauge
	clicks      prometheus.Counter
}

// NewHTTP registers the API's collectors with reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	labels := []string{"route", "code"}
	return &HTTP{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopclip_http_requests_total",
			Help: "HTTP requests by route pattern (method and path) and status code.",
		}, labels)),
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopclip_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern and status code.",
			Buckets: requestBuckets,
		}, labels)),
		uploads: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shopclip_uploads_total",
			Help: "Clips uploaded (simple and resumable uploads).",
		})),
		uploadBytes: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shopclip_upload_bytes_total",
			Help: "Bytes of the clips uploaded.",
		})),
		inFlight: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shopclip_uploads_in_flight",
			Help: "Uploads receiving bytes in this process.",
		})),
		clicks: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shopclip_buy_clicks_total",
			Help: "Clicks through buy URLs.",
		})),
	}
}

// Request records a request served by route (such as "GET /v1/clips/{id}")
// with status code in d.
func (m *HTTP) Request(route string, code int, d time.Duration) {
	c := strconv.Itoa(code)
	m.requests.WithLabelValues(route, c).Inc()
	m.duration.WithLabelValues(route, c).Observe(d.Seconds())
}

// Uploaded records a clip uploaded, of size bytes.
func (m *HTTP) Uploaded(size int64) {
	m.uploads.Inc()
	m.uploadBytes.Add(float64(max(size, 0)))
}

// UploadStarted records an upload receiving bytes; call the func it
// returns when it stops.
func (m *HTTP) UploadStarted() (done func()) {
	m.inFlight.Inc()
	return m.inFlight.Dec
}

// BuyClicked records a click through a buy URL.
func (m *HTTP) BuyClicked() { m.clicks.Inc() }
