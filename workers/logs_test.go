package workers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/logctx"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/workers"
)

// jsonLines parses the JSON log lines written so far.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// findLine returns the first line with msg whose attributes match want.
func findLine(lines []map[string]any, msg string, want map[string]string) map[string]any {
next:
	for _, l := range lines {
		if l["msg"] != msg {
			continue
		}
		for k, v := range want {
			if l[k] != v {
				continue next
			}
		}
		return l
	}
	return nil
}

// TestLogsFollowTheRequest: the tasks a request enqueues carry its request
// ID, and every line of their handlers has it with the task's and the
// clip's IDs; so do the tasks they enqueue in turn (the clip:tag task after
// the publish). A task enqueued with no request (the reconciler) has none.
func TestLogsFollowTheRequest(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	var out testenv.SyncBuffer
	log := slog.New(logctx.NewHandler(slog.NewJSONHandler(&out, nil)))
	queue := workers.NewClient(h.opt, workers.ClientConfig{MaxRetry: 5, Logger: log.With("component", "queue")})
	t.Cleanup(func() { queue.Close() })
	h.handle.Tags = queue
	h.handle.Logger = log.With("component", "worker")
	h.serve(2)

	const reqID = "req_thisisatestrequestid234567"
	c := h.newClip("original bytes")
	if err := queue.EnqueueTranscode(logctx.WithRequestID(context.Background(), reqID), c.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.waitTerminal(c.ID, 30*time.Second); got.Status != shopclip.ClipReady {
		t.Fatalf("clip is %s", got.Status)
	}
	transcodeTask := workers.TranscodeTaskID(c.ID)
	ids := map[string]string{"request_id": reqID, "clip_id": c.ID}
	with := func(extra ...string) map[string]string {
		m := map[string]string{}
		for k, v := range ids {
			m[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	// The clip:tag task follows the publish; wait for its line.
	var lines []map[string]any
	for deadline := time.Now().Add(20 * time.Second); ; {
		lines = jsonLines(t, out.String())
		if findLine(lines, "tag: timeline stored", ids) != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tag line with %v in:\n%s", ids, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, tc := range []struct {
		msg  string
		want map[string]string
	}{
		{"task enqueued", with("type", workers.TypeTranscode, "task_id", transcodeTask, "component", "queue")},
		{"transcode: started", with("task_id", transcodeTask, "component", "worker")},
		{"transcode: published", with("task_id", transcodeTask)},
		{"task enqueued", with("type", workers.TypeTag, "task_id", workers.TagTaskID(c.ID))},
		{"tag: timeline stored", with("task_id", workers.TagTaskID(c.ID))},
	} {
		if findLine(lines, tc.msg, tc.want) == nil {
			t.Errorf("no %q line with %v in:\n%s", tc.msg, tc.want, out.String())
		}
	}
	// Every line of the clip's tasks carries the request ID.
	for _, l := range lines {
		if l["clip_id"] == c.ID && l["request_id"] != reqID {
			t.Errorf("line %v lacks the request ID", l)
		}
	}

	// Enqueued with no request (the reconciler's): no request ID.
	c2 := h.newClip("second")
	if err := queue.EnqueueTranscode(context.Background(), c2.ID); err != nil {
		t.Fatal(err)
	}
	h.waitTerminal(c2.ID, 30*time.Second)
	lines = jsonLines(t, out.String())
	started := findLine(lines, "transcode: started", map[string]string{"clip_id": c2.ID, "task_id": workers.TranscodeTaskID(c2.ID)})
	if started == nil {
		t.Fatalf("no start line for %s in:\n%s", c2.ID, out.String())
	}
	if id, ok := started["request_id"]; ok {
		t.Errorf("a task enqueued with no request logs request_id %v", id)
	}
}

// TestScheduledTagHasNoRequestID: a re-label scheduled for a price change
// is the schedule's, not the request's that last changed the clip.
func TestScheduledTagHasNoRequestID(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	ctx := logctx.WithRequestID(context.Background(), "req_scheduler")
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	for _, tc := range []struct {
		name    string
		enqueue func(clipID string) error
		taskID  func(clipID string) string
		want    string
	}{
		{"now", func(id string) error { return h.queue.EnqueueTag(ctx, id) }, workers.TagTaskID, "req_scheduler"},
		{"scheduled", func(id string) error { return h.queue.EnqueueTagAt(ctx, id, at) },
			func(id string) string { return fmt.Sprintf("tag:%s:%d", id, at.Unix()) }, ""},
		{"transcode", func(id string) error { return h.queue.EnqueueTranscode(ctx, id) }, workers.TranscodeTaskID, "req_scheduler"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := shopclip.NewID(shopclip.PrefixClip)
			if err := tc.enqueue(id); err != nil {
				t.Fatal(err)
			}
			q := workers.QueueTag
			if tc.name == "transcode" {
				q = workers.QueueTranscode
			}
			info, err := h.insp.GetTaskInfo(q, tc.taskID(id))
			if err != nil {
				t.Fatal(err)
			}
			var p workers.ClipPayload
			if err := json.Unmarshal(info.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if p.ClipID != id || p.RequestID != tc.want {
				t.Errorf("payload %+v: want clip %s, request ID %q", p, id, tc.want)
			}
		})
	}
}
