package storefront_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/live"
	"github.com/shopclip/shopclip/workers"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	Name string
	Data string
}

// stream opens GET /v1/clips/live as user and returns its events.
func (e *env) stream(user string) <-chan sseEvent {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v1/clips/live", nil)
	req.Header.Set("Authorization", "Bearer "+e.keys[user])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		e.t.Fatalf("GET /v1/clips/live: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 100)
	e.t.Cleanup(func() { cancel(); resp.Body.Close() })
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out
}

// next waits for the next event about clip id.
func next(t *testing.T, events <-chan sseEvent, id string) (string, clipView) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			var c clipView
			json.Unmarshal([]byte(ev.Data), &c)
			if c.ID == id {
				return ev.Name, c
			}
		case <-timeout:
			t.Fatalf("no event about %s within 10s", id)
		}
	}
}

type clipView struct {
	ID       string
	Status   shopclip.ClipStatus
	Progress float64
	Error    *shopclip.Error
}

// TestClipsLive follows a clip from upload to failure, retry and deletion
// on its creator's event stream, as a worker (through live.Store) and the
// API change it.
func TestClipsLive(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.live.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	old := e.upload("alice", "older", fakeMP4(1000))
	var oldClip clipView
	old.json(t, &oldClip)

	events := e.stream("alice")
	bobs := e.stream("bob")
	// The snapshot: every clip at once.
	if name, c := next(t, events, oldClip.ID); name != "clip" || c.Status != shopclip.ClipUploaded {
		t.Fatalf("snapshot: %s %+v", name, c)
	}

	var c clipView
	e.upload("alice", "live one", fakeMP4(1000)).json(t, &c)
	if name, got := next(t, events, c.ID); name != "clip" || got.Status != shopclip.ClipUploaded {
		t.Fatalf("after upload: %s %+v", name, got)
	}

	// A worker takes it, reports progress and fails it: the failure was
	// storage's, not the file's.
	worker := &live.Store{Store: e.store, Hub: e.live}
	attempt := shopclip.NewID(shopclip.PrefixAttempt)
	if _, err := worker.StartClipAttempt(ctx, c.ID, attempt); err != nil {
		t.Fatal(err)
	}
	if _, got := next(t, events, c.ID); got.Status != shopclip.ClipProcessing {
		t.Fatalf("after start: %+v", got)
	}
	if err := worker.UpdateClipProgress(ctx, c.ID, attempt, 0.5, nil); err != nil {
		t.Fatal(err)
	}
	if _, got := next(t, events, c.ID); got.Status != shopclip.ClipProcessing || got.Progress != 0.5 {
		t.Fatalf("after progress: %+v", got)
	}
	if err := worker.FailClip(ctx, c.ID, attempt, shopclip.Errorf(shopclip.EINTERNAL, "Storage was down.")); err != nil {
		t.Fatal(err)
	}
	if _, got := next(t, events, c.ID); got.Status != shopclip.ClipFailed || got.Error == nil || got.Error.Message != "Storage was down." {
		t.Fatalf("after failure: %+v", got)
	}

	// Retry: only its creator; it starts over, queued afresh.
	if r := e.do("bob", "POST", "/v1/clips/"+c.ID+"/retry", nil); r.Status != http.StatusNotFound && r.Status != http.StatusForbidden {
		t.Fatalf("bob retries alice's clip: %d", r.Status)
	}
	r := e.do("alice", "POST", "/v1/clips/"+c.ID+"/retry", nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	if _, got := next(t, events, c.ID); got.Status != shopclip.ClipUploaded || got.Error != nil {
		t.Fatalf("after retry: %+v", got)
	}
	if info, err := e.inspector.GetTaskInfo(workers.QueueTranscode, workers.TranscodeTaskID(c.ID)); err != nil || info.Retried != 0 {
		t.Fatalf("transcode after retry: %+v %v", info, err)
	}
	if r := e.do("alice", "POST", "/v1/clips/"+c.ID+"/retry", nil); r.Status != http.StatusConflict {
		t.Fatalf("retry of an uploaded clip: %d", r.Status)
	}

	// Deleted: the stream says so.
	if r := e.do("alice", "DELETE", "/v1/clips/"+c.ID, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.Status)
	}
	if name, _ := next(t, events, c.ID); name != "deleted" {
		t.Fatalf("after delete: %s", name)
	}

	// Bob's stream heard nothing of alice's clips.
	select {
	case ev := <-bobs:
		t.Fatalf("bob's stream got %s %s", ev.Name, ev.Data)
	default:
	}
}

// TestRetryRefusesMediaFailures: a file that cannot be transcoded would
// fail again; the creator is told to upload a fixed one.
func TestRetryRefusesMediaFailures(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var c clipView
	e.upload("alice", "broken", fakeMP4(1000)).json(t, &c)
	attempt := shopclip.NewID(shopclip.PrefixAttempt)
	if _, err := e.store.StartClipAttempt(ctx, c.ID, attempt); err != nil {
		t.Fatal(err)
	}
	if err := e.store.FailClip(ctx, c.ID, attempt, shopclip.Errorf(shopclip.EMEDIAUNREADABLE, "The file is damaged.")); err != nil {
		t.Fatal(err)
	}
	r := e.do("alice", "POST", "/v1/clips/"+c.ID+"/retry", nil)
	if r.Status != http.StatusConflict || !strings.Contains(r.errMessage(), "Upload a fixed file") || !bytes.Contains(r.Body, []byte("damaged")) {
		t.Fatalf("retry of a media failure: %d %s", r.Status, r.Body)
	}
	if got, _ := e.store.Clip(ctx, c.ID); got.Status != shopclip.ClipFailed {
		t.Fatalf("clip after refused retry: %+v", got)
	}
}
