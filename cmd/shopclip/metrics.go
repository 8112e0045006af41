package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/s3"
	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/internal/metrics"
)

// telemetry is a process's metrics: the registry /metrics serves (on the
// API's address, or the worker's metrics address) and the collectors Run
// hands to the components.
type telemetry struct {
	reg   *metrics.Registry
	tasks *metrics.Tasks
	ln    net.Listener // the worker's metrics listener, when it has one
	srv   *http.Server
}

// instrument makes the process's registry and registers what Run opened so
// far: the blob store (wrapped to be measured: call it before m.blobs is
// handed out), the database and Redis pools, the queues, and the data
// directory's free space; in processes that run workers, the workers'
// metrics and the clips stuck processing.
func (m *Main) instrument(cfg configs.Config) {
	reg := metrics.NewRegistry()
	m.telemetry.reg = reg
	backend := "local"
	if _, ok := m.blobs.(*s3.Store); ok {
		backend = "s3"
	}
	m.blobs = blob.Observe(m.blobs, metrics.NewBlob(reg).Observer(backend))
	metrics.RegisterDB(reg, m.store.Pools())
	metrics.RegisterRedis(reg, "shopclip", m.rdb)
	metrics.RegisterQueues(reg, m.inspector)
	if fi, err := os.Stat(cfg.DataDir); err == nil && fi.IsDir() {
		metrics.RegisterDataDir(reg, cfg.DataDir)
	}
	if m.Mode.workers() {
		m.telemetry.tasks = metrics.NewTasks(reg)
		metrics.RegisterStuckClips(reg, m.store)
	}
}

// serveWorkerMetrics serves GET /metrics on worker.metrics_addr, for
// `shopclip worker` (up and serve have it on their API address). An
// address already in use (two workers on one machine with the default) is
// logged and skipped: the worker works without it.
func (m *Main) serveWorkerMetrics(cfg configs.Config, log *slog.Logger) error {
	addr := cfg.Worker.MetricsAddress()
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		log.Warn("worker metrics: the address is in use (another worker on this machine?); this worker's metrics are not served: set worker.metrics_addr (SHOPCLIP_WORKER_METRICS_ADDR) to a free address, or empty for none",
			"addr", addr)
		return nil
	} else if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.telemetry.reg.Handler())
	m.telemetry.ln = ln
	m.telemetry.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("worker metrics: serving /metrics", "addr", ln.Addr().String())
	m.wg.Go(func() {
		if err := m.telemetry.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("worker metrics server", "err", err)
		}
	})
	return nil
}

// MetricsAddr is the address of the worker's metrics listener once Run has
// returned, or "" when it has none.
func (m *Main) MetricsAddr() string {
	if m.telemetry.ln == nil {
		return ""
	}
	return m.telemetry.ln.Addr().String()
}

// closeTelemetry stops the worker's metrics listener.
func (m *Main) closeTelemetry() {
	if m.telemetry.srv != nil {
		m.telemetry.srv.Close()
	}
}
