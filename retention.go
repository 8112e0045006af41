package shopclip

import (
	"context"
	"time"
)

// EventRetention deletes raw events once they are past their retention.
// Stats never read raw events: they read rollups (by UTC hour and by UTC
// day) kept as events are recorded, which pruning leaves alone, so
// Store.TagStats, Store.ClipViews and Analytics.DailyStats answer the same
// before and after a prune. What
// needs raw events (attribution: Store.LastClick within AttributionWindow;
// deduplication of repeated reports) needs them only while they are recent.
// One implementation (package store) serves SQLite and PostgreSQL;
// store/storetest.RunEventRetention holds both to this contract.
type EventRetention interface {
	// PruneEvents deletes up to limit raw events other than purchases
	// (kept, so that a purchase reported again, however late, counts once)
	// that happened before before, the oldest first, in statements of at most EventPruneBatch
	// rows each (none holds its table for long), and returns how many it
	// deleted: fewer than limit means none is left before before. limit
	// below 1 is EINVALID.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int64, error)
}

// DefaultEventRetention is how long raw events are kept by default: 30
// days, far beyond AttributionWindow.
const DefaultEventRetention = 30 * 24 * time.Hour

// EventPruneBatch is the most events one delete statement of
// EventRetention.PruneEvents removes.
const EventPruneBatch = 10_000
