package storefront

import (
	"net/http"
	"time"

	"github.com/shopclip/shopclip"
)

// The daily stats: the funnel of a clip, a product, or the caller's clips or
// products, per UTC day, for the studio's charts. Each answers the days of a
// range, none missing, and their totals.

// dailyStatsJSON is a daily stats response.
type dailyStatsJSON struct {
	ClipID    string              `json:"clip_id,omitempty"`
	ProductID string              `json:"product_id,omitempty"`
	From      string              `json:"from"`  // the first day, "2026-12-01"
	To        string              `json:"to"`    // the last day, included
	Views     int64               `json:"views"` // the days' views
	Days      []shopclip.DayStats `json:"days"`
	Totals    funnelTotals        `json:"totals"` // the days' funnel
}

// dailyStatsQuery documents the query parameters of the daily stats routes.
var dailyStatsQuery = []param{
	{Name: "from", Type: "", Doc: "the first day, YYYY-MM-DD in UTC; default 29 days before to (30 days in all)"},
	{Name: "to", Type: "", Doc: "the last day, YYYY-MM-DD in UTC, included; default today (the range holds at most 366 days)"},
}

// clipDailyStats shows a clip's funnel per day to whom clipStats shows its
// funnel: to its creator (and admins) over every tag, to a brand tagged in
// it over its own tags, with the clip's views once its card is on it.
func (s *Server) clipDailyStats(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", shopclip.PrefixClip, "Clip")
	if err != nil {
		return err
	}
	c, err := s.Store.Clip(r.Context(), id)
	if err != nil {
		return err
	}
	q := shopclip.StatsQuery{ClipID: c.ID}
	if acct := account(r); !canManageClip(acct, c) {
		own, err := s.Store.ClipTags(r.Context(), c.ID, shopclip.TagQuery{BrandID: acct.ID, Page: shopclip.Page{Limit: 1}})
		if err != nil {
			return err
		}
		if len(own) == 0 {
			return notFound("Clip", id) // neither its creator nor tagged in it
		}
		q.BrandID = acct.ID
	}
	return s.dailyStats(w, r, q, dailyStatsJSON{ClipID: c.ID})
}

// productDailyStats shows a product's funnel per day, over its tags on
// every clip, to its brand.
func (s *Server) productDailyStats(w http.ResponseWriter, r *http.Request) error {
	p, err := s.ownProduct(r)
	if err != nil {
		return err
	}
	return s.dailyStats(w, r, shopclip.StatsQuery{ProductID: p.ID}, dailyStatsJSON{ProductID: p.ID})
}

// myDailyStats shows the caller's funnel per day: a creator's over all its
// clips, a brand's over all its products.
func (s *Server) myDailyStats(w http.ResponseWriter, r *http.Request) error {
	acct := account(r)
	var q shopclip.StatsQuery
	switch acct.Role {
	case shopclip.RoleCreator:
		q.CreatorID = acct.ID
	case shopclip.RoleBrand:
		q.BrandID = acct.ID
	default:
		return shopclip.Errorf(shopclip.EFORBIDDEN, "Only creators and brands have stats of their own; admins read a clip's or a product's.")
	}
	return s.dailyStats(w, r, q, dailyStatsJSON{})
}

// dailyStats answers the daily stats of q's scope over the range of r's
// query, in out.
func (s *Server) dailyStats(w http.ResponseWriter, r *http.Request, q shopclip.StatsQuery, out dailyStatsJSON) error {
	first, last, err := s.statsRange(r)
	if err != nil {
		return err
	}
	if s.Analytics == nil {
		return shopclip.Errorf(shopclip.EUNAVAILABLE, "Daily stats are not set up on this server.")
	}
	q.From, q.To = first, last.AddDate(0, 0, 1)
	days, err := s.Analytics.DailyStats(r.Context(), q)
	if err != nil {
		return err
	}
	out.From, out.To = first.Format(time.DateOnly), last.Format(time.DateOnly)
	out.Days = days
	out.Views, out.Totals = dailyTotals(days)
	return writeJSON(w, http.StatusOK, out)
}

// statsRange reads the days of the daily stats from r's query: from and to,
// both included, 30 days up to today (the server's clock, UTC) by default.
func (s *Server) statsRange(r *http.Request) (first, last time.Time, err error) {
	day := func(name string, def time.Time) (time.Time, error) {
		v := r.URL.Query().Get(name)
		if v == "" {
			return def, nil
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return time.Time{}, shopclip.Errorf(shopclip.EINVALID, "%s must be a date, YYYY-MM-DD, not %q.", name, v)
		}
		return d, nil
	}
	if last, err = day("to", s.now().UTC().Truncate(24*time.Hour)); err != nil {
		return first, last, err
	}
	if first, err = day("from", last.AddDate(0, 0, -29)); err != nil {
		return first, last, err
	}
	switch n := int(last.Sub(first)/(24*time.Hour)) + 1; {
	case n < 1:
		return first, last, shopclip.Errorf(shopclip.EINVALID, "from (%s) must not come after to (%s).", first.Format(time.DateOnly), last.Format(time.DateOnly))
	case n > shopclip.MaxStatsDays:
		return first, last, shopclip.Errorf(shopclip.EINVALID, "from and to span at most %d days, not %d.", shopclip.MaxStatsDays, n)
	}
	return first, last, nil
}

// dailyTotals sums days: their views, and their funnel as totals sums
// tags'.
func dailyTotals(days []shopclip.DayStats) (views int64, t funnelTotals) {
	t.Revenue = map[string]int64{}
	for _, d := range days {
		views += d.Views
		t.Impressions += d.Impressions
		t.Clicks += d.Clicks
		t.Purchases += d.Purchases
		for currency, v := range d.Revenue {
			t.Revenue[currency] += v
		}
	}
	if t.Impressions > 0 {
		t.CTR = float64(t.Clicks) / float64(t.Impressions)
	}
	return views, t
}
