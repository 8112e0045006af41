package upload

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestSendHonoursRetryAfter: a busy server's Retry-After is waited out
// when short, and ends the upload when it is longer than a wait (a daily
// quota).
func TestSendHonoursRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter string
		patches    int // PATCHes the server sees
		ok         bool
	}{
		{"short", "1", 2, true},
		{"a day", "43200", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			patches := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				switch r.Method {
				case http.MethodHead:
					w.Header().Set("Upload-Offset", "0")
				case http.MethodPatch:
					if patches++; patches == 1 {
						w.Header().Set("Retry-After", tc.retryAfter)
						w.WriteHeader(http.StatusTooManyRequests)
						w.Write([]byte(`{"error":{"code":"rate_limited","message":"busy"}}`))
						return
					}
					w.Header().Set(ClipIDHeader, "clp_x")
					w.WriteHeader(http.StatusNoContent)
				}
			}))
			defer srv.Close()
			c := &Client{Server: srv.URL}
			data := []byte("0123456789")
			id, err := c.Send(context.Background(), srv.URL+"/v1/uploads/x", bytes.NewReader(data), int64(len(data)))
			var refused *Error
			switch {
			case tc.ok && (err != nil || id != "clp_x"):
				t.Fatalf("Send = %q, %v", id, err)
			case !tc.ok && (!errors.As(err, &refused) || refused.Status != http.StatusTooManyRequests || refused.RetryAfter.Hours() != 12):
				t.Fatalf("Send = %q, %v; want the 429 with its Retry-After", id, err)
			}
			if patches != tc.patches {
				t.Errorf("%d PATCHes, want %d", patches, tc.patches)
			}
		})
	}
}
