package store

import (
	"context"
	"fmt"
	"time"

	"github.com/shopclip/shopclip"
)

var _ shopclip.Analytics = (*DB)(nil)

// DailyStats returns the funnel of q's scope per UTC day of its range, in
// one statement: the tag events (as TagStats counts them) and the views,
// summed in SQL from the daily rollups (migration 0012: the events of
// each UTC day, by tag, type, clip and currency); the days without events
// are filled in here.
func (db *DB) DailyStats(ctx context.Context, q shopclip.StatsQuery) ([]shopclip.DayStats, error) {
	const op = "daily stats"
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	// tags joins the scope's tags (t) and where selects them; views is the
	// daily rollups (e) of the views that count. The scope's rows come first in
	// each join (CROSS JOIN keeps SQLite's planner to that order, which it
	// would not know without statistics): the rollups are then read from
	// their primary key and event_rollups_daily_clip, by tag or clip, type
	// and day.
	active := string(shopclip.TagActive)
	var tags, where, views string
	var tagArgs, viewArgs []any
	switch {
	case q.ClipID != "" && q.BrandID != "":
		tags, where, tagArgs = `tags t`, `t.clip_id = ? AND t.brand_id = ?`, []any{q.ClipID, q.BrandID}
		views = `(SELECT DISTINCT clip_id FROM tags WHERE clip_id = ? AND brand_id = ? AND status = ?) v
			CROSS JOIN event_rollups_daily e WHERE e.clip_id = v.clip_id`
		viewArgs = []any{q.ClipID, q.BrandID, active}
	case q.ClipID != "":
		tags, where, tagArgs = `tags t`, `t.clip_id = ?`, []any{q.ClipID}
		views, viewArgs = `event_rollups_daily e WHERE e.clip_id = ?`, []any{q.ClipID}
	case q.CreatorID != "":
		tags, where, tagArgs = `clips c CROSS JOIN tags t`, `c.creator_id = ? AND t.clip_id = c.id`, []any{q.CreatorID}
		views = `clips c CROSS JOIN event_rollups_daily e WHERE c.creator_id = ? AND e.clip_id = c.id`
		viewArgs = []any{q.CreatorID}
	case q.ProductID != "":
		tags, where, tagArgs = `tags t`, `t.product_id = ?`, []any{q.ProductID}
		views = `(SELECT DISTINCT clip_id FROM tags WHERE product_id = ? AND status = ?) v
			CROSS JOIN event_rollups_daily e WHERE e.clip_id = v.clip_id`
		viewArgs = []any{q.ProductID, active}
	default:
		tags, where, tagArgs = `tags t`, `t.brand_id = ?`, []any{q.BrandID}
		views = `(SELECT DISTINCT clip_id FROM tags WHERE brand_id = ? AND status = ?) v
			CROSS JOIN event_rollups_daily e WHERE e.clip_id = v.clip_id`
		viewArgs = []any{q.BrandID, active}
	}
	from, to := q.From.UTC().Format(time.DateOnly), q.To.UTC().Format(time.DateOnly)
	var args []any
	args = append(append(args, tagArgs...), from, to)
	args = append(append(args, viewArgs...), from, to)
	// Revenue, like TagStats', sums only the purchases paid in the
	// product's current currency: the tag rows are per currency for that.
	rows, err := db.query(ctx, `SELECT e.day, e.type, p.currency, sum(e.events),
			coalesce(sum(CASE WHEN e.type = 'purchase' AND e.currency = p.currency THEN e.amount_minor ELSE 0 END), 0)
		FROM `+tags+` CROSS JOIN event_rollups_daily e JOIN products p ON p.id = t.product_id
		WHERE `+where+` AND e.tag_id = t.id AND e.type IN ('popup_impression', 'popup_click', 'purchase')
			AND e.day >= ? AND e.day < ?
		GROUP BY 1, 2, 3
		UNION ALL
		SELECT e.day, e.type, '', sum(e.events), 0
		FROM `+views+` AND e.type = 'view' AND e.day >= ? AND e.day < ?
		GROUP BY 1, 2`, args...)
	if err != nil {
		return nil, db.fail(op, "Event", err)
	}
	defer rows.Close()

	from0 := q.From.UTC()
	days := make([]shopclip.DayStats, q.Days())
	index := make(map[string]int, len(days))
	for i := range days {
		d := from0.AddDate(0, 0, i).Format(time.DateOnly)
		days[i] = shopclip.DayStats{Day: d, Revenue: map[string]int64{}}
		index[d] = i
	}
	for rows.Next() {
		var d, typ, currency string
		var n, revenue int64
		if err := rows.Scan(&d, &typ, &currency, &n, &revenue); err != nil {
			return nil, db.fail(op, "Event", fmt.Errorf("scan: %w", err))
		}
		i, ok := index[d]
		if !ok {
			return nil, db.fail(op, "Event", fmt.Errorf("day %q is outside %s..%s", d, q.From, q.To))
		}
		s := &days[i]
		switch shopclip.EventType(typ) {
		case shopclip.EventView:
			s.Views += n
		case shopclip.EventImpression:
			s.Impressions += n
		case shopclip.EventClick:
			s.Clicks += n
		case shopclip.EventPurchase:
			s.Purchases += n
			if revenue > 0 {
				s.Revenue[currency] += revenue
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Event", err)
	}
	for i := range days {
		if s := &days[i]; s.Impressions > 0 {
			s.CTR = float64(s.Clicks) / float64(s.Impressions)
		}
	}
	return days, nil
}

// utcDay returns the SQL expression of the UTC date of the time column
// col, as text "2006-01-02". SQLite keeps times as fixed-width UTC text
// (sqliteTimeLayout), so the date is its first ten characters; PostgreSQL
// keeps timestamptz, whose UTC date to_char writes whatever the session's
// time zone.
func (db *DB) utcDay(col string) string {
	if db.dialect == Postgres {
		return `to_char(` + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
	}
	return `substr(` + col + `, 1, 10)`
}
