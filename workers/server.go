package workers

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
)

// ServerConfig tunes a Server. Zero values mean the defaults.
type ServerConfig struct {
	// Concurrency is how many transcodes run at once. Default 2.
	Concurrency int
	// TagConcurrency is how many clip:tag tasks run at once, on workers of
	// their own so that long transcodes never hold them up. Default 2.
	TagConcurrency int
	// TaskCheckInterval is how long an idle worker waits before looking
	// for tasks again. Default 20ms, so an upload starts transcoding at once
	// (an idle worker runs one cheap dequeue script per queue per interval).
	TaskCheckInterval time.Duration
	// ShutdownTimeout is how long Shutdown waits for running tasks before
	// requeuing them. Default 8s.
	ShutdownTimeout time.Duration
	// RetryDelay is the backoff between retries. Default RetryDelay.
	RetryDelay asynq.RetryDelayFunc
	Logger     *slog.Logger
}

// Server runs task handlers on asynq: one asynq server for transcodes and
// one for clip:tag tasks, so quick re-labelling never waits behind a long
// transcode (RELIABILITY A15).
type Server struct {
	transcode, tag *asynq.Server
	mux            *asynq.ServeMux
}

// NewServer returns a Server running h's handlers on the Redis described by
// opt.
func NewServer(opt asynq.RedisConnOpt, cfg ServerConfig, h *Handlers) *Server {
	cfg.Concurrency = cmp.Or(cfg.Concurrency, 2)
	cfg.TagConcurrency = cmp.Or(cfg.TagConcurrency, 2)
	cfg.TaskCheckInterval = cmp.Or(cfg.TaskCheckInterval, 20*time.Millisecond)
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = RetryDelay
	}
	cfg.ShutdownTimeout = cmp.Or(cfg.ShutdownTimeout, 8*time.Second)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	newServer := func(queues map[string]int, concurrency int) *asynq.Server {
		queue := strings.Join(slices.Sorted(maps.Keys(queues)), ",")
		return asynq.NewServer(opt, asynq.Config{
			Concurrency:       concurrency,
			TaskCheckInterval: cfg.TaskCheckInterval,
			// Retries and scheduled re-labels are moved to their queue this
			// often (asynq's default is 5s).
			DelayedTaskCheckInterval: time.Second,
			Queues:                   queues,
			StrictPriority:           true,
			RetryDelayFunc:           cfg.RetryDelay,
			ShutdownTimeout:          cfg.ShutdownTimeout,
			Logger:                   asynqLogger{log.With("component", "asynq", "queue", queue)},
			LogLevel:                 asynq.WarnLevel,
			ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
				id, _ := asynq.GetTaskID(ctx)
				n, _ := asynq.GetRetryCount(ctx)
				log.Warn("task failed", "task_id", id, "queue", queue, "type", t.Type(), "retried", n, "err", err)
			}),
		})
	}
	mux := asynq.NewServeMux()
	h.Register(mux)
	return &Server{
		// Share renders wait for transcodes: a creator waits on an upload.
		transcode: newServer(map[string]int{QueueTranscode: 2, QueueShare: 1}, cfg.Concurrency),
		tag:       newServer(map[string]int{QueueTag: 1}, cfg.TagConcurrency),
		mux:       mux,
	}
}

// Start starts processing tasks in the background.
func (s *Server) Start() error {
	if err := s.transcode.Start(s.mux); err != nil {
		return fmt.Errorf("workers: start: %w", err)
	}
	if err := s.tag.Start(s.mux); err != nil {
		s.transcode.Shutdown()
		return fmt.Errorf("workers: start: %w", err)
	}
	return nil
}

// Shutdown stops taking tasks, waits up to the shutdown timeout for running
// ones, and requeues the rest.
func (s *Server) Shutdown() {
	done := make(chan struct{})
	go func() { s.tag.Shutdown(); close(done) }()
	s.transcode.Shutdown()
	<-done
}

// RetryDelay is the backoff between retries: 2^n seconds with jitter, capped
// at 2 minutes (asynq's default grows to hours, far too slow for uploads a
// creator is waiting on).
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Second << min(n, 7)
	if d > 2*time.Minute {
		d = 2 * time.Minute
	}
	return d + rand.N(d/2+time.Millisecond)
}

// asynqLogger adapts slog to asynq.Logger.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
