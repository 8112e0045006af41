package storefront_test

import (
	"bytes"
	"context"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/storefront"
)

// downQueue is a transcode queue that cannot be reached.
type downQueue struct{ calls int }

func (q *downQueue) EnqueueTranscode(context.Context, string) error {
	q.calls++
	return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
}
func (q *downQueue) EnqueueTag(context.Context, string) error     { return nil }
func (q *downQueue) RetryTranscode(context.Context, string) error { return nil }

// TestUploadWithTheQueueDown: an upload finished while the queue is down is
// recorded (status uploaded, its original stored), which is what the
// reconciler re-enqueues from, and the answer says just that: 202, the clip
// uploaded, not processing. (A 503 here would ask a client without an
// Idempotency-Key to send the file again and make a second clip.)
func TestUploadWithTheQueueDown(t *testing.T) {
	e := newEnv(t)
	q := &downQueue{}
	api := &storefront.Server{Store: e.store, Auth: e.auth, Blobs: e.blobs, Queue: q, MaxUploadBytes: 2 << 20}
	h := api.Handler()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	fw.Write(fakeMP4(4096))
	mw.Close()
	req := httptest.NewRequest("POST", "/v1/clips", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.keys["alice"])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || q.calls != 1 {
		t.Fatalf("upload with the queue down: %d %s (%d enqueues)", rec.Code, rec.Body, q.calls)
	}
	resp := response{Status: rec.Code, Body: rec.Body.Bytes()}
	var got shopclip.Clip
	resp.json(t, &got)
	c, err := e.store.Clip(context.Background(), got.ID)
	if err != nil || got.Status != shopclip.ClipUploaded || c.Status != shopclip.ClipUploaded {
		t.Fatalf("clip answered %+v, stored %+v, %v: want both uploaded", got, c, err)
	}
	if _, err := e.blobs.Stat(context.Background(), c.OriginalKey); err != nil {
		t.Fatalf("original: %v", err)
	}
}
