package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopclip/shopclip"
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
// operations.
func (m *Blob) Observer(backend string) func(op string, took time.Duration, err error) {
	return func(op string, took time.Duration, err error) {
		m.duration.WithLabelValues(backend, op).Observe(took.Seconds())
		if err != nil {
			m.errors.WithLabelValues(backend, op, shopclip.ErrorCode(err)).Inc()
		}
	}
}
