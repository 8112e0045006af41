package webhooks_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip/webhooks"
)

func BenchmarkSign(b *testing.B) {
	secrets := []string{webhooks.NewSecret(), webhooks.NewSecret()}
	body := []byte(`{"type":"clip.ready","timestamp":"2026-12-05T08:00:00Z","data":{"clip_id":"` + strings.Repeat("x", 200) + `"}}`)
	ts := time.Unix(1764921600, 0)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := webhooks.Sign(secrets, "msg_1", ts, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSend is one delivery to a receiver on 127.0.0.1: resolve,
// check, connect (no reuse), sign, post, read the answer.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true})
	secrets := []string{webhooks.NewSecret()}
	msg := webhooks.Message{ID: "msg_1", Timestamp: time.Now(), Body: []byte(`{"type":"clip.ready","timestamp":"2026-12-05T08:00:00Z","data":{}}`)}
	for b.Loop() {
		if r := c.Send(b.Context(), srv.URL, secrets, msg); !r.OK() {
			b.Fatalf("send: %d %v", r.Status, r.Err)
		}
	}
}
