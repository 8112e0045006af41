// Package workers is shopclip's job layer on asynq (Redis): the task types
// clip:transcode, clip:tag and clip:share, a client that enqueues them idempotently, the
// handlers that run them, and a reconciler that re-enqueues clips a lost
// enqueue or a lost task left behind.
//
// asynq runs a task at least once, so every handler is idempotent: a
// transcode writes under its own attempt-scoped prefix and publishes by a
// compare-and-set on the clip (Store.PublishClip); a tag task recomputes its
// outputs from the database and replaces them whole.
package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/logctx"
)

// Task types and the queues they run on.
const (
	TypeTranscode = "clip:transcode"
	TypeTag       = "clip:tag"
	TypeShare     = "clip:share"

	QueueTranscode = "transcode"
	QueueTag       = "tag"
	// QueueShare holds share renders; the transcode workers take them when
	// no transcode is waiting.
	QueueShare = "share"
)

// ClipPayload is the payload of every clip task.
type ClipPayload struct {
	ClipID string `json:"clip_id"`
	// Since is when the transcode was asked for (Unix milliseconds): the
	// start of its retry window. Absent from other tasks, and from
	// transcodes enqueued before it existed (their retries are counted).
	Since int64 `json:"since,omitempty"`
	// RequestID is the ID of the API request that caused the task (and
	// of the one that caused the task that enqueued it), so that its log
	// lines carry the request's: absent from the reconciler's and from
	// scheduled re-labels.
	RequestID string `json:"request_id,omitempty"`
}

// newPayload is the payload of a clip task enqueued in ctx: it carries
// the request ID ctx does.
func newPayload(ctx context.Context, clipID string) ClipPayload {
	return ClipPayload{ClipID: clipID, RequestID: logctx.RequestID(ctx)}
}

// Client enqueues tasks.
type Client struct {
	c        *asynq.Client
	insp     *asynq.Inspector
	maxRetry int
	timeout  time.Duration
	log      *slog.Logger
}

// ClientConfig tunes a Client. Zero values mean the defaults.
type ClientConfig struct {
	// MaxRetry caps the retries of one transcode task. Default 100: the
	// retry window (Handlers.RetryWindow) is what usually ends them.
	MaxRetry int
	// TranscodeTimeout bounds one transcode attempt. Default 1h.
	TranscodeTimeout time.Duration
	// Logger gets a line for every task enqueued, with the request ID of
	// the context it was enqueued in. Default: none.
	Logger *slog.Logger
}

// NewClient returns a Client on the Redis described by opt.
func NewClient(opt asynq.RedisConnOpt, cfg ClientConfig) *Client {
	if cfg.MaxRetry == 0 {
		cfg.MaxRetry = 100
	}
	if cfg.TranscodeTimeout == 0 {
		cfg.TranscodeTimeout = time.Hour
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{c: asynq.NewClient(opt), insp: asynq.NewInspector(opt), maxRetry: cfg.MaxRetry, timeout: cfg.TranscodeTimeout, log: log}
}

// enqueued logs a task enqueued in ctx (a task already waiting under its
// ID is no new task).
func (c *Client) enqueued(ctx context.Context, info *asynq.TaskInfo, clipID string) {
	c.log.LogAttrs(ctx, slog.LevelInfo, "task enqueued", slog.String("type", info.Type), slog.String("queue", info.Queue),
		slog.String(logctx.TaskIDKey, info.ID), slog.String(logctx.ClipIDKey, clipID))
}

// Close releases the client's connections.
func (c *Client) Close() error { return errors.Join(c.c.Close(), c.insp.Close()) }

// RetryTranscode enqueues the transcode of a clip that failed, with a fresh
// retry budget: the task its failure archived is deleted first (its ID
// would make the new one a no-op).
func (c *Client) RetryTranscode(ctx context.Context, clipID string) error {
	err := c.insp.DeleteTask(QueueTranscode, TranscodeTaskID(clipID))
	if err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
		return unavailable("retry transcode", err)
	}
	return c.EnqueueTranscode(ctx, clipID)
}

