package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
)

const eventColumns = `id, type, session_id, clip_id, tag_id, product_id, brand_id, order_id, amount_minor, currency, at`

func scanEvent(row rowScanner) (*shopclip.Event, error) {
	var e shopclip.Event
	var typ string
	err := row.Scan(&e.ID, &typ, &e.SessionID, &e.ClipID, &e.TagID, &e.ProductID, &e.BrandID, &e.OrderID,
		&e.AmountMinor, &e.Currency, timeDest{&e.At})
	if err != nil {
		return nil, err
	}
	e.Type = shopclip.EventType(typ)
	return &e, nil
}

// RecordEvent records e, which must have an ID and a known Type, unless an
// event with the same dedupeKey exists ("" never deduplicates). It returns
// the stored event (e, or the earlier one) and whether e was recorded. e.At is
// set to the store's clock when zero, and rounded to microseconds.
func (db *DB) RecordEvent(ctx context.Context, e *shopclip.Event, dedupeKey string) (*shopclip.Event, bool, error) {
	return db.recordEvent(ctx, db.writeRow, e, dedupeKey)
}

// RecordEvents records a batch of events in one transaction (see
// shopclip.EventBatches): a multi-row INSERT … ON CONFLICT DO NOTHING per
// eventChunk events, one read of the earlier events the duplicates name,
// one UPDATE per tag whose clicks the batch counts.
func (db *DB) RecordEvents(ctx context.Context, batch []*shopclip.EventRecord) error {
	const op = "record events"
	valid := make([]*shopclip.EventRecord, 0, len(batch))
	for _, r := range batch {
		r.Stored, r.Created, r.Err = nil, false, validEvent(r.Event)
		if r.Err == nil {
			if r.Event.At.IsZero() {
				r.Event.At = db.now()
			}
			r.Event.At = roundTime(r.Event.At)
			valid = append(valid, r)
		}
	}
	if len(valid) == 0 {
		return nil
	}
	// Rows go in the order of the rollup rows their triggers update, so
	// that concurrent batches (of several API processes) take those rows'
	// locks in one order and never deadlock. The sort is stable: a key
	// repeated in the batch keeps its first event first.
	slices.SortStableFunc(valid, func(a, b *shopclip.EventRecord) int {
		x, y := a.Event, b.Event
		return cmp.Or(cmp.Compare(x.TagID, y.TagID), cmp.Compare(x.Type, y.Type),
			x.At.Truncate(time.Hour).Compare(y.At.Truncate(time.Hour)), cmp.Compare(x.ClipID, y.ClipID), cmp.Compare(x.Currency, y.Currency))
	})
	return db.inTx(ctx, op, func(tx txn) error {
		for chunk := range slices.Chunk(valid, eventChunk) {
			if err := db.insertEvents(ctx, tx, chunk); err != nil {
				return err
			}
		}
		// The duplicates: report the events kept under their keys (a key
		// repeated within the batch reports its first event).
		dupKeys := map[string][]*shopclip.EventRecord{}
		for _, r := range valid {
			if !r.Created {
				dupKeys[r.DedupeKey] = append(dupKeys[r.DedupeKey], r)
			}
		}
		keys := slices.Collect(maps.Keys(dupKeys))
		for chunk := range slices.Chunk(keys, eventChunk) {
			rows, err := tx.tx.QueryContext(ctx, db.q(`SELECT `+eventColumns+`, dedupe_key FROM events WHERE dedupe_key IN (`+placeholders(len(chunk))+`)`), anys(chunk)...)
			if err != nil {
				return db.fail(op, "Event", err)
			}
			for rows.Next() {
				var e shopclip.Event
				var typ, key string
				if err := rows.Scan(&e.ID, &typ, &e.SessionID, &e.ClipID, &e.TagID, &e.ProductID, &e.BrandID, &e.OrderID,
					&e.AmountMinor, &e.Currency, timeDest{&e.At}, &key); err != nil {
					rows.Close()
					return db.fail(op, "Event", err)
				}
				e.Type = shopclip.EventType(typ)
				for _, r := range dupKeys[key] {
					r.Stored = &e
				}
			}
			if err := rows.Close(); err != nil {
				return db.fail(op, "Event", err)
			}
		}
		for _, r := range valid {
			if r.Stored == nil {
				return db.fail(op, "Event", fmt.Errorf("no event under the dedupe key %q", r.DedupeKey))
			}
		}
		// Buy clicks count on their tags, duplicates too.
		clicks := map[string]int{}
		for _, r := range valid {
			if r.CountClick && r.Event.TagID != "" {
				clicks[r.Event.TagID]++
			}
		}
		for _, tag := range slices.Sorted(maps.Keys(clicks)) { // one order: no deadlock between batches
			if _, err := tx.exec(ctx, `UPDATE tags SET clicks = clicks + ? WHERE id = ?`, clicks[tag], tag); err != nil {
				return db.fail("add tag click", "Tag", err)
			}
		}
		return nil
	})
}

