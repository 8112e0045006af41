package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/store"
)

// The workers of `shopclip up` prune the events past events.retention at
// start: an old click goes, a recent one stays, and the views of both stay
// in the stats.
func TestUpPrunesOldEvents(t *testing.T) {
	data := t.TempDir()
	db, err := store.Open(t.Context(), filepath.Join(data, "shopclip.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	click := func(age time.Duration) *shopclip.Event {
		e := &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventClick, SessionID: "session-1", ClipID: "clp_a",
			TagID: "tag_a", ProductID: "prd_a", At: now.Add(-age)}
		v := &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventView, SessionID: "session-1", ClipID: "clp_a", At: now.Add(-age)}
		for _, ev := range []*shopclip.Event{e, v} {
			if _, _, err := db.RecordEvent(t.Context(), ev, ""); err != nil {
				t.Fatal(err)
			}
		}
		return e
	}
	old, recent := click(72*time.Hour), click(time.Hour)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cfg, err := configs.Load("", []string{"SHOPCLIP_DATA=" + data, "SHOPCLIP_ADDR=127.0.0.1:0", "SHOPCLIP_EVENTS_RETENTION=48h"})
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Mode: ModeUp, Logger: testLogger(t), TranscodeCommand: []string{self(t), "transcode"}}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	ctx := t.Context()
	found := func(e *shopclip.Event) bool {
		_, err := m.store.LastClick(ctx, "session-1", "prd_a", e.At, e.At)
		if err != nil && shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
			t.Fatal(err)
		}
		return err == nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for found(old) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if found(old) {
		t.Fatal("the click older than events.retention is still there after 30s")
	}
	if !found(recent) {
		t.Error("the recent click was pruned")
	}
	if v, err := m.store.ClipViews(ctx, "clp_a"); err != nil || v != 2 {
		t.Errorf("views = %d, %v; want 2", v, err)
	}
}
