package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// PruneEventsInBatches is PruneEvents with batches of batch rows, so that a
// test crosses batches without recording EventPruneBatch events.
func PruneEventsInBatches(ctx context.Context, db *DB, before time.Time, limit, batch int) (int64, error) {
	return db.pruneEvents(ctx, before, limit, batch)
}

// CountEvents returns the number of raw events and the sums of the hourly
// and the daily rollups' counts.
func CountEvents(ctx context.Context, db *DB) (raw, hourly, daily int64, err error) {
	err = db.queryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT coalesce(sum(events), 0) FROM event_rollups),
		(SELECT coalesce(sum(events), 0) FROM event_rollups_daily)`).Scan(&raw, &hourly, &daily)
	return raw, hourly, daily, err
}

// BenchTag is a tag the benchmark's events fall on.
type BenchTag struct{ TagID, ClipID, ProductID, BrandID, Currency string }

// SeedEvents bulk-inserts n events over the span before end, spread evenly
// in time and round-robin over tags; of every 50 rounds, 30 views of the
// tag's clip, 15 impressions, 4 clicks and a purchase of 19.99 on the tag.
// SQLite inserts a million at a time from a recursive CTE (the triggers
// keep the rollups); PostgreSQL copies them (COPY) with the trigger off
// and then rolls them up, as migrations 0010 and 0012 do.
func SeedEvents(ctx context.Context, db *DB, n int, tags []BenchTag, end time.Time, span time.Duration) error {
	start := end.Add(-span).Unix()
	secs := int64(span / time.Second)
	if db.dialect == Postgres {
		return seedPostgres(ctx, db, n, tags, start, secs)
	}
	if _, err := db.w.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS bench_tags (n INTEGER PRIMARY KEY,
		tag_id TEXT, clip_id TEXT, product_id TEXT, brand_id TEXT, currency TEXT)`); err != nil {
		return err
	}
	for i, t := range tags {
		if _, err := db.w.ExecContext(ctx, `INSERT INTO bench_tags VALUES (?, ?, ?, ?, ?, ?)`,
			i, t.TagID, t.ClipID, t.ProductID, t.BrandID, t.Currency); err != nil {
			return err
		}
	}
	const chunk = 1_000_000
	for from := 0; from < n; from += chunk {
		to := min(n, from+chunk)
		_, err := db.w.ExecContext(ctx, `WITH RECURSIVE seq(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM seq WHERE x + 1 < ?)
			INSERT INTO events (id, type, session_id, clip_id, tag_id, product_id, brand_id, order_id, amount_minor, currency, at)
			SELECT printf('evt_bench%010d', x),
				CASE WHEN m < 30 THEN 'view' WHEN m < 45 THEN 'popup_impression' WHEN m < 49 THEN 'popup_click' ELSE 'purchase' END,
				printf('session-%d', x % 100000), t.clip_id,
				CASE WHEN m < 30 THEN '' ELSE t.tag_id END,
				CASE WHEN m < 30 THEN '' ELSE t.product_id END,
				CASE WHEN m < 30 THEN '' ELSE t.brand_id END,
				CASE WHEN m = 49 THEN printf('order-%d', x) ELSE '' END,
				CASE WHEN m = 49 THEN 1999 ELSE 0 END,
				CASE WHEN m = 49 THEN t.currency ELSE '' END,
				strftime('%Y-%m-%dT%H:%M:%S', ? + x * ? / ?, 'unixepoch') || '.000000Z'
			FROM (SELECT x, (x / ?) % 50 AS m FROM seq) s JOIN bench_tags t ON t.n = s.x % ?`, from, to, start, secs, n, len(tags), len(tags))
		if err != nil {
			return fmt.Errorf("seed events %d..%d: %w", from, to, err)
		}
	}
	return nil
}

