package workers_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/metrics"
	"github.com/shopclip/shopclip/internal/metrics/metricstest"
	"github.com/shopclip/shopclip/workers"
)

// TestTaskMetrics runs transcodes on Redis and reads what the workers'
// metrics say of them: outcomes by type and reason, attempt and transcode
// durations, speed, and the time in queue of first attempts only.
func TestTaskMetrics(t *testing.T) {
	cases := []struct {
		name     string
		fail     func(n int) error
		outcomes map[string]float64 // of clip:transcode
		attempts uint64
		ready    bool
	}{
		{name: "published", outcomes: map[string]float64{"ok": 1}, attempts: 1, ready: true},
		{
			name: "transient error, then published",
			fail: func(n int) error {
				if n == 1 {
					return errors.New("disk hiccup")
				}
				return nil
			},
			outcomes: map[string]float64{"retry": 1, "ok": 1}, attempts: 2, ready: true,
		},
		{
			name: "bad media",
			fail: func(int) error {
				return fmt.Errorf("probe: %w", shopclip.Errorf(shopclip.EMEDIANOVIDEO, "This file has no video stream."))
			},
			outcomes: map[string]float64{"failed:media_no_video": 1}, attempts: 1,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := metrics.NewRegistry()
			tc := &scriptedTranscoder{fail: c.fail}
			h := newHarness(t, tc)
			obs := metrics.NewTasks(reg)
			h.handle.Observer = obs
			h.handle.Transcoder = workers.ObserveTranscoder(tc, obs)
			h.serve(1)
			clip := h.newClip("original")
			if err := h.queue.EnqueueTranscode(context.Background(), clip.ID); err != nil {
				t.Fatal(err)
			}
			h.waitTerminal(clip.ID, 30*time.Second)

			// The outcome is counted when the handler returns, just after
			// the clip's record changed.
			var got metricstest.Families
			for deadline := time.Now().Add(10 * time.Second); ; {
				got = metricstest.Gather(t, reg)
				if n, _, _ := got.Histogram("shopclip_task_duration_seconds", "type", workers.TypeTranscode); n == c.attempts {
					// A gather is not one snapshot: the last attempt's
					// outcome may have been counted after the counters
					// were read. Read everything again, now settled.
					got = metricstest.Gather(t, reg)
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("task_duration_seconds count never reached %d", c.attempts)
				}
				time.Sleep(20 * time.Millisecond)
			}
			for outcome, want := range c.outcomes {
				if v, _ := got.Value("shopclip_tasks_total", "type", workers.TypeTranscode, "outcome", outcome); v != want {
					t.Errorf("tasks_total{outcome=%q} = %v, want %v", outcome, v, want)
				}
			}
			total := 0.0
			for _, m := range got["shopclip_tasks_total"].GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "type" && l.GetValue() == workers.TypeTranscode {
						total += m.GetCounter().GetValue()
					}
				}
			}
			if total != float64(c.attempts) {
				t.Errorf("transcode outcomes counted %v times, want %d", total, c.attempts)
			}
			if n, _, _ := got.Histogram("shopclip_task_queue_wait_seconds", "type", workers.TypeTranscode); n != 1 {
				t.Errorf("queue wait observed %d times, want once (first attempt only)", n)
			}
			published := uint64(0)
			if c.ready {
				published = 1
			}
			if n, sum, _ := got.Histogram("shopclip_transcode_duration_seconds"); n != published || (c.ready && sum <= 0) {
				t.Errorf("transcode duration: count %d sum %g, want count %d", n, sum, published)
			}
			if n, sum, _ := got.Histogram("shopclip_transcode_speed_ratio"); n != published || (c.ready && sum <= 0) {
				t.Errorf("transcode speed: count %d sum %g, want count %d", n, sum, published)
			}
			if v, _ := got.Value("shopclip_transcoded_video_seconds_total"); v != 5*float64(published) {
				t.Errorf("video seconds = %v, want %v (the scripted 5 s)", v, 5*float64(published))
			}
		})
	}
}
