package storefront_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/shopclip/shopclip/internal/clientip"
	"github.com/shopclip/shopclip/internal/logctx"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/storefront"
)

// ctxQueue records the request and clip IDs of the contexts tasks are
// enqueued in.
type ctxQueue struct {
	mu   sync.Mutex
	seen []string // "request_id clip_id"
}

func (q *ctxQueue) record(ctx context.Context, clipID string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seen = append(q.seen, logctx.RequestID(ctx)+" "+clipID)
	return nil
}
func (q *ctxQueue) EnqueueTranscode(ctx context.Context, id string) error { return q.record(ctx, id) }
func (q *ctxQueue) EnqueueTag(ctx context.Context, id string) error       { return q.record(ctx, id) }
func (q *ctxQueue) RetryTranscode(ctx context.Context, id string) error   { return q.record(ctx, id) }

// TestRequestIDs: every API request gets a request ID, echoed in
// X-Request-Id, on its log lines (its "request" line with its route,
// status and caller) and in the context of the tasks it enqueues; a
// client's own X-Request-Id is replaced, a trusted proxy's is kept.
func TestRequestIDs(t *testing.T) {
	e := newEnv(t)
	var out testenv.SyncBuffer
	q := &ctxQueue{}
	api := &storefront.Server{Store: e.store, Idempotency: e.store, Auth: e.auth, Blobs: e.blobs, Queue: q, MaxUploadBytes: 2 << 20,
		Logger: slog.New(logctx.NewHandler(slog.NewJSONHandler(&out, nil)))}
	h := (&clientip.Resolver{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}).Handler(api.Handler())
	serve := func(r *http.Request, peer, reqID string) *httptest.ResponseRecorder {
		r.RemoteAddr = peer
		if reqID != "" {
			r.Header.Set("X-Request-Id", reqID)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	lines := func() []map[string]any {
		var ls []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			ls = append(ls, m)
		}
		return ls
	}
	linesOf := func(id string) map[string]map[string]any {
		got := map[string]map[string]any{}
		for _, l := range lines() {
			if l["request_id"] == id {
				got[l["msg"].(string)] = l
			}
		}
		return got
	}

	// An upload from a client that sends its own X-Request-Id.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	fw.Write(fakeMP4(4096))
	mw.Close()
	r := httptest.NewRequest("POST", "/v1/clips", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Authorization", "Bearer "+e.keys["alice"])
	w := serve(r, "203.0.113.9:4000", "chosen-by-the-client")
	if w.Code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", w.Code, w.Body)
	}
	id := w.Header().Get("X-Request-Id")
	if !strings.HasPrefix(id, "req_") || !logctx.ValidRequestID(id) {
		t.Fatalf("X-Request-Id %q: want a new req_ ID, not the client's", id)
	}
	var clip struct{ ID string }
	json.Unmarshal(w.Body.Bytes(), &clip)
	if len(q.seen) != 1 || q.seen[0] != id+" "+clip.ID {
		t.Errorf("enqueued with %q, want [%q]", q.seen, id+" "+clip.ID)
	}
	got := linesOf(id)
	if l := got["request"]; l == nil || l["route"] != "/v1/clips" || l["method"] != "POST" || l["status"] != float64(202) ||
		l["account_id"] != e.accounts["alice"].ID || l["client"] != "203.0.113.9" {
		t.Errorf("request line %v: want POST /v1/clips 202 by alice from 203.0.113.9", l)
	}
	if l := got["upload: clip recorded"]; l == nil || l["clip_id"] != clip.ID {
		t.Errorf("clip recorded line %v: want clip_id %s", l, clip.ID)
	}

	for _, tc := range []struct {
		name, path, peer, sent string
		keep                   bool   // the request ID is the one sent
		status                 int    // of the request line
		clipID                 string // on the request line
	}{
		{"from a trusted proxy", "/v1/feed", "10.1.2.3:4000", "3f1e2d9c-8b7a-4c6d-9e5f-0a1b2c3d4e5f", true, 200, ""},
		{"malformed from a trusted proxy", "/v1/feed", "10.1.2.3:4000", "two words", false, 200, ""},
		{"from a client", "/v1/feed", "203.0.113.9:4000", "3f1e2d9c-8b7a-4c6d-9e5f-0a1b2c3d4e5f", false, 200, ""},
		{"a clip's route", "/v1/clips/" + clip.ID, "203.0.113.9:4000", "", false, 404, clip.ID}, // not ready: hidden from viewers
		{"no route", "/v1/nothing", "203.0.113.9:4000", "", false, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(httptest.NewRequest("GET", tc.path, nil), tc.peer, tc.sent)
			id := w.Header().Get("X-Request-Id")
			if !logctx.ValidRequestID(id) || (id == tc.sent) != tc.keep {
				t.Fatalf("X-Request-Id %q with %q sent: kept %v, want %v", id, tc.sent, id == tc.sent, tc.keep)
			}
			if tc.status == 0 {
				return // no route's line: the request ID is answered all the same
			}
			l := linesOf(id)["request"]
			if l == nil || l["status"] != float64(tc.status) {
				t.Fatalf("request line %v: want status %d", l, tc.status)
			}
			if tc.clipID != "" && l["clip_id"] != tc.clipID {
				t.Errorf("request line %v: want clip_id %s", l, tc.clipID)
			}
		})
	}
}