// eventChunk is the most events one INSERT of RecordEvents writes (12
// parameters each, far below SQLite's and PostgreSQL's limits).
const eventChunk = 500

// insertEvents inserts recs in one statement and marks those it recorded;
// the others are duplicates of an earlier event or of one before them in
// recs.
func (db *DB) insertEvents(ctx context.Context, tx txn, recs []*shopclip.EventRecord) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO events (` + eventColumns + `, dedupe_key) VALUES `)
	args := make([]any, 0, 12*len(recs))
	byID := make(map[string]*shopclip.EventRecord, len(recs))
	for i, r := range recs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		e := r.Event
		var key any
		if r.DedupeKey != "" {
			key = r.DedupeKey
		}
		args = append(args, e.ID, string(e.Type), e.SessionID, e.ClipID, e.TagID, e.ProductID, e.BrandID, e.OrderID,
			e.AmountMinor, e.Currency, db.ts(e.At), key)
		byID[e.ID] = r
	}
	b.WriteString(` ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`)
	rows, err := tx.tx.QueryContext(ctx, db.q(b.String()), args...)
	if err != nil {
		return db.fail("record events", "Event", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return db.fail("record events", "Event", err)
		}
		if r := byID[id]; r != nil {
			r.Stored, r.Created = r.Event, true
		}
	}
	if err := rows.Err(); err != nil {
		return db.fail("record events", "Event", err)
	}
	return nil
}

// validEvent checks what RecordEvent requires of an event.
func validEvent(e *shopclip.Event) error {
	const op = "record event"
	switch {
	case e == nil || e.ID == "":
		return invalid(op, "Event ID is required.")
	case !e.Type.Valid():
		return invalid(op, "Unknown event type %q.", e.Type)
	case e.AmountMinor < 0:
		return invalid(op, "Amounts must not be negative.")
	}
	return nil
}

// recordEvent is RecordEvent through writeRow: the write pool, or a
// transaction.
func (db *DB) recordEvent(ctx context.Context, writeRow func(ctx context.Context, query string, args ...any) *sql.Row, e *shopclip.Event, dedupeKey string) (*shopclip.Event, bool, error) {
	const op = "record event"
	if err := validEvent(e); err != nil {
		return nil, false, err
	}
	if e.At.IsZero() {
		e.At = db.now()
	}
	e.At = roundTime(e.At)
	var key any
	if dedupeKey != "" {
		key = dedupeKey
	}
	var id string
	err := writeRow(ctx, `INSERT INTO events (`+eventColumns+`, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
		e.ID, string(e.Type), e.SessionID, e.ClipID, e.TagID, e.ProductID, e.BrandID, e.OrderID,
		e.AmountMinor, e.Currency, db.ts(e.At), key).Scan(&id)
	if err == nil {
		return e, true, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, db.fail(op, "Event", err)
	}
	prev, err := scanEvent(writeRow(ctx, `SELECT `+eventColumns+` FROM events WHERE dedupe_key = ?`, dedupeKey))
	if err != nil {
		return nil, false, db.fail(op, "Event", fmt.Errorf("read the earlier event: %w", err))
	}
	return prev, false, nil
}

