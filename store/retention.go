package store

import (
	"context"
	"fmt"
	"time"

	"github.com/shopclip/shopclip"
)

var _ shopclip.EventRetention = (*DB)(nil)

// PruneEvents implements shopclip.EventRetention: the oldest events before
// before go a batch at a time (index events_at), each batch its own
// statement and transaction. The rollups stay (migration 0010's trigger
// fires on inserts only). Purchases stay too: they are few, and their
// order lines are what makes a purchase reported again, however late,
// count once.
func (db *DB) PruneEvents(ctx context.Context, before time.Time, limit int) (int64, error) {
	return db.pruneEvents(ctx, before, limit, shopclip.EventPruneBatch)
}

// pruneEvents is PruneEvents with batches of batch rows.
func (db *DB) pruneEvents(ctx context.Context, before time.Time, limit, batchSize int) (int64, error) {
	const op = "prune events"
	if limit < 1 {
		return 0, invalid(op, "Prune at least one event, not %d.", limit)
	}
	var total int64
	for total < int64(limit) {
		if err := ctx.Err(); err != nil {
			return total, db.fail(op, "Event", err)
		}
		batch := min(int64(batchSize), int64(limit)-total)
		res, err := db.exec(ctx, `DELETE FROM events WHERE id IN (
			SELECT id FROM events WHERE at < ? AND type <> ? ORDER BY at LIMIT ?)`, db.ts(before), string(shopclip.EventPurchase), batch)
		if err != nil {
			return total, db.fail(op, "Event", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, db.fail(op, "Event", fmt.Errorf("rows affected: %w", err))
		}
		total += n
		if n < batch {
			break
		}
	}
	return total, nil
}
