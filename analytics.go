package shopclip

import (
	"context"
	"time"
)

// Analytics reads the funnel over time, one UTC day at a time: what the
// studio's charts draw for a clip, a creator, a product or a brand. One
// implementation (package store) serves SQLite and PostgreSQL;
// store/storetest.RunAnalytics holds both to this contract.
type Analytics interface {
	// DailyStats returns one DayStats for each day of q's range, From's
	// first, days without events included with zeros: a chart's axis has
	// no gaps. From equal to To is no day (an empty slice, not nil); an
	// invalid q is EINVALID (StatsQuery.Validate). A clip, creator, product
	// or brand that does not exist has no events: every day is zero.
	//
	// Impressions, clicks, purchases and revenue are what Store.TagStats
	// counts, each on the UTC day of its event: the events on the scope's
	// tags (whatever their status), purchases only when attributed to one
	// of them, revenue only in the product's current currency. Over a range
	// that holds every event, the days sum to the sum of the TagStats of
	// the scope's tags.
	DailyStats(ctx context.Context, q StatsQuery) ([]DayStats, error)
}

// StatsQuery says whose daily stats to read, and over which days. Set
// exactly one of ClipID, CreatorID, ProductID and BrandID; or ClipID and
// BrandID together, for a brand's own tags on one clip.
type StatsQuery struct {
	ClipID    string // a clip: all its tags
	CreatorID string // a creator: the tags of all its clips
	ProductID string // a product: its tags on every clip
	BrandID   string // a brand: its tags on every clip, or on ClipID's
	// From and To bound the days, From included, To not: each a midnight
	// in UTC (in any location), To not before From, at most MaxStatsDays
	// apart.
	From, To time.Time
}

// MaxStatsDays bounds the days of one StatsQuery: a year, leap day
// included.
const MaxStatsDays = 366

// Validate reports, as an EINVALID error, what makes q unanswerable: not
// exactly one scope (ClipID with BrandID counts as one), or a range that is
// not whole UTC days, runs backwards or is longer than MaxStatsDays.
func (q StatsQuery) Validate() error {
	n := 0
	for _, id := range []string{q.ClipID, q.CreatorID, q.ProductID, q.BrandID} {
		if id != "" {
			n++
		}
	}
	if q.ClipID != "" && q.BrandID != "" {
		n--
	}
	switch {
	case n != 1:
		return Errorf(EINVALID, "Daily stats are of one clip, creator, product or brand (or a brand's tags on a clip).")
	case !isUTCMidnight(q.From) || !isUTCMidnight(q.To):
		return Errorf(EINVALID, "Daily stats run from a midnight UTC to a midnight UTC, not from %s to %s.",
			q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	case q.To.Before(q.From):
		return Errorf(EINVALID, "Daily stats end (%s) before they start (%s).", q.To.UTC().Format(time.DateOnly), q.From.UTC().Format(time.DateOnly))
	case q.Days() > MaxStatsDays:
		return Errorf(EINVALID, "Daily stats span at most %d days, not %d.", MaxStatsDays, q.Days())
	}
	return nil
}

// Days returns the number of days in q's range.
func (q StatsQuery) Days() int {
	return int(q.To.Sub(q.From) / (24 * time.Hour))
}

func isUTCMidnight(t time.Time) bool {
	return !t.IsZero() && t.Equal(t.UTC().Truncate(24*time.Hour))
}

// DayStats is the funnel of one UTC day.
//
// Views counts the views of the scope's clips that day: a clip's own; a
// creator's clips'; for a product or a brand (with or without a clip), the
// clips where it has an active tag now, each clip once however many such
// tags it has: a brand learns a clip's audience only once its card is on it.
type DayStats struct {
	Day         string           `json:"day"` // the UTC date, as time.DateOnly writes it: "2026-12-01"
	Views       int64            `json:"views"`
	Impressions int64            `json:"impressions"`
	Clicks      int64            `json:"clicks"`
	CTR         float64          `json:"ctr"` // clicks / impressions; 0 without impressions
	Purchases   int64            `json:"purchases"`
	Revenue     map[string]int64 `json:"revenue_minor"` // minor units by currency; never nil
}
