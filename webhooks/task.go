package webhooks

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
)

// The delivery task: its type, and the queue it runs on, apart from the
// transcodes' so that slow receivers never hold up clips.
const (
	TaskDeliver = "webhook:deliver"
	QueueName   = "webhook"
)

// Schedule is the wait before each retry of a failed delivery: the Standard
// Webhooks reference schedule, about 27.6 hours in all after the first
// attempt. The last entry repeats past the end.
var Schedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// MaxRetry is how many retries follow a failed first attempt.
var MaxRetry = len(Schedule)

// RetryDelay is asynq's RetryDelayFunc for Schedule.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	return Schedule[min(max(n-1, 0), len(Schedule)-1)]
}

type payload struct {
	DeliveryID string `json:"delivery_id"`
}

// Enqueuer queues delivery tasks on asynq.
type Enqueuer struct{ Client *asynq.Client }

// EnqueueDelivery queues the first attempt of a delivery (task ID: the
// delivery ID, so that a queued delivery is queued once) or a replay.
func (q Enqueuer) EnqueueDelivery(ctx context.Context, deliveryID string, replay bool) error {
	b, _ := json.Marshal(payload{DeliveryID: deliveryID})
	opts := []asynq.Option{asynq.Queue(QueueName), asynq.MaxRetry(MaxRetry), asynq.Timeout(DefaultTimeout + 15*time.Second),
		asynq.Retention(24 * time.Hour)}
	if !replay {
		opts = append(opts, asynq.TaskID(deliveryID))
	}
	_, err := q.Client.EnqueueContext(ctx, asynq.NewTask(TaskDeliver, b), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // queued already
	}
	if err != nil {
		return shopclip.Errorf(shopclip.EUNAVAILABLE, "The delivery could not be queued: %v", err)
	}
	return nil
}

// ProcessTask handles TaskDeliver: one attempt. A failure to be retried
// returns an error (asynq retries it per Schedule); one given up returns
// nil after recording it.
func (s *Service) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DeliveryID == "" {
		return fmt.Errorf("webhooks: bad payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	n, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	last := ok && n >= maxRetry
	outcome, err := s.Deliver(ctx, p.DeliveryID, last)
	if err != nil {
		return fmt.Errorf("webhooks: deliver %s: %w", p.DeliveryID, err)
	}
	if outcome == Retry {
		return fmt.Errorf("webhooks: delivery %s failed; retrying", p.DeliveryID)
	}
	return nil
}

// ServerConfig tunes a Server. Zero values mean the defaults.
type ServerConfig struct {
	// Concurrency is how many deliveries run at once. Default 4.
	Concurrency int
	// RetryDelay: RetryDelay (tests shorten it).
	RetryDelay asynq.RetryDelayFunc
	Logger     *slog.Logger
}

// Server runs delivery tasks on an asynq server of its own (its own retry
// schedule, its own queue).
type Server struct {
	srv *asynq.Server
	mux *asynq.ServeMux
}

// NewServer returns a Server running s's deliveries from the Redis of opt.
func NewServer(opt asynq.RedisConnOpt, cfg ServerConfig, s *Service) *Server {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = RetryDelay
	}
	mux := asynq.NewServeMux()
	mux.Handle(TaskDeliver, s)
	mux.HandleFunc(TaskSale, s.processSale)
	return &Server{mux: mux, srv: asynq.NewServer(opt, asynq.Config{
		Concurrency:              cmp.Or(cfg.Concurrency, 4),
		Queues:                   map[string]int{QueueName: 1},
		TaskCheckInterval:        100 * time.Millisecond,
		DelayedTaskCheckInterval: time.Second,
		RetryDelayFunc:           cfg.RetryDelay,
		ShutdownTimeout:          DefaultTimeout + time.Second,
		Logger:                   asynqLogger{log.With("component", "asynq", "queue", QueueName)},
		LogLevel:                 asynq.WarnLevel,
	})}
}

// Start starts delivering in the background.
func (s *Server) Start() error {
	if err := s.srv.Start(s.mux); err != nil {
		return fmt.Errorf("webhooks: start: %w", err)
	}
	return nil
}

// Shutdown stops delivering, waiting for attempts under way.
func (s *Server) Shutdown() { s.srv.Shutdown() }

type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