// TranscodeTaskID is the deterministic task ID of a clip's transcode: a second
// enqueue while one is pending, running or waiting to retry is a no-op.
func TranscodeTaskID(clipID string) string { return "transcode:" + clipID }

// EnqueueTranscode enqueues the transcode of a clip. Enqueuing a clip that
// already has a live transcode task succeeds without adding another.
func (c *Client) EnqueueTranscode(ctx context.Context, clipID string) error {
	p := newPayload(ctx, clipID)
	p.Since = time.Now().UnixMilli()
	payload, _ := json.Marshal(p)
	info, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeTranscode, payload),
		asynq.TaskID(TranscodeTaskID(clipID)),
		asynq.Queue(QueueTranscode),
		asynq.MaxRetry(c.maxRetry),
		asynq.Timeout(c.timeout))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	} else if err != nil {
		return unavailable("enqueue transcode", err)
	}
	c.enqueued(ctx, info, clipID)
	return nil
}

// EnqueueTagAt schedules the recomputation of a clip's pop-ups at a moment,
// such as when a discount starts or ends. Scheduling the same clip and
// moment twice is a no-op. The task is the schedule's, not a request's: it
// carries no request ID.
func (c *Client) EnqueueTagAt(ctx context.Context, clipID string, at time.Time) error {
	payload, _ := json.Marshal(ClipPayload{ClipID: clipID})
	info, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeTag, payload),
		asynq.TaskID(fmt.Sprintf("tag:%s:%d", clipID, at.Unix())),
		asynq.ProcessAt(at),
		asynq.Queue(QueueTag),
		asynq.MaxRetry(10),
		asynq.Timeout(5*time.Minute))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	} else if err != nil {
		return unavailable("schedule tag", err)
	}
	c.enqueued(ctx, info, clipID)
	return nil
}

// EnqueueShare enqueues the render of a clip's share MP4, to run after
// delay. Renders are not deduplicated by task ID (an archived task would
// block every later one); a render whose content is already published is a
// cheap no-op instead.
func (c *Client) EnqueueShare(ctx context.Context, clipID string, delay time.Duration) error {
	payload, _ := json.Marshal(newPayload(ctx, clipID))
	info, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeShare, payload),
		asynq.Queue(QueueShare),
		asynq.ProcessIn(delay),
		asynq.MaxRetry(25), // about an hour with RetryDelay: a storage outage loses no render
		asynq.Timeout(30*time.Minute))
	if err != nil {
		return unavailable("enqueue share", err)
	}
	c.enqueued(ctx, info, clipID)
	return nil
}

func unavailable(op string, err error) error {
	return fmt.Errorf("workers: %s: %w (%w)", op, err,
		shopclip.Errorf(shopclip.EUNAVAILABLE, "The job queue is unavailable; try again shortly."))
}

// since is when the transcode was asked for; zero when unknown.
func (p ClipPayload) since() time.Time {
	if p.Since <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(p.Since)
}

// taskContext is the context of a task's handler: it carries the task's ID,
// its clip's and the request ID of its payload, for every log line of the
// task, and for the tasks it enqueues.
func taskContext(ctx context.Context, p ClipPayload) context.Context {
	id, _ := asynq.GetTaskID(ctx)
	ctx = logctx.WithTaskID(ctx, id)
	if shopclip.ValidID(shopclip.PrefixClip, p.ClipID) {
		ctx = logctx.WithClipID(ctx, p.ClipID)
	}
	if logctx.ValidRequestID(p.RequestID) {
		ctx = logctx.WithRequestID(ctx, p.RequestID)
	}
	return ctx
}

func parsePayload(t *asynq.Task) (ClipPayload, error) {
	var p ClipPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || !shopclip.ValidID(shopclip.PrefixClip, p.ClipID) {
		return p, fmt.Errorf("workers: bad %s payload %q: %w", t.Type(), t.Payload(), asynq.SkipRetry)
	}
	return p, nil
}
