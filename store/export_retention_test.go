package store

import (
	"context"
	"time"
)

// PruneEventsInBatches is PruneEvents with batches of batch rows, so that a
// test crosses batches without recording EventPruneBatch events.
func PruneEventsInBatches(ctx context.Context, db *DB, before time.Time, limit, batch int) (int64, error) {
	return db.pruneEvents(ctx, before, limit, batch)
}

// CountEvents returns the number of raw events and the sum of the rollups'
// counts.
func CountEvents(ctx context.Context, db *DB) (raw, rolledUp int64, err error) {
	err = db.queryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT coalesce(sum(events), 0) FROM event_rollups)`).Scan(&raw, &rolledUp)
	return raw, rolledUp, err
}
