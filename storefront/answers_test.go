package storefront_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/respcache"
	"github.com/shopclip/shopclip/storefront"
)

// countingStore counts the clip reads the pop-up route makes.
type countingStore struct {
	shopclip.Store
	clipReads atomic.Int64
}

func (s *countingStore) Clip(ctx context.Context, id string) (*shopclip.Clip, error) {
	s.clipReads.Add(1)
	return s.Store.Clip(ctx, id)
}

type popupsBody struct {
	Popups []shopclip.Popup `json:"popups"`
}

func (e *env) popupsResp(clipID string, header ...string) (response, popupsBody) {
	e.t.Helper()
	resp := e.do("", "GET", "/v1/clips/"+clipID+"/popups", nil, header...)
	var b popupsBody
	if resp.Status == http.StatusOK {
		resp.json(e.t, &b)
	}
	return resp, b
}

// A viewer's pop-ups are built once and kept, with an ETag; every change
// to what they show is seen by the next request; a sale's end is never
// outlived, by the server or by the Cache-Control it sends.
func TestPopupAnswersKeptAndInvalidated(t *testing.T) {
	e := newEnv(t)
	counting := &countingStore{Store: e.store}
	e.api.Store = counting
	clip := e.readyClip("alice")
	p := e.product("acme", 10000)
	ends := e.now.Add(90 * time.Second)
	if resp := e.do("acme", "POST", "/v1/products/"+p.ID+"/discounts", map[string]any{"kind": "percent", "percent_off": 20,
		"starts_at": e.now.Add(-time.Hour).Format(time.RFC3339), "ends_at": ends.Format(time.RFC3339)}); resp.Status != http.StatusCreated {
		t.Fatalf("discount: %d %s", resp.Status, resp.Body)
	}
	var tag shopclip.Tag
	e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 3000, "end_ms": 6000, "x": 0.5, "y": 0.5}).json(t, &tag)

	// Warm: the pending tag shows nothing.
	if _, b := e.popupsResp(clip.ID); len(b.Popups) != 0 {
		t.Fatalf("a pending tag shows: %+v", b.Popups)
	}
	// The approval is seen at once, though the empty answer was kept.
	e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/approve", nil)
	resp, b := e.popupsResp(clip.ID)
	if len(b.Popups) != 1 || b.Popups[0].Label != "-20%" || b.Popups[0].Product.SalePriceMinor != 8000 {
		t.Fatalf("after the approval: %d %s", resp.Status, resp.Body)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=5" {
		t.Errorf("Cache-Control %q, want public, max-age=5", cc)
	}

	// Kept: ten more viewers cost no clip read.
	reads := counting.clipReads.Load()
	for range 10 {
		if r, _ := e.popupsResp(clip.ID); r.Status != http.StatusOK || r.Header.Get("ETag") != etag {
			t.Fatalf("kept answer: %d %q", r.Status, r.Header.Get("ETag"))
		}
	}
	if n := counting.clipReads.Load() - reads; n != 0 {
		t.Errorf("%d clip reads for 10 viewers of a kept answer", n)
	}
	// A client holding it gets 304, empty.
	if r, _ := e.popupsResp(clip.ID, "If-None-Match", `"x", W/`+etag); r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("If-None-Match: %d %q", r.Status, r.Body)
	}

	// A price change is seen at once, with another ETag.
	e.do("acme", "PATCH", "/v1/products/"+p.ID, map[string]any{"price_minor": 20000})
	resp, b = e.popupsResp(clip.ID, "If-None-Match", etag)
	if resp.Status != http.StatusOK || len(b.Popups) != 1 || b.Popups[0].Product.SalePriceMinor != 16000 {
		t.Fatalf("after the price change: %d %s", resp.Status, resp.Body)
	}
	if resp.Header.Get("ETag") == etag {
		t.Error("the changed answer has the old ETag")
	}

	// 3 s before the sale ends, clients may keep it 3 s, not 5.
	e.now = ends.Add(-3 * time.Second)
	e.api.Answers.InvalidateAll() // a fresh answer, priced at this moment
	if resp, _ := e.popupsResp(clip.ID); resp.Header.Get("Cache-Control") != "public, max-age=3" {
		t.Errorf("3 s before the sale's end: Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	// At the very end the kept answer is gone, with no invalidation.
	e.now = ends
	if _, b := e.popupsResp(clip.ID); len(b.Popups) != 1 || b.Popups[0].Label != "" || b.Popups[0].Product.SalePriceMinor != 20000 {
		t.Fatalf("at the sale's end: %+v", b.Popups)
	}

	// A rejection, then a deletion, are seen at once.
	e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/reject", nil)
	if _, b := e.popupsResp(clip.ID); len(b.Popups) != 0 {
		t.Fatalf("after the rejection: %+v", b.Popups)
	}
	if r := e.do("alice", "DELETE", "/v1/clips/"+clip.ID, nil); r.Status/100 != 2 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r, _ := e.popupsResp(clip.ID); r.Status != http.StatusNotFound {
		t.Fatalf("pop-ups of a deleted clip: %d %s", r.Status, r.Body)
	}
}

// The lists are kept too, with ETags, and dropped by changes to what they
// show.
func TestListAnswersKept(t *testing.T) {
	e := newEnv(t)
	e.readyClip("alice")
	first := e.do("", "GET", "/v1/feed", nil)
	etag := first.Header.Get("ETag")
	if first.Status != http.StatusOK || etag == "" || first.Header.Get("Cache-Control") != "public, max-age=5" {
		t.Fatalf("feed: %d %q %q", first.Status, etag, first.Header.Get("Cache-Control"))
	}
	if r := e.do("", "GET", "/v1/feed", nil, "If-None-Match", etag); r.Status != http.StatusNotModified {
		t.Errorf("feed with its ETag: %d", r.Status)
	}
	// A clip made ready by a worker sends no invalidation: the kept list
	// lasts its second.
	second := e.readyClip("bob")
	if r := e.do("", "GET", "/v1/feed", nil, "If-None-Match", etag); r.Status != http.StatusNotModified {
		t.Errorf("feed within its second: %d", r.Status)
	}
	e.now = e.now.Add(time.Second)
	var page struct{ Clips []shopclip.Clip }
	r := e.do("", "GET", "/v1/feed", nil, "If-None-Match", etag)
	r.json(t, &page)
	if r.Status != http.StatusOK || len(page.Clips) != 2 || page.Clips[0].ID != second.ID && page.Clips[1].ID != second.ID {
		t.Fatalf("feed a second later: %d %s", r.Status, r.Body)
	}
	// A deletion drops the lists at once.
	e.do("bob", "DELETE", "/v1/clips/"+second.ID, nil)
	e.do("", "GET", "/v1/feed", nil).json(t, &page)
	if len(page.Clips) != 1 {
		t.Fatalf("feed after a deletion lists %d clips", len(page.Clips))
	}
}

// Two API processes over one database and one Redis: a change made through
// one is seen through the other.
func TestAnswersAcrossProcesses(t *testing.T) {
	e := newEnv(t)
	addr, db := testenv.Redis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := func(s *storefront.Server) {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		t.Cleanup(func() { rdb.Close() })
		b := respcache.NewBus(s.Answers, rdb, nil)
		s.AnswerBus = b
		done := make(chan struct{})
		go func() { b.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		defer rcancel()
		if err := b.Ready(rctx); err != nil {
			t.Fatal(err)
		}
	}
	bus(e.api)
	other := &storefront.Server{Store: e.store, Discovery: e.store, Blobs: e.blobs, Queue: e.api.Queue, Now: e.api.Now, Answers: respcache.New()}
	other.Answers.Now = e.api.Now
	bus(other)
	srv := httptest.NewServer(other.Handler())
	t.Cleanup(srv.Close)

	clip := e.readyClip("alice")
	p := e.product("acme", 10000)
	var tag shopclip.Tag
	e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 0, "end_ms": 1000, "x": 0.5, "y": 0.5}).json(t, &tag)
	e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/approve", nil)

	price := func() int64 {
		resp, err := http.Get(srv.URL + "/v1/clips/" + clip.ID + "/popups")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r := response{Status: resp.StatusCode, Body: body}
		var b popupsBody
		r.json(t, &b)
		if len(b.Popups) != 1 {
			t.Fatalf("the other process: %s", r.Body)
		}
		return b.Popups[0].Product.PriceMinor
	}
	if got := price(); got != 10000 {
		t.Fatalf("the other process prices %d", got)
	}
	e.do("acme", "PATCH", "/v1/products/"+p.ID, map[string]any{"price_minor": 12000})
	for deadline := time.Now().Add(5 * time.Second); price() != 12000; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the other process still shows the old price after 5 s")
		}
	}
}

