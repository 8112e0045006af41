package workers_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/workers"
)

// slowStop is a transcoder that takes a while to stop once its context is
// cancelled, as a child process being killed and waited for does.
type slowStop struct {
	*scriptedTranscoder
	delay time.Duration
}

func (s slowStop) Transcode(ctx context.Context, job workers.TranscodeJob) (*workers.TranscodeResult, error) {
	res, err := s.scriptedTranscoder.Transcode(ctx, job)
	if ctx.Err() != nil {
		time.Sleep(s.delay)
	}
	return res, err
}

// TestShutdownWaitsForInterruptedHandlers: a transcode still running at
// the shutdown timeout is requeued as it was (pending, retry count
// unchanged), and Shutdown returns only once its handler has cleaned up
// (the generation it had made playable deleted, its job directory
// removed), not while the caller goes on to close the blob store and exit
// (RELIABILITY A5).
func TestShutdownWaitsForInterruptedHandlers(t *testing.T) {
	tc := &scriptedTranscoder{progressive: true, afterPlayable: make(chan struct{})}
	h := newHarness(t, tc)
	h.handle.Transcoder = slowStop{tc, 500 * time.Millisecond}
	srv := workers.NewServer(h.opt, workers.ServerConfig{Concurrency: 1, ShutdownTimeout: 200 * time.Millisecond}, h.handle)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c := h.newClip("interrupted")
	if err := h.queue.EnqueueTranscode(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	var playable *shopclip.Clip
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var err error
		if playable, err = h.store.Clip(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
		if playable.Generation != "" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("not playable within 30 s: %+v", playable)
		}
	}

	srv.Shutdown()

	info, err := h.insp.GetTaskInfo(workers.QueueTranscode, workers.TranscodeTaskID(c.ID))
	if err != nil || info.State != asynq.TaskStatePending || info.Retried != 0 {
		t.Errorf("task after the shutdown: %+v, %v; want pending, retried 0", info, err)
	}
	got, err := h.store.Clip(context.Background(), c.ID)
	if err != nil || got.Status != shopclip.ClipProcessing || got.PublishedAt != nil {
		t.Errorf("clip after the shutdown: %+v, %v; want processing, unpublished", got, err)
	}
	if objs, err := h.blobs.List(context.Background(), playable.OutputPrefix); err != nil || len(objs) != 0 {
		t.Errorf("the interrupted generation holds %d objects after Shutdown returned (%v); want none", len(objs), err)
	}
	if ents, err := os.ReadDir(h.handle.WorkDir); err != nil || len(ents) != 0 {
		t.Errorf("work dir after Shutdown returned: %d entries (%v); want none", len(ents), err)
	}
}
