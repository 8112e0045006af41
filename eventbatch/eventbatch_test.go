package eventbatch_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/eventbatch"
	"github.com/shopclip/shopclip/store"
)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "shopclip.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func view(clipID, session string) *shopclip.Event {
	return &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventView, SessionID: session, ClipID: clipID}
}

// start runs b until the test ends (or stop is called).
func start(t *testing.T, b *eventbatch.Batcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// Concurrent requests are written in batches, each told its own result,
// and the counts are exact.
func TestConcurrentRecordsBatchedAndExact(t *testing.T) {
	db := openStore(t)
	b := eventbatch.New(db, eventbatch.Config{})
	var batches, largest atomic.Int64
	b.Observe = func(size int, _ time.Duration) {
		batches.Add(1)
		for {
			l := largest.Load()
			if int64(size) <= l || largest.CompareAndSwap(l, int64(size)) {
				break
			}
		}
	}
	start(t, b)
	const workers, each = 50, 40
	var created atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				// Each session views the clip twice: the second is a duplicate.
				session := fmt.Sprintf("sess-%03d-%03d", w, i/2)
				e := view("clp_batch", session)
				stored, ok, err := b.Record(context.Background(), e, "view:"+session)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					created.Add(1)
					if stored != e {
						t.Errorf("a recorded event reports %v", stored.ID)
					}
				} else if stored == nil || stored.SessionID != session {
					t.Errorf("a duplicate reports %+v", stored)
				}
			}
		})
	}
	wg.Wait()
	want := int64(workers * each / 2)
	if created.Load() != want {
		t.Errorf("%d recorded, want %d", created.Load(), want)
	}
	views, err := db.ClipViews(context.Background(), "clp_batch")
	if err != nil {
		t.Fatal(err)
	}
	if views != want {
		t.Errorf("ClipViews = %d, want %d", views, want)
	}
	if largest.Load() < 2 || batches.Load() >= workers*each {
		t.Errorf("%d batches for %d events, the largest of %d: not batching", batches.Load(), workers*each, largest.Load())
	}
	t.Logf("%d events in %d batches, the largest of %d", workers*each, batches.Load(), largest.Load())
}

// failingBatches fails every batch: the Batcher writes the events one by
// one instead.
type failingBatches struct {
	*store.DB
	fails atomic.Int64
}

func (f *failingBatches) RecordEvents(context.Context, []*shopclip.EventRecord) error {
	f.fails.Add(1)
	return errors.New("batch failed")
}

func TestFailedBatchWrittenOneByOne(t *testing.T) {
	db := openStore(t)
	fb := &failingBatches{DB: db}
	b := eventbatch.New(fb, eventbatch.Config{})
	start(t, b)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, ok, err := b.Record(context.Background(), view("clp_one", fmt.Sprintf("sess-%04d", i)), ""); err != nil || !ok {
				t.Errorf("record %d: %v %v", i, ok, err)
			}
		})
	}
	// An invalid event is refused alone.
	if _, _, err := b.Record(context.Background(), &shopclip.Event{ID: "evt_x", Type: "like"}, ""); shopclip.ErrorCode(err) != shopclip.EINVALID {
		t.Errorf("invalid event: %v", err)
	}
	wg.Wait()
	if fb.fails.Load() == 0 {
		t.Fatal("no batch was tried")
	}
	if views, _ := db.ClipViews(context.Background(), "clp_one"); views != 20 {
		t.Errorf("ClipViews = %d, want 20", views)
	}
}

// Stopping writes what was queued; later events are refused, not lost
// silently.
func TestStop(t *testing.T) {
	db := openStore(t)
	b := eventbatch.New(db, eventbatch.Config{})
	stop := start(t, b)
	if _, ok, err := b.Record(context.Background(), view("clp_stop", "sess-0001"), ""); err != nil || !ok {
		t.Fatalf("before stop: %v %v", ok, err)
	}
	stop()
	_, _, err := b.Record(context.Background(), view("clp_stop", "sess-0002"), "")
	if shopclip.ErrorCode(err) != shopclip.EUNAVAILABLE {
		t.Fatalf("after stop: %v, want EUNAVAILABLE", err)
	}
	if views, _ := db.ClipViews(context.Background(), "clp_stop"); views != 1 {
		t.Errorf("ClipViews = %d, want 1", views)
	}
}