// A ready clip's playlists and small segments are kept in memory with
// ETags; a deleted clip's are gone at once.
func TestMediaKept(t *testing.T) {
	e := newEnv(t)
	clip := e.readyClip("alice")
	base := "/v1/clips/" + clip.ID + "/media/" + clip.Generation + "/"
	for _, file := range []string{"master.m3u8", "720p/seg_00000.m4s"} {
		first := e.do("", "GET", base+file, nil)
		if first.Status != http.StatusOK || first.Header.Get("ETag") == "" {
			t.Fatalf("%s: %d, ETag %q", file, first.Status, first.Header.Get("ETag"))
		}
		if first.Header.Get("Content-Length") != strconv.Itoa(len(first.Body)) || first.Header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("%s: Content-Length %q for %d bytes, Accept-Ranges %q", file, first.Header.Get("Content-Length"),
				len(first.Body), first.Header.Get("Accept-Ranges"))
		}
		wantCC := map[bool]string{true: "public, max-age=60", false: "public, max-age=31536000, immutable"}[strings.HasSuffix(file, ".m3u8")]
		if got := first.Header.Get("Cache-Control"); got != wantCC {
			t.Errorf("%s: Cache-Control %q, want %q", file, got, wantCC)
		}
		if r := e.do("", "HEAD", base+file, nil); r.Status != http.StatusOK || len(r.Body) != 0 ||
			r.Header.Get("Content-Length") != first.Header.Get("Content-Length") {
			t.Errorf("HEAD %s: %d, %d bytes, Content-Length %q", file, r.Status, len(r.Body), r.Header.Get("Content-Length"))
		}
		// Kept: the store could lose the object and viewers would not see it.
		if err := e.blobs.Delete(context.Background(), clip.OutputPrefix+file); err != nil {
			t.Fatal(err)
		}
		again := e.do("", "GET", base+file, nil)
		if again.Status != http.StatusOK || string(again.Body) != string(first.Body) {
			t.Fatalf("%s again: %d", file, again.Status)
		}
		if r := e.do("", "GET", base+file, nil, "If-None-Match", first.Header.Get("ETag")); r.Status != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d", file, r.Status)
		}
		if r := e.do("", "GET", base+file, nil, "Range", "bytes=0-3"); r.Status != http.StatusPartialContent || string(r.Body) != string(first.Body[:4]) {
			t.Errorf("%s range: %d %q", file, r.Status, r.Body)
		}
	}
	if r := e.do("alice", "DELETE", "/v1/clips/"+clip.ID, nil); r.Status/100 != 2 {
		t.Fatalf("delete: %d", r.Status)
	}
	for _, file := range []string{"master.m3u8", "720p/seg_00000.m4s"} {
		if r := e.do("", "GET", base+file, nil); r.Status != http.StatusNotFound {
			t.Errorf("%s of a deleted clip: %d", file, r.Status)
		}
	}
}
