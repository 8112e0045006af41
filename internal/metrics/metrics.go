// Package metrics is shopclip's Prometheus instrumentation, through
// client_golang: one Registry per process (never the global one, so that a
// test can run several servers in one process), and constructors for the
// collectors each component needs — the API's requests and uploads (HTTP),
// the workers' tasks and transcodes (Tasks), blob operations (Blob), the
// database and Redis pools, the asynq queues, clips stuck processing and
// the free space of the data directory. cmd/shopclip wires them; the
// components themselves see small interfaces or plain funcs.
//
// Every metric name is listed in README's Operating section; the alert rules
// (configs/prometheus/alerts.yaml) and the dashboard
// (configs/grafana/shopclip.json) are tested against a running server's
// exposition, so a renamed metric fails a test.
package metrics

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is one process's metrics: what /metrics serves. Its zero value
// is not usable; call NewRegistry.
type Registry struct {
	*prometheus.Registry
}

// NewRegistry returns a registry holding the Go runtime and process
// collectors (go_*, process_*).
func NewRegistry() *Registry {
	r := &Registry{prometheus.NewRegistry()}
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}

// Handler serves the registry in the Prometheus exposition formats. A
// collector that fails (Redis down while the queue sizes are read) costs
// its own metrics, not the others'.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// register registers c with reg, or returns the collector registered
// before in its place (a second API handler on the same registry shares
// the first one's counters).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if prev, ok := are.ExistingCollector.(C); ok {
				return prev
			}
		}
		panic(err)
	}
	return c
}

// Buckets of the latency histograms, in seconds.
var (
	// requestBuckets span a JSON answer (ms) to an upload (minutes).
	requestBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}
	// blobBuckets span a local stat (µs) to a large S3 put.
	blobBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60}
	// taskBuckets span a tag task (ms) to a long transcode (an hour).
	taskBuckets = []float64{.1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}
	// speedBuckets are seconds of video transcoded per second.
	speedBuckets = []float64{.1, .25, .5, 1, 1.5, 2, 3, 5, 10, 20}
)
