// Package eventbatch records viewer events by group commit: the requests
// that arrive while one batch is being written make the next batch, written
// in one transaction. Each request still waits for its own event's commit
// and gets its own result (recorded, or a duplicate of which event), so an
// answer given is never a promise broken by a crash, and stats stay exact;
// but a store that commits a few hundred transactions a second takes
// thousands of events in that time.
//
// Under light load a batch is one event, written as soon as it comes: no
// timer adds latency. Under heavy load batches grow up to MaxBatch, and
// requests wait at most one batch's write for theirs to start.
package eventbatch

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/shopclip/shopclip"
)

// Store is what a Batcher writes to: batches, and single events when a
// batch fails (so one event's fault does not fail its neighbours).
type Store interface {
	shopclip.EventBatches
	RecordEvent(ctx context.Context, e *shopclip.Event, dedupeKey string) (*shopclip.Event, bool, error)
	AddTagClick(ctx context.Context, tagID string) error
}

// Defaults of a Batcher.
const (
	DefaultMaxBatch = 500
	DefaultQueue    = 10_000
	DefaultWriters  = 1
	// writeTimeout bounds one batch's write.
	writeTimeout = 30 * time.Second
)

// Batcher records events in batches. Create it with New, run Run, and stop
// it by cancelling Run's context: events queued by then are still written.
type Batcher struct {
	store    Store
	maxBatch int
	writers  int
	logger   *slog.Logger
	queue    chan *request
	done     chan struct{} // closed when Run has stopped taking requests
	drained  chan struct{} // closed when Run has written the last of them
	stopOnce sync.Once

	// Observe, when set, is told each batch's size and write time.
	Observe func(size int, took time.Duration)
}

// Config sets a Batcher's limits.
type Config struct {
	// MaxBatch bounds the events of one transaction. Default 500.
	MaxBatch int
	// Queue bounds the events waiting for a batch; past it, Record waits
	// for room (or its context). Default 10,000.
	Queue int
	// Writers is how many batches are written at once: 1 suits SQLite
	// (one writer anyway); PostgreSQL gains from a few. Default 1.
	Writers int
	Logger  *slog.Logger
}

type request struct {
	rec   shopclip.EventRecord
	reply chan struct{}
}

// New returns a Batcher writing to store.
func New(store Store, cfg Config) *Batcher {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Writers <= 0 {
		cfg.Writers = DefaultWriters
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Batcher{store: store, maxBatch: cfg.MaxBatch, writers: cfg.Writers, logger: cfg.Logger,
		queue: make(chan *request, cfg.Queue), done: make(chan struct{}), drained: make(chan struct{})}
}

// Record records e under dedupeKey as Store.RecordEvent does, in the next
// batch, and returns once that batch is committed. When ctx ends first the
// event may still be recorded (it was queued); when the Batcher has stopped,
// it is refused with EUNAVAILABLE.
func (b *Batcher) Record(ctx context.Context, e *shopclip.Event, dedupeKey string) (*shopclip.Event, bool, error) {
	return b.record(ctx, shopclip.EventRecord{Event: e, DedupeKey: dedupeKey})
}

// RecordClick records a buy redirect's click e as Record does, and adds
// one to its tag's Clicks in the same transaction, duplicate or not.
func (b *Batcher) RecordClick(ctx context.Context, e *shopclip.Event, dedupeKey string) (*shopclip.Event, bool, error) {
	return b.record(ctx, shopclip.EventRecord{Event: e, DedupeKey: dedupeKey, CountClick: true})
}

func (b *Batcher) record(ctx context.Context, rec shopclip.EventRecord) (*shopclip.Event, bool, error) {
	req := &request{rec: rec, reply: make(chan struct{})}
	select {
	case <-b.done:
		return nil, false, unavailable()
	default:
	}
	select {
	case b.queue <- req:
	case <-b.done:
		return nil, false, unavailable()
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	select {
	case <-req.reply:
	case <-b.drained:
		// Queued as Run was stopping: written, or never to be.
		select {
		case <-req.reply:
		default:
			return nil, false, unavailable()
		}
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	return req.rec.Stored, req.rec.Created, req.rec.Err
}

func unavailable() error {
	return shopclip.Errorf(shopclip.EUNAVAILABLE, "Events are not being recorded: the server is shutting down. Send it again.")
}

// Run writes batches until ctx ends, then writes what is queued and
// returns. Call it once.
func (b *Batcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range b.writers {
		wg.Go(func() { b.write(ctx) })
	}
	<-ctx.Done()
	b.stopOnce.Do(func() { close(b.done) })
	wg.Wait()
	// Requests that got in before done was closed and after the writers
	// stopped reading: write them too.
	defer close(b.drained)
	for {
		batch := b.take(nil)
		if len(batch) == 0 {
			return
		}
		b.flush(batch)
	}
}

// write takes and writes batches until ctx ends.
func (b *Batcher) write(ctx context.Context) {
	for {
		var first *request
		select {
		case first = <-b.queue:
		case <-ctx.Done():
			return
		}
		b.flush(b.take(first))
	}
}

// take returns first (when set) and whatever else is queued, up to
// MaxBatch, without waiting.
func (b *Batcher) take(first *request) []*request {
	batch := make([]*request, 0, min(b.maxBatch, len(b.queue)+1))
	if first != nil {
		batch = append(batch, first)
	}
	for len(batch) < b.maxBatch {
		select {
		case r := <-b.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// flush writes batch in one transaction and replies to each request. When
// the transaction fails, each event is written alone, so that one event's
// fault is its own.
func (b *Batcher) flush(batch []*request) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	start := time.Now()
	recs := make([]*shopclip.EventRecord, len(batch))
	for i, r := range batch {
		recs[i] = &r.rec
	}
	if err := b.store.RecordEvents(ctx, recs); err != nil {
		b.logger.Warn("eventbatch: batch failed; writing its events one by one", "events", len(batch), "err", err)
		for _, r := range recs {
			r.Stored, r.Created, r.Err = b.store.RecordEvent(ctx, r.Event, r.DedupeKey)
			if r.Err == nil && r.CountClick && r.Event.TagID != "" {
				if err := b.store.AddTagClick(ctx, r.Event.TagID); err != nil {
					b.logger.Warn("eventbatch: count click", "tag_id", r.Event.TagID, "err", err)
				}
			}
		}
	}
	if b.Observe != nil {
		b.Observe(len(batch), time.Since(start))
	}
	for _, r := range batch {
		close(r.reply)
	}
}
