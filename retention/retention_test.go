package retention_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/retention"
	"github.com/shopclip/shopclip/store"
)

// fakeEvents records the prunes asked of it and answers from answers, in
// turn (the last one again when they run out).
type fakeEvents struct {
	mu      sync.Mutex
	calls   []call
	answers []answer
	called  chan struct{}
}

type call struct {
	before time.Time
	limit  int
}

type answer struct {
	n   int64
	err error
}

func (f *fakeEvents) PruneEvents(ctx context.Context, before time.Time, limit int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{before, limit})
	a := answer{}
	if len(f.answers) > 0 {
		a = f.answers[min(len(f.calls), len(f.answers))-1]
	}
	if f.called != nil {
		select {
		case f.called <- struct{}{}:
		default:
		}
	}
	return a.n, a.err
}

func TestPass(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		retention time.Duration
		max       int
		want      call
	}{
		{"defaults", 0, 0, call{now.Add(-720 * time.Hour), retention.DefaultMaxPerPass}},
		{"set", 48 * time.Hour, 500, call{now.Add(-48 * time.Hour), 500}},
		{"never under the attribution window", time.Hour, 0, call{now.Add(-shopclip.AttributionWindow), retention.DefaultMaxPerPass}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeEvents{answers: []answer{{n: 7}}}
			p := &retention.Pruner{Events: f, Retention: tc.retention, MaxPerPass: tc.max, Now: func() time.Time { return now }}
			n, err := p.Pass(t.Context())
			if err != nil || n != 7 {
				t.Fatalf("pass = %d, %v; want 7, nil", n, err)
			}
			if len(f.calls) != 1 || !f.calls[0].before.Equal(tc.want.before) || f.calls[0].limit != tc.want.limit {
				t.Errorf("prunes asked = %+v, want one of %+v", f.calls, tc.want)
			}
		})
	}
}

// Run passes at once and on every tick, logs failures and what it deleted,
// and returns when its context ends.
func TestRun(t *testing.T) {
	f := &fakeEvents{answers: []answer{{err: errors.New("database is locked")}, {n: 3}, {n: 0}}, called: make(chan struct{}, 1)}
	var logs bytes.Buffer
	var mu sync.Mutex
	p := &retention.Pruner{Events: f, Logger: slog.New(slog.NewTextHandler(&lockedWriter{&mu, &logs}, nil))}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx, time.Millisecond) }()
	for range 3 {
		select {
		case <-f.called:
		case <-time.After(10 * time.Second):
			t.Fatal("no pass")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"database is locked", "retention: pruned events", "deleted=3"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// A pass on a real store deletes the events past the retention only; the
// stats keep them and a recent click still attributes.
func TestPassOnSQLite(t *testing.T) {
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "shopclip.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	ages := []time.Duration{90 * 24 * time.Hour, 31 * 24 * time.Hour, 29 * 24 * time.Hour, time.Hour}
	for _, age := range ages {
		e := &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventClick, SessionID: "session-1", ClipID: "clp_a",
			TagID: "tag_a", ProductID: "prd_a", At: now.Add(-age)}
		if _, _, err := db.RecordEvent(ctx, e, ""); err != nil {
			t.Fatal(err)
		}
		v := &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventView, SessionID: "session-1", ClipID: "clp_a", At: now.Add(-age)}
		if _, _, err := db.RecordEvent(ctx, v, ""); err != nil {
			t.Fatal(err)
		}
	}
	p := &retention.Pruner{Events: db, Now: func() time.Time { return now }}
	for _, want := range []int64{4, 0} {
		if n, err := p.Pass(ctx); err != nil || n != want {
			t.Fatalf("pass = %d, %v; want %d", n, err, want)
		}
	}
	if v, err := db.ClipViews(ctx, "clp_a"); err != nil || v != 4 {
		t.Errorf("views = %d, %v; want 4", v, err)
	}
	if _, err := db.LastClick(ctx, "session-1", "prd_a", now.Add(-shopclip.AttributionWindow), now); err != nil {
		t.Errorf("the last hour's click: %v", err)
	}
	if _, err := db.LastClick(ctx, "session-1", "prd_a", now.Add(-32*24*time.Hour), now.Add(-30*24*time.Hour)); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("the 31-day-old click: %v, want it pruned", err)
	}
	if _, err := db.LastClick(ctx, "session-1", "prd_a", now.Add(-30*24*time.Hour), now.Add(-28*24*time.Hour)); err != nil {
		t.Errorf("the 29-day-old click: %v, want it kept", err)
	}
}
