package respcache

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Channel is the Redis pub/sub channel of invalidations.
const Channel = "shopclip:respcache"

// all is the message that drops every answer.
const all = "*"

// Bus carries invalidations between the API processes sharing a Redis:
// Invalidate drops the answers here and tells the others. Run keeps the
// subscription; while it is down (Redis away) the cache keeps nothing, so
// an invalidation missed then cannot leave a stale answer behind, and
// everything kept before is dropped when it comes back.
type Bus struct {
	Cache  *Cache
	RDB    redis.UniversalClient
	Logger *slog.Logger

	ready chan struct{}
}

// NewBus returns a bus for cache on rdb. The cache keeps nothing until Run
// has subscribed.
func NewBus(cache *Cache, rdb redis.UniversalClient, logger *slog.Logger) *Bus {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cache.setKeeping(false)
	return &Bus{Cache: cache, RDB: rdb, Logger: logger, ready: make(chan struct{})}
}

// Invalidate drops clipID's answers (and the lists) here and in every
// process subscribed; with clipID "" it drops every answer. The local drop
// is immediate; the publication is best effort (a failure is logged: the
// other processes stop keeping answers when they lose Redis too, and a
// publication lost while they still hear Redis is bounded by MaxAge).
func (b *Bus) Invalidate(ctx context.Context, clipID string) {
	if b == nil {
		return
	}
	msg := clipID
	if clipID == "" {
		msg = all
		b.Cache.InvalidateAll()
	} else {
		b.Cache.Invalidate(clipID)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := b.RDB.Publish(ctx, Channel, msg).Err(); err != nil {
		b.Logger.WarnContext(ctx, "respcache: publish invalidation", "clip_id", clipID, "err", err)
	}
}

// Run holds the subscription until ctx ends, applying the invalidations it
// hears. It reads the subscription's own confirmations too: go-redis
// subscribes again after a reconnection, and every (re)subscription drops
// everything and lets the cache keep answers again.
func (b *Bus) Run(ctx context.Context) {
	ps := b.RDB.Subscribe(ctx, Channel)
	defer b.Cache.setKeeping(false)
	// Receive does not watch ctx while it waits for a message: closing the
	// subscription ends the wait.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer func() {
		if stop() {
			ps.Close()
		}
	}()
	subscribed := false
	for {
		msg, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if subscribed {
				b.Logger.Warn("respcache: subscription lost; answers are built per request until it is back", "err", err)
				b.Cache.setKeeping(false)
				subscribed = false
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				b.Cache.setKeeping(true)
				if !subscribed && b.ready != nil {
					select {
					case <-b.ready:
					default:
						close(b.ready)
					}
				}
				subscribed = true
			}
		case *redis.Message:
			if m.Payload == all {
				b.Cache.InvalidateAll()
			} else {
				b.Cache.Invalidate(m.Payload)
			}
		}
	}
}

// Ready waits until Run has subscribed once.
func (b *Bus) Ready(ctx context.Context) error {
	select {
	case <-b.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
