package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// RunEventBatches runs the conformance suite of shopclip.EventBatches as
// subtests of t. open must return a new, empty store for the subtest it is
// given, implementing both interfaces and Clocked, and close it when the
// subtest ends.
func RunEventBatches(t *testing.T, open func(t *testing.T) (shopclip.Store, shopclip.EventBatches)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, b shopclip.EventBatches)
	}{
		{"SameAsOneByOne", testBatchSameAsOneByOne},
		{"DeduplicatesWithinAndAcross", testBatchDedupe},
		{"InvalidRecordsAlone", testBatchInvalidRecords},
		{"Large", testBatchLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, b := open(t)
			tt.fn(t, newEnv(t, s), b)
		})
	}
}

func viewEvent(clipID, session string, at time.Time) *shopclip.Event {
	return &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventView, SessionID: session, ClipID: clipID, At: at}
}

// A batch leaves the store as recording its events one by one would: the
// same stored events, the same counts in the stats.
func testBatchSameAsOneByOne(t *testing.T, e *env, b shopclip.EventBatches) {
	w := worldOnly(t, e)
	at := e.clock.Peek()
	batch := []*shopclip.EventRecord{
		{Event: viewEvent(w.aliceClip.ID, "sess-0001", at), DedupeKey: "view:1"},
		{Event: viewEvent(w.aliceClip.ID, "sess-0002", at), DedupeKey: "view:2"},
		{Event: viewEvent(w.bobClip.ID, "sess-0001", at)},
		{Event: &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventImpression, SessionID: "sess-0001",
			ClipID: w.aShoe.ClipID, TagID: w.aShoe.ID, ProductID: w.aShoe.ProductID, BrandID: w.aShoe.BrandID, At: at}, DedupeKey: "imp:1"},
		{Event: &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventClick, SessionID: "sess-0001",
			ClipID: w.aShoe.ClipID, TagID: w.aShoe.ID, ProductID: w.aShoe.ProductID, BrandID: w.aShoe.BrandID, At: at}, DedupeKey: "click:1", CountClick: true},
		// A buy redirect's click again: a duplicate event, but it counts.
		{Event: &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventClick, SessionID: "sess-0001",
			ClipID: w.aShoe.ClipID, TagID: w.aShoe.ID, ProductID: w.aShoe.ProductID, BrandID: w.aShoe.BrandID, At: at}, DedupeKey: "click:1", CountClick: true},
	}
	ok(t, "record events", b.RecordEvents(e.ctx, batch))
	for i, r := range batch[:5] {
		if r.Err != nil || !r.Created || r.Stored != r.Event {
			t.Errorf("record %d: created %v, err %v, stored %p (event %p)", i, r.Created, r.Err, r.Stored, r.Event)
		}
	}
	same(t, "the repeated click created", batch[5].Created, false)
	tag, err := e.s.Tag(e.ctx, w.aShoe.ID)
	ok(t, "tag", err)
	same(t, "the tag's clicks (CountClick twice)", tag.Clicks, int64(2))
	var stats []shopclip.TagStats
	views, err := e.s.ClipViews(e.ctx, w.aliceClip.ID)
	ok(t, "clip views", err)
	same(t, "alice's clip views", views, int64(2))
	views, err = e.s.ClipViews(e.ctx, w.bobClip.ID)
	ok(t, "clip views", err)
	same(t, "bob's clip views", views, int64(1))
	stats, err = e.s.TagStats(e.ctx, w.aShoe.ClipID, "")
	ok(t, "tag stats", err)
	for _, st := range stats {
		if st.TagID == w.aShoe.ID {
			same(t, "impressions", st.Impressions, int64(1))
			same(t, "clicks", st.Clicks, int64(1))
		}
	}
	// The click is there for attribution, as one recorded alone would be.
	click, err := e.s.LastClick(e.ctx, "sess-0001", w.aShoe.ProductID, at.Add(-time.Hour), at)
	ok(t, "last click", err)
	same(t, "last click", click.ID, batch[4].Event.ID)
}

