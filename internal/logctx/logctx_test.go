package logctx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/internal/clientip"
	"github.com/shopclip/shopclip/internal/logctx"
)

// decode parses one JSON log line, failing on duplicate keys (encoding/json
// would keep the last silently).
func decode(t *testing.T, line string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	seen := map[string]bool{}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("line %q is not a JSON object", line)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		k := tok.(string)
		if seen[k] {
			t.Errorf("line %q has %q twice", line, k)
		}
		seen[k] = true
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
	}
	var m map[string]any
	json.Unmarshal([]byte(line), &m)
	return m
}

func TestHandler(t *testing.T) {
	full := logctx.WithTaskID(logctx.WithClipID(logctx.WithRequestID(context.Background(), "req_1"), "clp_1"), "transcode:clp_1")
	for _, tc := range []struct {
		name string
		log  func(l *slog.Logger)
		want map[string]string // key → value; "" means absent
	}{
		{"context IDs added", func(l *slog.Logger) { l.InfoContext(full, "x") },
			map[string]string{"request_id": "req_1", "clip_id": "clp_1", "task_id": "transcode:clp_1"}},
		{"only those present", func(l *slog.Logger) { l.InfoContext(logctx.WithRequestID(context.Background(), "req_2"), "x") },
			map[string]string{"request_id": "req_2", "clip_id": "", "task_id": ""}},
		{"no context", func(l *slog.Logger) { l.Info("x") },
			map[string]string{"request_id": "", "clip_id": "", "task_id": ""}},
		{"attached with With wins, once", func(l *slog.Logger) { l.With("clip_id", "clp_other").InfoContext(full, "x") },
			map[string]string{"request_id": "req_1", "clip_id": "clp_other", "task_id": "transcode:clp_1"}},
		{"attribute of the record wins, once", func(l *slog.Logger) { l.InfoContext(full, "x", "task_id", "t2") },
			map[string]string{"request_id": "req_1", "clip_id": "clp_1", "task_id": "t2"}},
		{"Logger attaches them, once", func(l *slog.Logger) { logctx.Logger(full, l).InfoContext(full, "x") },
			map[string]string{"request_id": "req_1", "clip_id": "clp_1", "task_id": "transcode:clp_1"}},
		{"Logger without a context call", func(l *slog.Logger) { logctx.Logger(full, l).Info("x") },
			map[string]string{"request_id": "req_1", "clip_id": "clp_1", "task_id": "transcode:clp_1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.log(slog.New(logctx.NewHandler(slog.NewJSONHandler(&buf, nil))))
			got := decode(t, strings.TrimSpace(buf.String()))
			for k, want := range tc.want {
				v, ok := got[k]
				if want == "" {
					if ok {
						t.Errorf("%s = %v, want none", k, v)
					}
				} else if v != want {
					t.Errorf("%s = %v, want %q", k, v, want)
				}
			}
		})
	}
}

// TestLoggerPlainHandler: Logger carries the IDs with any handler, wrapped
// or not (the workers' tests log through plain ones).
func TestLoggerPlainHandler(t *testing.T) {
	var buf bytes.Buffer
	ctx := logctx.WithClipID(logctx.WithRequestID(context.Background(), "req_9"), "clp_9")
	logctx.Logger(ctx, slog.New(slog.NewTextHandler(&buf, nil))).Info("x")
	if got := buf.String(); !strings.Contains(got, "request_id=req_9") || !strings.Contains(got, "clip_id=clp_9") {
		t.Errorf("got %q, want request_id and clip_id", got)
	}
}

func TestValidRequestID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"req_abc", true},
		{"3f1e2d9c-8b7a-4c6d-9e5f-0a1b2c3d4e5f", true},
		{"0123456789abcdef0123456789abcdef", true},
		{"a.b:c", true},
		{strings.Repeat("a", 128), true},
		{"", false},
		{strings.Repeat("a", 129), false},
		{"has space", false},
		{"new\nline", false},
		{`quote"`, false},
		{"ünicode", false},
		{"a=b", false},
	} {
		if got := logctx.ValidRequestID(tc.id); got != tc.want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
	if id := logctx.NewRequestID(); !logctx.ValidRequestID(id) || !strings.HasPrefix(id, "req_") || id == logctx.NewRequestID() {
		t.Errorf("NewRequestID() = %q: want a valid, fresh req_ ID", id)
	}
}

func TestRequests(t *testing.T) {
	trusted, err := clientip.ParsePrefixes([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	rs := &clientip.Resolver{Trusted: trusted}
	for _, tc := range []struct {
		name     string
		peer     string
		incoming string // X-Request-Id sent; "" none
		honoured bool   // the incoming ID is the request's
	}{
		{"none sent", "203.0.113.9:4000", "", false},
		{"from a client", "203.0.113.9:4000", "client-chosen-id", false},
		{"from a loopback client, not a trusted proxy", "127.0.0.1:4000", "client-chosen-id", false},
		{"from a trusted proxy", "10.1.2.3:4000", "3f1e2d9c-8b7a-4c6d-9e5f-0a1b2c3d4e5f", true},
		{"malformed from a trusted proxy", "10.1.2.3:4000", "bad id\r\nX-Evil: 1", false},
		{"too long from a trusted proxy", "10.1.2.3:4000", strings.Repeat("a", 200), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen string
			h := rs.Handler(logctx.Requests(logctx.Requests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = logctx.RequestID(r.Context())
			}))))
			r := httptest.NewRequest("GET", "/v1/feed", nil)
			r.RemoteAddr = tc.peer
			if tc.incoming != "" {
				r.Header.Set("X-Request-Id", tc.incoming)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			echoed := w.Header().Get("X-Request-Id")
			if seen == "" || echoed != seen {
				t.Fatalf("request ID %q, echoed %q: want one, echoed", seen, echoed)
			}
			if got := seen == tc.incoming; got != tc.honoured {
				t.Errorf("request ID %q with %q sent: honoured %v, want %v", seen, tc.incoming, got, tc.honoured)
			}
			if !tc.honoured && !strings.HasPrefix(seen, "req_") {
				t.Errorf("request ID %q: want a new req_ ID", seen)
			}
			if n := len(w.Header().Values("X-Request-Id")); n != 1 {
				t.Errorf("X-Request-Id sent %d times, want once", n)
			}
		})
	}
}