// LastClick returns the latest click in session on a tag of product at or
// after since and at or before until (ENOTFOUND when there is none): the
// click a purchase made at until is attributed to. A click after the
// purchase never hides an earlier one that led to it.
func (db *DB) LastClick(ctx context.Context, sessionID, productID string, since, until time.Time) (*shopclip.Event, error) {
	const op = "last click"
	e, err := scanEvent(db.queryRow(ctx, `SELECT `+eventColumns+` FROM events
		WHERE session_id = ? AND product_id = ? AND type = ? AND tag_id <> '' AND at >= ? AND at <= ?
		ORDER BY at DESC, id DESC LIMIT 1`, sessionID, productID, string(shopclip.EventClick), db.ts(since), db.ts(until)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "Click")
	} else if err != nil {
		return nil, db.fail(op, "Event", err)
	}
	return e, nil
}

// ClipViews counts the views of a clip, from its daily rollups (which
// pruning leaves alone).
func (db *DB) ClipViews(ctx context.Context, clipID string) (int64, error) {
	var n int64
	err := db.queryRow(ctx, `SELECT coalesce(sum(events), 0) FROM event_rollups_daily WHERE clip_id = ? AND type = ?`,
		clipID, string(shopclip.EventView)).Scan(&n)
	if err != nil {
		return 0, db.fail("clip views", "Event", err)
	}
	return n, nil
}

// TagStats returns the funnel of every tag of the clip clipID, or of the
// product productID when clipID is empty, ordered by clip, start, ID.
// Purchases counts every purchase attributed to a tag; RevenueMinor sums
// only those paid in the product's current currency (Currency), since
// amounts in different currencies cannot be added. The counts and sums are
// read from the daily rollups (migration 0012), which pruning leaves alone.
func (db *DB) TagStats(ctx context.Context, clipID, productID string) ([]shopclip.TagStats, error) {
	const op = "tag stats"
	where, arg := `t.clip_id = ?`, clipID
	if clipID == "" {
		where, arg = `t.product_id = ?`, productID
	}
	rows, err := db.query(ctx, `SELECT t.id, t.clip_id, t.product_id, t.brand_id, p.currency,
		(SELECT coalesce(sum(r.events), 0) FROM event_rollups_daily r WHERE r.tag_id = t.id AND r.type = 'popup_impression'),
		(SELECT coalesce(sum(r.events), 0) FROM event_rollups_daily r WHERE r.tag_id = t.id AND r.type = 'popup_click'),
		(SELECT coalesce(sum(r.events), 0) FROM event_rollups_daily r WHERE r.tag_id = t.id AND r.type = 'purchase'),
		(SELECT coalesce(sum(r.amount_minor), 0) FROM event_rollups_daily r WHERE r.tag_id = t.id AND r.type = 'purchase' AND r.currency = p.currency)
		FROM tags t JOIN products p ON p.id = t.product_id
		WHERE `+where+` ORDER BY t.clip_id, t.start_ms, t.id`, arg)
	if err != nil {
		return nil, db.fail(op, "Tag", err)
	}
	defer rows.Close()
	var out []shopclip.TagStats
	for rows.Next() {
		var s shopclip.TagStats
		if err := rows.Scan(&s.TagID, &s.ClipID, &s.ProductID, &s.BrandID, &s.Currency,
			&s.Impressions, &s.Clicks, &s.Purchases, &s.RevenueMinor); err != nil {
			return nil, db.fail(op, "Tag", fmt.Errorf("scan: %w", err))
		}
		if s.Impressions > 0 {
			s.CTR = float64(s.Clicks) / float64(s.Impressions)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Tag", err)
	}
	return out, nil
}

// anys converts strings to query arguments.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