// A key repeated within a batch records its first event only; a key
// recorded before records nothing; both report the event kept.
func testBatchDedupe(t *testing.T, e *env, b shopclip.EventBatches) {
	w := worldOnly(t, e)
	at := e.clock.Peek()
	earlier := viewEvent(w.aliceClip.ID, "sess-0001", at)
	_, created, err := e.s.RecordEvent(e.ctx, earlier, "view:earlier")
	ok(t, "record event", err)
	same(t, "created", created, true)
	first := viewEvent(w.aliceClip.ID, "sess-0002", at)
	batch := []*shopclip.EventRecord{
		{Event: first, DedupeKey: "view:again"},
		{Event: viewEvent(w.aliceClip.ID, "sess-0002", at), DedupeKey: "view:again"},
		{Event: viewEvent(w.aliceClip.ID, "sess-0001", at), DedupeKey: "view:earlier"},
	}
	ok(t, "record events", b.RecordEvents(e.ctx, batch))
	same(t, "first created", batch[0].Created, true)
	same(t, "repeat within the batch created", batch[1].Created, false)
	same(t, "repeat within the batch reports", batch[1].Stored.ID, first.ID)
	same(t, "repeat of an earlier event created", batch[2].Created, false)
	same(t, "repeat of an earlier event reports", batch[2].Stored.ID, earlier.ID)
	same(t, "reported event's time", batch[2].Stored.At, stored(earlier.At))
	views, err := e.s.ClipViews(e.ctx, w.aliceClip.ID)
	ok(t, "clip views", err)
	same(t, "views", views, int64(2))
}

// An invalid record is refused alone: the rest of its batch is recorded.
func testBatchInvalidRecords(t *testing.T, e *env, b shopclip.EventBatches) {
	w := worldOnly(t, e)
	at := e.clock.Peek()
	batch := []*shopclip.EventRecord{
		{Event: viewEvent(w.aliceClip.ID, "sess-0001", at), DedupeKey: "view:1"},
		{Event: &shopclip.Event{ID: shopclip.NewID("evt"), Type: "like", At: at}},
		{Event: &shopclip.Event{Type: shopclip.EventView, ClipID: w.aliceClip.ID, At: at}},
		{Event: viewEvent(w.aliceClip.ID, "sess-0002", at), DedupeKey: "view:2"},
	}
	ok(t, "record events", b.RecordEvents(e.ctx, batch))
	wantCode(t, "unknown type", batch[1].Err, shopclip.EINVALID)
	wantCode(t, "no ID", batch[2].Err, shopclip.EINVALID)
	if batch[0].Err != nil || batch[3].Err != nil || !batch[0].Created || !batch[3].Created {
		t.Errorf("valid records of the batch: %+v %+v", batch[0], batch[3])
	}
	views, err := e.s.ClipViews(e.ctx, w.aliceClip.ID)
	ok(t, "clip views", err)
	same(t, "views", views, int64(2))
	ok(t, "an empty batch", b.RecordEvents(e.ctx, nil))
}

// A batch of thousands is one transaction and counts exactly.
func testBatchLarge(t *testing.T, e *env, b shopclip.EventBatches) {
	w := worldOnly(t, e)
	at := e.clock.Peek()
	const n = 2000
	batch := make([]*shopclip.EventRecord, 0, n)
	for i := range n {
		// Every tenth repeats the one before it.
		key := fmt.Sprintf("view:%d", i-i%10/9)
		batch = append(batch, &shopclip.EventRecord{Event: viewEvent(w.bobClip.ID, fmt.Sprintf("sess-%05d", i), at), DedupeKey: key})
	}
	ok(t, "record events", b.RecordEvents(e.ctx, batch))
	created := 0
	for _, r := range batch {
		if r.Created {
			created++
		}
	}
	same(t, "created", created, n-n/10)
	views, err := e.s.ClipViews(e.ctx, w.bobClip.ID)
	ok(t, "clip views", err)
	same(t, "views", views, int64(n-n/10))
}
