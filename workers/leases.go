package workers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Leases gives the tasks of dead workers back to the queue quickly.
//
// An asynq worker holds a 30 s lease on each task it runs and extends it
// every 5 s. When the worker dies, asynq's own recoverer notices only a
// minute or more later (it polls once a minute for leases expired 30 s
// ago), and an "active" task that lost its lease entry altogether is never
// recovered at all (hibiken/asynq#1144): its clip stays processing for
// ever. Leases moves both back to pending within seconds:
//
//   - a task whose lease expired more than Grace ago (its worker has not
//     extended it for 30 s + Grace: killed, stopped or cut off);
//   - a task in a queue's active list with no lease, seen so on two passes
//     in a row (asynq takes a task and its lease in one script, so this is
//     never a task being picked up).
//
// Each requeue is counted in the task's hash; past MaxRequeues a task is
// left to asynq's recoverer, which counts a retry per lost lease and
// archives the task when they run out (its lease restored if it had none),
// so a task that kills its worker every time cannot loop for ever.
//
// A worker that was only paused (SIGSTOP) and resumes finds its task run
// elsewhere: the clip's attempt fencing (Store.StartClipAttempt) keeps the
// outputs of one attempt only.
type Leases struct {
	Redis redis.UniversalClient
	// Queues are the queues watched. Default: transcode, tag and share.
	Queues []string
	// Grace is how long past its expiry a lease is trusted (clock skew
	// between machines, a slow Redis). Default 10 s.
	Grace time.Duration
	// MaxRequeues bounds the requeues of one task. Default 10.
	MaxRequeues int
	Logger      *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time

	unleased map[string]bool // queue/id seen active without a lease last pass
}

// LeaseRecoveryInterval is how often Run looks for dead workers' tasks.
const LeaseRecoveryInterval = 5 * time.Second

// requeueCmd moves one task from active back to pending when its lease is
// as ARGV[2] requires:
//
//	KEYS[1] active list, KEYS[2] lease zset, KEYS[3] pending list, KEYS[4] task hash
//	ARGV[1] task id
//	ARGV[2] "expired" (lease score ≤ ARGV[3]), "unleased" (no lease) or "any"
//	ARGV[3] cutoff (Unix seconds)
//	ARGV[4] max requeues
//	ARGV[5] now (Unix seconds)
//	ARGV[6] now (Unix nanoseconds, the task's pending_since)
//
// It returns 1 when requeued, 0 when the task is not (or no longer) as
// required, 2 when it is past its requeues (an unleased one is given an
// expired lease, for asynq's recoverer to count), 3 when its hash is gone.
var requeueCmd = redis.NewScript(`
local score = redis.call("ZSCORE", KEYS[2], ARGV[1])
if ARGV[2] == "expired" then
  if not score or tonumber(score) > tonumber(ARGV[3]) then return 0 end
elseif ARGV[2] == "unleased" then
  if score then return 0 end
end
if redis.call("LPOS", KEYS[1], ARGV[1]) == false then return 0 end
if redis.call("EXISTS", KEYS[4]) == 0 then
  redis.call("LREM", KEYS[1], 0, ARGV[1])
  redis.call("ZREM", KEYS[2], ARGV[1])
  return 3
end
local n = tonumber(redis.call("HGET", KEYS[4], "shopclip_requeues") or "0")
if n >= tonumber(ARGV[4]) then
  if not score then redis.call("ZADD", KEYS[2], ARGV[5], ARGV[1]) end
  return 2
end
redis.call("LREM", KEYS[1], 0, ARGV[1])
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("RPUSH", KEYS[3], ARGV[1])
redis.call("HSET", KEYS[4], "state", "pending", "pending_since", ARGV[6], "shopclip_requeues", n + 1)
return 1`)

// Run recovers tasks every interval until ctx ends.
func (l *Leases) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := l.RecoverOnce(ctx); err != nil && ctx.Err() == nil {
			l.logger().Warn("leases: recover", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RecoverOnce runs one pass and returns how many tasks it requeued.
func (l *Leases) RecoverOnce(ctx context.Context) (int, error) {
	now := l.now()
	cutoff := now.Add(-cmp.Or(l.Grace, 10*time.Second))
	seen := make(map[string]bool)
	n := 0
	var errs []error
	for _, q := range l.queues() {
		active, err := l.Redis.LRange(ctx, activeKey(q), 0, -1).Result()
		if err != nil {
			errs = append(errs, fmt.Errorf("queue %s: %w", q, err))
			continue
		}
		for _, id := range active {
			mode := "expired"
			if _, err := l.Redis.ZScore(ctx, leaseKey(q), id).Result(); errors.Is(err, redis.Nil) {
				key := q + "/" + id
				seen[key] = true
				if !l.unleased[key] {
					continue // maybe a moment's state: look again next pass
				}
				mode = "unleased"
			} else if err != nil {
				errs = append(errs, fmt.Errorf("queue %s: %w", q, err))
				continue
			}
			ok, err := l.requeue(ctx, q, id, mode, cutoff, now)
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				n++
			}
		}
	}
	l.unleased = seen
	return n, errors.Join(errs...)
}

// ReleaseAll moves every active task of the queues back to pending. Only for
// a Redis that no running worker uses: `shopclip up` calls it before its
// worker starts, for the tasks its previous run was killed in the middle
// of, so that they resume at once rather than after their leases lapse.
func (l *Leases) ReleaseAll(ctx context.Context) (int, error) {
	now := l.now()
	n := 0
	for _, q := range l.queues() {
		active, err := l.Redis.LRange(ctx, activeKey(q), 0, -1).Result()
		if err != nil {
			return n, fmt.Errorf("leases: queue %s: %w", q, err)
		}
		for _, id := range active {
			ok, err := l.requeue(ctx, q, id, "any", now, now)
			if err != nil {
				return n, err
			} else if ok {
				n++
			}
		}
	}
	return n, nil
}

func (l *Leases) requeue(ctx context.Context, q, id, mode string, cutoff, now time.Time) (bool, error) {
	keys := []string{activeKey(q), leaseKey(q), pendingKey(q), taskKey(q, id)}
	res, err := requeueCmd.Run(ctx, l.Redis, keys, id, mode, cutoff.Unix(), cmp.Or(l.MaxRequeues, 10), now.Unix(), now.UnixNano()).Int()
	if err != nil {
		return false, fmt.Errorf("leases: requeue %s task %s: %w", q, id, err)
	}
	log := l.logger().With("queue", q, "task_id", id, "lease", mode)
	switch res {
	case 1:
		log.Info("leases: requeued the task of a worker that stopped")
		return true, nil
	case 2:
		log.Warn("leases: task requeued too often; left to the queue's retries")
	case 3:
		log.Warn("leases: dropped an active entry with no task")
	}
	return false, nil
}

func (l *Leases) queues() []string {
	if len(l.Queues) > 0 {
		return l.Queues
	}
	return []string{QueueTranscode, QueueTag, QueueShare}
}

func (l *Leases) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Leases) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// asynq's key layout (github.com/hibiken/asynq/internal/base, v0.26).
func queuePrefix(q string) string { return "asynq:{" + q + "}:" }
func activeKey(q string) string   { return queuePrefix(q) + "active" }
func leaseKey(q string) string    { return queuePrefix(q) + "lease" }
func pendingKey(q string) string  { return queuePrefix(q) + "pending" }
func taskKey(q, id string) string { return queuePrefix(q) + "t:" + id }
