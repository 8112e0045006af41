package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/metrics"
	"github.com/shopclip/shopclip/internal/metrics/metricstest"
	"github.com/shopclip/shopclip/store"
)

// TestStuckClips counts, on a real store, the clips processing with no
// change for StuckAfter: not those changed since, nor those in other
// statuses.
func TestStuckClips(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	db.SetNow(func() time.Time { return now })
	creator := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "alice", Role: shopclip.RoleCreator}
	if err := db.CreateAccount(ctx, creator); err != nil {
		t.Fatal(err)
	}
	clip := func(age time.Duration, start bool) {
		t.Helper()
		now = time.Now().Add(-age)
		c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: creator.ID, Title: "t", OriginalSize: 1}
		c.OriginalKey = shopclip.OriginalKey(c.ID)
		if err := db.CreateClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		if start {
			if _, err := db.StartClipAttempt(ctx, c.ID, shopclip.NewID(shopclip.PrefixAttempt)); err != nil {
				t.Fatal(err)
			}
		}
	}
	clip(time.Hour, true)                      // stuck
	clip(metrics.StuckAfter+time.Minute, true) // stuck
	clip(metrics.StuckAfter-time.Minute, true) // processing, changed recently
	clip(time.Hour, false)                     // uploaded long ago: not processing

	reg := metrics.NewRegistry()
	metrics.RegisterStuckClips(reg, db)
	if v, ok := metricstest.Gather(t, reg).Value("shopclip_clips_stuck_processing"); !ok || v != 2 {
		t.Errorf("stuck clips = %v (exists %v), want 2", v, ok)
	}
}

// TestDataDir reports the free space of a directory's filesystem, and a
// directory that went missing costs its own metrics only: /metrics still
// answers with the others.
func TestDataDir(t *testing.T) {
	dir := t.TempDir()
	reg := metrics.NewRegistry()
	metrics.RegisterDataDir(reg, dir)
	got := metricstest.Gather(t, reg)
	free, ok1 := got.Value("shopclip_data_dir_free_bytes", "path", dir)
	size, ok2 := got.Value("shopclip_data_dir_size_bytes", "path", dir)
	if !ok1 || !ok2 || free <= 0 || size < free {
		t.Errorf("free %v size %v (exist %v %v)", free, size, ok1, ok2)
	}

	reg = metrics.NewRegistry()
	metrics.RegisterDataDir(reg, filepath.Join(dir, "gone"))
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || !strings.Contains(string(body), "go_goroutines") || strings.Contains(string(body), "shopclip_data_dir_free_bytes{") {
		t.Errorf("with the directory gone: %d, %d bytes", rec.Code, len(body))
	}
}
