package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Tasks holds the workers' metrics. It implements workers.Observer.
type Tasks struct {
	outcomes  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	queued    *prometheus.HistogramVec
	transcode prometheus.Histogram
	speed     prometheus.Histogram
	video     prometheus.Counter
}

// NewTasks registers the workers' collectors with reg.
func NewTasks(reg prometheus.Registerer) *Tasks {
	return &Tasks{
		outcomes: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopclip_tasks_total",
			Help: `Task attempts by type and outcome: "ok", "retry" (it will run again) or "failed:<error code>" (it will not).`,
		}, []string{"type", "outcome"})),
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopclip_task_duration_seconds",
			Help:    "Time task attempts ran, whatever their outcome, by type.",
			Buckets: taskBuckets,
		}, []string{"type"})),
		queued: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopclip_task_queue_wait_seconds",
			Help:    "Time from a task's enqueue to the start of its first attempt, by type (tasks that carry their enqueue time: clip:transcode).",
			Buckets: taskBuckets,
		}, []string{"type"})),
		transcode: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shopclip_transcode_duration_seconds",
			Help:    "Time of the transcodes that published a clip, from the start of their attempt to the publish.",
			Buckets: taskBuckets,
		})),
		speed: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shopclip_transcode_speed_ratio",
			Help:    "Speed of the transcodes that published a clip: seconds of video per second of transcoding.",
			Buckets: speedBuckets,
		})),
		video: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shopclip_transcoded_video_seconds_total",
			Help: "Seconds of video published by transcodes.",
		})),
	}
}

// TaskQueued records a task of type typ that waited d for its first
// attempt.
func (m *Tasks) TaskQueued(typ string, d time.Duration) {
	m.queued.WithLabelValues(typ).Observe(max(d, 0).Seconds())
}

// TaskDone records a task attempt of type typ that ran d with outcome.
func (m *Tasks) TaskDone(typ, outcome string, d time.Duration) {
	m.outcomes.WithLabelValues(typ, outcome).Inc()
	m.duration.WithLabelValues(typ).Observe(d.Seconds())
}

// Transcoded records a transcode that published video of duration video
// after took.
func (m *Tasks) Transcoded(video, took time.Duration) {
	m.transcode.Observe(took.Seconds())
	m.video.Add(max(video, 0).Seconds())
	if took > 0 && video > 0 {
		m.speed.Observe(video.Seconds() / took.Seconds())
	}
}
