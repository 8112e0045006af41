package storefront_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"sync"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/storefront"
)

// uploadWithKey posts an upload as user with an Idempotency-Key.
func (e *env) uploadWithKey(user, title, key string, file []byte) response {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("title", title)
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	fw.Write(file)
	mw.Close()
	return e.do(user, "POST", "/v1/clips", &buf, "Content-Type", mw.FormDataContentType(), "Idempotency-Key", key)
}

func TestUploadIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	first := e.uploadWithKey("alice", "first", "3f8c2a8e-5d1b-4e7a-9a63-0c2b7d0f1e11", fakeMP4(4096))
	if first.Status != 202 || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first upload: %d %s (replayed %q)", first.Status, first.Body, first.Header.Get("Idempotent-Replayed"))
	}
	var c1 shopclip.Clip
	first.json(t, &c1)
	again := e.uploadWithKey("alice", "again", "3f8c2a8e-5d1b-4e7a-9a63-0c2b7d0f1e11", fakeMP4(4096))
	var c2 shopclip.Clip
	again.json(t, &c2)
	if again.Status != 202 || again.Header.Get("Idempotent-Replayed") != "true" || c2.ID != c1.ID || c2.Title != "first" {
		t.Fatalf("repeat: %d replayed %q, clip %s %q; want the first clip", again.Status, again.Header.Get("Idempotent-Replayed"), c2.ID, c2.Title)
	}
	// Another creator's same key is its own; no key, a new clip each time.
	var other shopclip.Clip
	e.uploadWithKey("bob", "bob's", "3f8c2a8e-5d1b-4e7a-9a63-0c2b7d0f1e11", fakeMP4(4096)).json(t, &other)
	if other.ID == c1.ID {
		t.Error("another creator's upload with the same key got alice's clip")
	}
	var list struct{ Clips []shopclip.Clip }
	e.do("alice", "GET", "/v1/clips", nil).json(t, &list)
	if len(list.Clips) != 1 {
		t.Errorf("alice has %d clips after a repeated upload, want 1", len(list.Clips))
	}
	// One original stored, one transcode enqueued.
	if objs := e.originals(); objs != 2 { // alice's and bob's
		t.Errorf("%d originals stored, want 2", objs)
	}
	if resp := e.uploadWithKey("alice", "x", "bad key with spaces", fakeMP4(4096)); resp.Status != 400 {
		t.Errorf("a malformed key: %d", resp.Status)
	}
}

func TestUploadIdempotencyRace(t *testing.T) {
	e := newEnv(t)
	const n = 6
	e.limitUploads(n, 64, storefront.UploadQuota{}) // all at once: more than an account's default
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		wg.Go(func() {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("title", "racer")
			fw, _ := mw.CreateFormFile("file", "clip.mp4")
			fw.Write(fakeMP4(64 << 10))
			mw.Close()
			resp := e.do("alice", "POST", "/v1/clips", &buf, "Content-Type", mw.FormDataContentType(), "Idempotency-Key", "race")
			var c shopclip.Clip
			if resp.Status == 202 {
				resp.json(t, &c)
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	for i := range n {
		if ids[i] == "" || ids[i] != ids[0] {
			t.Fatalf("racing uploads with one key got clips %v", ids)
		}
	}
	if objs := e.originals(); objs != 1 {
		t.Errorf("%d originals stored after racing uploads with one key, want 1 (the losers' are deleted)", objs)
	}
}

// originals counts the uploads kept in the blob store.
func (e *env) originals() int {
	e.t.Helper()
	objs, err := e.blobs.List(context.Background(), "originals/")
	if err != nil {
		e.t.Fatal(err)
	}
	return len(objs)
}
