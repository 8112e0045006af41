package workers

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/shopclip/shopclip"
)

// Reconciler finds clips stuck before a terminal status, because an enqueue
// failed after the upload was recorded or a task was lost, and enqueues them
// again. A clip whose transcode task was archived (its retries exhausted
// without the handler recording a failure, e.g. a worker killed each time)
// is failed with a clear reason.
type Reconciler struct {
	Store     shopclip.Store
	Queue     *Client
	Inspector *asynq.Inspector
	// StaleAfter is how long a clip may sit processing without an update
	// before its task is looked for. Default 2m.
	StaleAfter time.Duration
	// UploadedAfter is how long a clip may sit uploaded before its task is
	// looked for: the API enqueues it on upload, so a clip still uploaded
	// after this has no task when the queue was down then. Default 10s.
	UploadedAfter time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
}

// Run reconciles every interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.ReconcileOnce(ctx); err != nil && ctx.Err() == nil {
			r.logger().Warn("reconcile", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReconcileOnce runs one pass and returns how many clips it acted on.
func (r *Reconciler) ReconcileOnce(ctx context.Context) (int, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	uploaded, err := r.Store.StaleClips(ctx, []shopclip.ClipStatus{shopclip.ClipUploaded}, now().Add(-cmp.Or(r.UploadedAfter, 10*time.Second)), 1000)
	if err != nil {
		return 0, err
	}
	processing, err := r.Store.StaleClips(ctx, []shopclip.ClipStatus{shopclip.ClipProcessing}, now().Add(-cmp.Or(r.StaleAfter, 2*time.Minute)), 1000)
	if err != nil {
		return 0, err
	}
	clips := append(uploaded, processing...)
	n := 0
	for _, c := range clips {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		log := r.logger().With("clip_id", c.ID)
		if r.Inspector != nil {
			info, err := r.Inspector.GetTaskInfo(QueueTranscode, TranscodeTaskID(c.ID))
			switch {
			case err == nil && info.State == asynq.TaskStateArchived:
				if err := r.failArchived(ctx, c, info); err != nil {
					log.Warn("reconcile: fail archived clip", "err", err)
					continue
				}
				n++
				continue
			case err == nil:
				continue // a live task exists
			case !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound):
				log.Warn("reconcile: inspect task", "err", err)
				continue
			}
		}
		if err := r.Queue.EnqueueTranscode(ctx, c.ID); err != nil {
			return n, err
		}
		log.Info("reconcile: re-enqueued transcode", "status", c.Status)
		n++
	}
	return n, nil
}

func (r *Reconciler) failArchived(ctx context.Context, c *shopclip.Clip, info *asynq.TaskInfo) error {
	attempt := shopclip.NewID(shopclip.PrefixAttempt)
	clip, err := r.Store.StartClipAttempt(ctx, c.ID, attempt)
	if err != nil {
		return err
	}
	if !clip.Status.Terminal() {
		e := shopclip.Errorf(shopclip.EINTERNAL, "Processing stopped after %d attempts. The upload is kept; try again later or contact the operator.", info.Retried+1)
		if err := r.Store.FailClip(ctx, c.ID, attempt, e); err != nil {
			return err
		}
	}
	r.logger().Info("reconcile: clip failed after its task was archived", "clip_id", c.ID, "last_err", info.LastErr)
	return r.Inspector.DeleteTask(QueueTranscode, info.ID)
}

func (r *Reconciler) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}
