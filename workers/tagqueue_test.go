package workers_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/workers"
)

// tagTasks counts the clip:tag tasks not yet done: waiting, scheduled,
// running or waiting to retry.
func (h *harness) tagTasks() int {
	h.t.Helper()
	q, err := h.insp.GetQueueInfo(workers.QueueTag)
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return 0
	} else if err != nil {
		h.t.Fatal(err)
	}
	return q.Pending + q.Scheduled + q.Active + q.Retry
}

// tagFixture records a brand with a product, for tags on clips.
func (h *harness) tagFixture() *shopclip.Product {
	h.t.Helper()
	ctx := context.Background()
	brand := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "acme", Role: shopclip.RoleBrand}
	if err := h.store.CreateAccount(ctx, brand); err != nil {
		h.t.Fatal(err)
	}
	p := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: brand.ID, SKU: "S", Title: "Lamp", Currency: "EUR",
		PriceMinor: 5000, URL: "https://s.example/l", InStock: true}
	if err := h.store.CreateProduct(ctx, p); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) activeTag(clipID string, p *shopclip.Product, startMS int64) *shopclip.Tag {
	h.t.Helper()
	tg := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: clipID, ProductID: p.ID, BrandID: p.BrandID,
		StartMS: startMS, EndMS: startMS + 1000, X: 0.5, Y: 0.5, Status: shopclip.TagActive}
	if err := h.store.CreateTag(context.Background(), tg); err != nil {
		h.t.Fatal(err)
	}
	return tg
}

// TestTagBurstIsOneTask: a hundred changes to a clip while no worker runs
// leave one clip:tag task waiting, not a hundred.
func TestTagBurstIsOneTask(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	ctx := context.Background()
	c, other := h.newClip("x"), h.newClip("y")
	for range 100 {
		if err := h.queue.EnqueueTag(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.queue.EnqueueTag(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if n := h.tagTasks(); n != 2 {
		t.Errorf("100 changes to one clip and one to another: %d clip:tag tasks, want 2", n)
	}
}

// gatedStore holds the handler at its gate-th read of a clip's tags until
// released.
type gatedStore struct {
	*store.DB
	reads   atomic.Int32
	gate    int32
	reached chan struct{}
	release chan struct{}
}

func (s *gatedStore) ClipTags(ctx context.Context, clipID string, q shopclip.TagQuery) ([]*shopclip.Tag, error) {
	ts, err := s.DB.ClipTags(ctx, clipID, q)
	if s.reads.Add(1) == s.gate {
		close(s.reached)
		<-s.release
	}
	return ts, err
}

// TestTagChangeWhileTheTaskRuns: a change made after the running clip:tag
// task read the database (the task then stores a timeline without it) is
// not lost: it enqueues a follow-up, which a hundred more changes share, and
// once the queue is drained the stored timeline shows the last change.
func TestTagChangeWhileTheTaskRuns(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	ctx := context.Background()
	c := h.newClip("shoppable")
	p := h.tagFixture()
	first := h.activeTag(c.ID, p, 0)

	// HandleTag reads the tags once and stores the timeline, then reads
	// them again to confirm it: the gate holds it after that second read,
	// when it has decided that what it stored is current.
	gs := &gatedStore{DB: h.store, gate: 2, reached: make(chan struct{}), release: make(chan struct{})}
	released := false
	defer func() {
		if !released {
			close(gs.release)
		}
	}()
	handlers := *h.handle
	handlers.Store = gs
	srv := workers.NewServer(h.opt, workers.ServerConfig{TagConcurrency: 1, ShutdownTimeout: 2 * time.Second,
		RetryDelay: func(int, error, *asynq.Task) time.Duration { return 100 * time.Millisecond }}, &handlers)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	if err := h.queue.EnqueueTag(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gs.reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the clip:tag task never read the tags twice")
	}
	last := h.activeTag(c.ID, p, 2000) // after the running task's last read
	for range 100 {
		if err := h.queue.EnqueueTag(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.tagTasks(); n != 2 {
		t.Errorf("while one clip:tag task runs, 100 changes leave %d tasks, want 2 (it and one follow-up)", n)
	}
	close(gs.release)
	released = true

	deadline := time.Now().Add(30 * time.Second)
	for h.tagTasks() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d clip:tag tasks still not done", h.tagTasks())
		}
		time.Sleep(20 * time.Millisecond)
	}
	vtt := readBlob(t, h.blobs, shopclip.OverlaysKey(c.ID, "vtt"))
	for _, tg := range []*shopclip.Tag{first, last} {
		if !strings.Contains(vtt, tg.ID) {
			t.Errorf("the stored timeline misses tag %s:\n%s", tg.ID, vtt)
		}
	}
}

// TestTagTaskIDFreedAfterArchive: a clip whose clip:tag task failed for
// good (archived, holding its ID) still gets a new one on the next change.
func TestTagTaskIDFreedAfterArchive(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	ctx := context.Background()
	c := h.newClip("x")
	if err := h.queue.EnqueueTag(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.insp.ArchiveTask(workers.QueueTag, workers.TagTaskID(c.ID)); err != nil {
		t.Fatal(err)
	}
	if err := h.queue.EnqueueTag(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	info, err := h.insp.GetTaskInfo(workers.QueueTag, workers.TagTaskID(c.ID))
	if err != nil {
		t.Fatal(err)
	}
	if info.State != asynq.TaskStatePending {
		t.Errorf("after a change, the clip's tag task is %s, want pending", info.State)
	}
}
