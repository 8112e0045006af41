package storefront_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/storefront"
)

// hangupStore is the real store, with a client that hangs up the moment
// its clip is committed.
type hangupStore struct {
	shopclip.Store
	hangup func()
}

func (s hangupStore) CreateClip(ctx context.Context, c *shopclip.Clip) error {
	err := s.Store.CreateClip(ctx, c)
	s.hangup()
	return err
}

// recordingQueue records whether the context of each enqueue was still
// live.
type recordingQueue struct {
	mu   sync.Mutex
	errs []error
}

func (q *recordingQueue) EnqueueTranscode(ctx context.Context, _ string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.errs = append(q.errs, ctx.Err())
	return ctx.Err()
}
func (q *recordingQueue) EnqueueTag(context.Context, string) error     { return nil }
func (q *recordingQueue) RetryTranscode(context.Context, string) error { return nil }

// TestUploadQueuedWhenTheClientHangsUp: a client that goes away right
// after its upload is recorded still gets its clip transcoded promptly
// (issue 11, defect 8): the enqueue does not ride the request's context.
func TestUploadQueuedWhenTheClientHangsUp(t *testing.T) {
	e := newEnv(t)
	ctx, hangup := context.WithCancel(context.Background())
	q := &recordingQueue{}
	api := &storefront.Server{Store: hangupStore{e.store, hangup}, Auth: e.auth, Blobs: e.blobs, Queue: q, MaxUploadBytes: 2 << 20}
	h := api.Handler()

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("title", "hung up")
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	fw.Write(fakeMP4(4096))
	mw.Close()
	req := httptest.NewRequestWithContext(ctx, "POST", "/v1/clips", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.keys["alice"])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.errs) != 1 || q.errs[0] != nil {
		t.Fatalf("enqueues %v: want one, on a live context", q.errs)
	}
}
