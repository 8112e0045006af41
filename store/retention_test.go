package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/store/storetest"
)

func TestSQLiteEventRetention(t *testing.T) {
	storetest.RunEventRetention(t, func(t *testing.T) (shopclip.Store, shopclip.Analytics, shopclip.EventRetention) {
		db := openSQLite(t)
		return db, db, db
	})
}

func TestPostgresEventRetention(t *testing.T) {
	storetest.RunEventRetention(t, func(t *testing.T) (shopclip.Store, shopclip.Analytics, shopclip.EventRetention) {
		db := openPostgres(t)
		return db, db, db
	})
}

// A prune crosses batches: each statement deletes at most a batch, and the
// rollups keep every event.
func TestPruneEventsBatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *store.DB
	}{{"SQLite", openSQLite}, {"Postgres", openPostgres}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := tc.open(t)
			ctx := t.Context()
			t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
			for i := range 23 {
				e := &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventView, SessionID: "session-1",
					ClipID: "clp_x", At: t0.Add(time.Duration(i) * 17 * time.Minute)}
				if _, _, err := db.RecordEvent(ctx, e, fmt.Sprintf("view:%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			before := t0.Add(20 * 17 * time.Minute) // 20 events before it
			for _, step := range []struct {
				limit      int
				want, left int64
			}{{7, 7, 16}, {100, 13, 3}, {100, 0, 3}} {
				n, err := store.PruneEventsInBatches(ctx, db, before, step.limit, 3)
				if err != nil {
					t.Fatal(err)
				}
				raw, hourly, daily, err := store.CountEvents(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if n != step.want || raw != step.left || hourly != 23 || daily != 23 {
					t.Errorf("prune limit %d: pruned %d, left %d, rolled up %d by hour and %d by day; want %d, %d, 23, 23",
						step.limit, n, raw, hourly, daily, step.want, step.left)
				}
			}
			if v, err := db.ClipViews(ctx, "clp_x"); err != nil || v != 23 {
				t.Errorf("views = %d, %v; want 23", v, err)
			}
		})
	}
}
