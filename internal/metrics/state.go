package metrics

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopclip/shopclip"
)

// RegisterQueues registers asynq's queue exporter (asynq_queue_size,
// asynq_queue_latency_seconds, asynq_tasks_enqueued_total{state}, ...),
// read through insp at each scrape. Queues appear once a task was
// enqueued in them.
func RegisterQueues(reg prometheus.Registerer, insp *asynq.Inspector) {
	register(reg, asynqmetrics.NewQueueMetricsCollector(insp))
}

// StaleClips finds clips in some statuses not updated since before: a
// shopclip.Store.
type StaleClips interface {
	StaleClips(ctx context.Context, statuses []shopclip.ClipStatus, before time.Time, limit int) ([]*shopclip.Clip, error)
}

// StuckAfter is how long a clip may stay processing without a change to
// its record (a running transcode records its progress every few seconds)
// before shopclip_clips_stuck_processing counts it.
const StuckAfter = 10 * time.Minute

// maxStuck bounds the count (and the query behind it).
const maxStuck = 1000

// RegisterStuckClips registers shopclip_clips_stuck_processing, counted
// in clips at each scrape (up to 1000).
func RegisterStuckClips(reg prometheus.Registerer, clips StaleClips) {
	register(reg, &stuckCollector{clips: clips, now: time.Now})
}

var stuckDesc = prometheus.NewDesc("shopclip_clips_stuck_processing",
	fmt.Sprintf("Clips processing whose record has not changed for %s (at most %d counted): transcodes lost or hung.", StuckAfter, maxStuck), nil, nil)

type stuckCollector struct {
	clips StaleClips
	now   func() time.Time
}

func (c *stuckCollector) Describe(ch chan<- *prometheus.Desc) { ch <- stuckDesc }

func (c *stuckCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stuck, err := c.clips.StaleClips(ctx, []shopclip.ClipStatus{shopclip.ClipProcessing}, c.now().Add(-StuckAfter), maxStuck)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(stuckDesc, fmt.Errorf("stuck clips: %w", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(stuckDesc, prometheus.GaugeValue, float64(len(stuck)))
}

// RegisterDataDir registers shopclip_data_dir_free_bytes and
// shopclip_data_dir_size_bytes: the space left to shopclip and the size
// of the filesystem holding dir.
func RegisterDataDir(reg prometheus.Registerer, dir string) {
	register(reg, &diskCollector{dir: dir})
}

var (
	diskFree = prometheus.NewDesc("shopclip_data_dir_free_bytes", "Bytes available to shopclip on the filesystem of the data directory.", []string{"path"}, nil)
	diskSize = prometheus.NewDesc("shopclip_data_dir_size_bytes", "Size in bytes of the filesystem of the data directory.", []string{"path"}, nil)
)

type diskCollector struct{ dir string }

func (d *diskCollector) Describe(ch chan<- *prometheus.Desc) { ch <- diskFree; ch <- diskSize }

func (d *diskCollector) Collect(ch chan<- prometheus.Metric) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.dir, &st); err != nil {
		ch <- prometheus.NewInvalidMetric(diskFree, fmt.Errorf("statfs %s: %w", d.dir, err))
		return
	}
	ch <- prometheus.MustNewConstMetric(diskFree, prometheus.GaugeValue, float64(st.Bavail)*float64(st.Bsize), d.dir)
	ch <- prometheus.MustNewConstMetric(diskSize, prometheus.GaugeValue, float64(st.Blocks)*float64(st.Bsize), d.dir)
}
