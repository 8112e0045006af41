package workers

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/shopclip/shopclip"
)

// Observer is told how tasks go, for metrics (internal/metrics.Tasks
// implements it). Its methods are called from the handlers' goroutines and
// must not block.
type Observer interface {
	// TaskQueued: a task of type typ waited d from its enqueue to the start
	// of its first attempt. Only tasks that carry their enqueue time
	// (transcodes: ClipPayload.Since) are reported.
	TaskQueued(typ string, d time.Duration)
	// TaskDone: an attempt of a task of type typ ran d and ended with
	// outcome: "ok", "retry" (the task runs again: a transient error, a
	// crash to retry, a shutdown) or "failed:<code>" (it does not: the
	// shopclip error code of the error that ended it, "internal" when it
	// has none).
	TaskDone(typ, outcome string, d time.Duration)
	// Transcoded: the transcoder made video of duration video in took.
	Transcoded(video, took time.Duration)
}

// Outcomes of TaskDone besides "failed:<code>".
const (
	OutcomeOK    = "ok"
	OutcomeRetry = "retry"
)

// observe is middleware telling h.Observer of every task attempt.
func (h *Handlers) observe(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		retried, _ := asynq.GetRetryCount(ctx)
		if retried == 0 {
			var p ClipPayload
			if json.Unmarshal(t.Payload(), &p) == nil && p.Since > 0 {
				h.Observer.TaskQueued(t.Type(), h.now().Sub(p.since()))
			}
		}
		start := time.Now()
		err := next.ProcessTask(ctx, t)
		h.Observer.TaskDone(t.Type(), Outcome(ctx, err), time.Since(start))
		return err
	})
}

// Outcome names how a task attempt that returned err in ctx (a handler's
// context) ended, as Observer.TaskDone reports it: asynq runs it again
// unless err is nil, says asynq.SkipRetry or was its last retry.
func Outcome(ctx context.Context, err error) string {
	if err == nil {
		return OutcomeOK
	}
	retried, ok1 := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	if errors.Is(err, asynq.SkipRetry) || ok1 && ok2 && retried >= maxRetry && ctx.Err() == nil {
		return "failed:" + shopclip.ErrorCode(err)
	}
	return OutcomeRetry
}

// ObserveTranscoder returns tc with every successful transcode reported to
// obs (Observer.Transcoded): the duration of the video it made and the
// time it took.
func ObserveTranscoder(tc Transcoder, obs Observer) Transcoder {
	return observedTranscoder{tc, obs}
}

type observedTranscoder struct {
	Transcoder
	obs Observer
}

func (o observedTranscoder) Transcode(ctx context.Context, job TranscodeJob) (*TranscodeResult, error) {
	start := time.Now()
	res, err := o.Transcoder.Transcode(ctx, job)
	if err == nil && res != nil {
		o.obs.Transcoded(time.Duration(res.DurationMS)*time.Millisecond, time.Since(start))
	}
	return res, err
}