func seedPostgres(ctx context.Context, db *DB, n int, tags []BenchTag, start, secs int64) error {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ALTER TABLE events DISABLE TRIGGER events_rollup`); err != nil {
		return err
	}
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		x := -1
		_, err := pc.CopyFrom(ctx, pgx.Identifier{"events"},
			[]string{"id", "type", "session_id", "clip_id", "tag_id", "product_id", "brand_id", "order_id", "amount_minor", "currency", "at"},
			pgx.CopyFromFunc(func() ([]any, error) {
				x++
				if x >= n {
					return nil, nil
				}
				t := tags[x%len(tags)]
				at := time.Unix(start+int64(x)*secs/int64(n), 0).UTC()
				row := []any{fmt.Sprintf("evt_bench%010d", x), "view", fmt.Sprintf("session-%d", x%100000), t.ClipID, "", "", "", "", int64(0), "", at}
				switch m := (x / len(tags)) % 50; {
				case m < 30:
				case m < 45:
					row[1], row[4], row[5], row[6] = "popup_impression", t.TagID, t.ProductID, t.BrandID
				case m < 49:
					row[1], row[4], row[5], row[6] = "popup_click", t.TagID, t.ProductID, t.BrandID
				default:
					row[1], row[4], row[5], row[6] = "purchase", t.TagID, t.ProductID, t.BrandID
					row[7], row[8], row[9] = fmt.Sprintf("order-%d", x), int64(1999), t.Currency
				}
				return row, nil
			}))
		return err
	})
	if err != nil {
		return fmt.Errorf("copy events: %w", err)
	}
	for _, q := range []string{
		`ALTER TABLE events ENABLE TRIGGER events_rollup`,
		`INSERT INTO event_rollups (tag_id, type, hour, clip_id, currency, events, amount_minor)
			SELECT tag_id, type, date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', clip_id, currency, count(*), sum(amount_minor)
			FROM events GROUP BY 1, 2, 3, 4, 5`,
		`INSERT INTO event_rollups_daily (tag_id, type, day, clip_id, currency, events, amount_minor)
			SELECT tag_id, type, to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD'), clip_id, currency, sum(events), sum(amount_minor)
			FROM event_rollups GROUP BY 1, 2, 3, 4, 5`,
		`ANALYZE`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// RawTagStats runs the statement TagStats ran before the rollups, counting
// the raw events of clipID's tags; it returns the tags' impressions.
func RawTagStats(ctx context.Context, db *DB, clipID string) (int64, error) {
	rows, err := db.query(ctx, `SELECT t.id, t.clip_id, t.product_id, t.brand_id, p.currency,
		(SELECT count(*) FROM events e WHERE e.tag_id = t.id AND e.type = 'popup_impression'),
		(SELECT count(*) FROM events e WHERE e.tag_id = t.id AND e.type = 'popup_click'),
		(SELECT count(*) FROM events e WHERE e.tag_id = t.id AND e.type = 'purchase'),
		(SELECT coalesce(sum(e.amount_minor), 0) FROM events e WHERE e.tag_id = t.id AND e.type = 'purchase' AND e.currency = p.currency)
		FROM tags t JOIN products p ON p.id = t.product_id
		WHERE t.clip_id = ? ORDER BY t.clip_id, t.start_ms, t.id`, clipID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var total int64
	for rows.Next() {
		var id, clip, product, brand, currency string
		var imp, clicks, purchases, revenue int64
		if err := rows.Scan(&id, &clip, &product, &brand, &currency, &imp, &clicks, &purchases, &revenue); err != nil {
			return 0, err
		}
		total += imp
	}
	return total, rows.Err()
}

// RawBrandDays counts the raw events on a brand's tags per UTC day over
// [from, to): the tag half of DailyStats before the rollups.
func RawBrandDays(ctx context.Context, db *DB, brandID string, from, to time.Time) (int64, error) {
	rows, err := db.query(ctx, `SELECT `+db.utcDay("e.at")+`, e.type, count(*)
		FROM tags t CROSS JOIN events e
		WHERE t.brand_id = ? AND e.tag_id = t.id AND e.type IN ('popup_impression', 'popup_click', 'purchase')
			AND e.at >= ? AND e.at < ?
		GROUP BY 1, 2`, brandID, db.ts(from), db.ts(to))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var total int64
	for rows.Next() {
		var d, typ string
		var n int64
		if err := rows.Scan(&d, &typ, &n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, rows.Err()
}
