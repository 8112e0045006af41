package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// Blob holds the blob store's metrics: operation latency and errors by
// backend ("local", "s3") and operation.
type Blob struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// NewBlob registers the blob store's collectors with reg.
func NewBlob(reg prometheus.Registerer) *Blob {
	return &Blob{
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopclip_blob_operation_duration_seconds",
			Help:    "Time of blob store operations (successful or not), by backend and operation; open is the time to open an object, not to read it.",
			Buckets: blobBuckets,
		}, []string{"backend", "op"})),
		errors: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopclip_blob_errors_total",
			Help: `Blob store operations that returned an error, by backend, operation and error code ("not_found" is mostly a normal answer; "unavailable" and "internal" are the backend's failures).`,
		}, []string{"backend", "op", "code"})),
	}
}

// Observer returns the func blob.Observe calls for the backend's
// operations. The backend's failures (codes unavailable and internal) of
// every operation are exposed from the start, at 0, so that rates and
// alerts on them have series before the first error.
func (m *Blob) Observer(backend string) func(op string, took time.Duration, err error) {
	for _, op := range blob.Operations {
		for _, code := range []string{shopclip.EUNAVAILABLE, shopclip.EINTERNAL} {
			m.errors.WithLabelValues(backend, op, code)
		}
	}
	return func(op string, took time.Duration, err error) {
		m.duration.WithLabelValues(backend, op).Observe(took.Seconds())
		if err != nil {
			m.errors.WithLabelValues(backend, op, shopclip.ErrorCode(err)).Inc()
		}
	}
}
