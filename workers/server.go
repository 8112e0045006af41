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
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip/internal/logctx"
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
	// requeuing them. Default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// RetryDelay is the backoff between retries. Default RetryDelay.
	RetryDelay asynq.RetryDelayFunc
	Logger     *slog.Logger
}

// DefaultShutdownTimeout is ServerConfig.ShutdownTimeout's default: a
// task still running this long after Shutdown is requeued (asynq's
// default).
const DefaultShutdownTimeout = 8 * time.Second

// Server runs task handlers on asynq: one asynq server for transcodes and
// one for clip:tag tasks, so quick re-labelling never waits behind a long
// transcode (RELIABILITY A15).
type Server struct {
	transcode, tag *asynq.Server
	mux            *asynq.ServeMux
	running        running
	log            *slog.Logger
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
	cfg.ShutdownTimeout = cmp.Or(cfg.ShutdownTimeout, DefaultShutdownTimeout)
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
				n, _ := asynq.GetRetryCount(ctx)
				p, _ := parsePayload(t) // with its task, clip and request IDs
				logctx.Logger(taskContext(ctx, p), log).Warn("task failed", "queue", queue, "type", t.Type(), "retried", n, "err", err)
			}),
		})
	}
	s := &Server{
		// Share renders wait for transcodes: a creator waits on an upload.
		transcode: newServer(map[string]int{QueueTranscode: 2, QueueShare: 1}, cfg.Concurrency),
		tag:       newServer(map[string]int{QueueTag: 1}, cfg.TagConcurrency),
		mux:       asynq.NewServeMux(),
		log:       log,
	}
	s.mux.Use(s.running.track)
	h.Register(s.mux)
	return s
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
// ones, and requeues the rest. It returns once the handlers of the requeued
// tasks have returned too (their contexts cancelled, they kill their
// transcode children and delete their unpublished outputs), or after
// CleanupTimeout more: asynq stops waiting for them when it requeues, and
// what they clean up must not be closed under them, nor the process exit
// in the middle.
func (s *Server) Shutdown() {
	done := make(chan struct{})
	go func() { s.tag.Shutdown(); close(done) }()
	s.transcode.Shutdown()
	<-done
	if n := s.running.wait(CleanupTimeout); n > 0 {
		s.log.Warn("workers: interrupted tasks still cleaning up at shutdown; the janitor removes what they leave", "tasks", n)
	}
}

// CleanupTimeout bounds how long Shutdown waits, after the shutdown
// timeout, for the handlers of requeued tasks to clean up.
const CleanupTimeout = 3 * time.Second

// running counts the handlers running, including those of tasks asynq
// already requeued at its shutdown timeout.
type running struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0 while wait waits
}

// track is middleware counting the handlers running.
func (r *running) track(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		r.add(1)
		defer r.add(-1)
		return next.ProcessTask(ctx, t)
	})
}

func (r *running) add(d int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n += d
	if r.n == 0 && r.idle != nil {
		close(r.idle)
		r.idle = nil
	}
}

// wait waits up to timeout for no handler to run and returns how many
// still do.
func (r *running) wait(timeout time.Duration) int {
	r.mu.Lock()
	if r.n == 0 {
		r.mu.Unlock()
		return 0
	}
	if r.idle == nil {
		r.idle = make(chan struct{})
	}
	idle := r.idle
	r.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
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
