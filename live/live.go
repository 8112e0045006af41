// Package live tells the pages watching a creator's clips that one of them
// changed — uploaded, processing further, ready, failed, deleted — as it
// happens, whichever process changed it: the API, or a worker on another
// machine.
//
// Changes go through Redis pub/sub on one channel; each API process holds
// one subscription and fans notices out to its watchers in memory. A notice
// names the clip only: watchers read the clip itself from the store, the
// truth, so a notice lost (a Redis restart) costs freshness until the next
// one, never correctness; watchers also read everything again when they
// (re)connect.
package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Channel is the Redis pub/sub channel of clip changes.
const Channel = "shopclip:clips"

// Notice says a creator's clip changed.
type Notice struct {
	CreatorID string `json:"creator_id"`
	ClipID    string `json:"clip_id"`
}

// Hub publishes notices and hands them to the watchers of their creator.
// Create it with New and run Run in a goroutine.
type Hub struct {
	rdb       redis.UniversalClient
	logger    *slog.Logger
	ready     chan struct{} // closed once Run has subscribed
	readyOnce sync.Once
	done      chan struct{} // closed by Close
	closeOnce sync.Once

	mu       sync.Mutex
	watchers map[string]map[chan string]struct{} // creator → channels of clip IDs
}

// New returns a Hub on rdb.
func New(rdb redis.UniversalClient, logger *slog.Logger) *Hub {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{rdb: rdb, logger: logger, ready: make(chan struct{}), done: make(chan struct{}), watchers: map[string]map[chan string]struct{}{}}
}

// Notify publishes that creatorID's clip clipID changed. It is best effort:
// a failure is logged, never returned, for the change itself is done.
func (h *Hub) Notify(ctx context.Context, creatorID, clipID string) {
	if h == nil || creatorID == "" {
		return
	}
	b, _ := json.Marshal(Notice{CreatorID: creatorID, ClipID: clipID})
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := h.rdb.Publish(ctx, Channel, b).Err(); err != nil {
		h.logger.Warn("live: publish", "clip_id", clipID, "err", err)
	}
}

// Watch returns the IDs of creatorID's clips as they change, until stop is
// called. A watcher that falls behind loses notices rather than slowing
// others; the channel holds the latest few.
func (h *Hub) Watch(creatorID string) (ids <-chan string, stop func()) {
	ch := make(chan string, 64)
	h.mu.Lock()
	if h.watchers[creatorID] == nil {
		h.watchers[creatorID] = map[chan string]struct{}{}
	}
	h.watchers[creatorID][ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.watchers[creatorID], ch)
			if len(h.watchers[creatorID]) == 0 {
				delete(h.watchers, creatorID)
			}
			h.mu.Unlock()
		})
	}
}

// Run receives the notices of every process until ctx ends. The
// subscription reconnects by itself after Redis goes away.
func (h *Hub) Run(ctx context.Context) {
	ps := h.rdb.Subscribe(ctx, Channel)
	defer ps.Close()
	for {
		// The first reply confirms the subscription.
		if _, err := ps.Receive(ctx); err == nil {
			break
		} else if ctx.Err() != nil {
			return
		} else {
			h.logger.Warn("live: subscribe", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	h.readyOnce.Do(func() { close(h.ready) })
	msgs := ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			var n Notice
			if err := json.Unmarshal([]byte(m.Payload), &n); err != nil || n.CreatorID == "" {
				continue
			}
			h.deliver(n)
		}
	}
}

// Ready waits until Run's subscription is in place; notices published
// before it are not received.
func (h *Hub) Ready(ctx context.Context) error {
	select {
	case <-h.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close tells the watchers to end (the server is shutting down: a stream
// left open would hold its graceful shutdown for nothing).
func (h *Hub) Close() { h.closeOnce.Do(func() { close(h.done) }) }

// Done is closed by Close.
func (h *Hub) Done() <-chan struct{} { return h.done }

func (h *Hub) deliver(n Notice) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.watchers[n.CreatorID] {
		select {
		case ch <- n.ClipID:
		default: // behind: it reads everything again when it reconnects
		}
	}
}
