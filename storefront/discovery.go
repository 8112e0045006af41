package storefront

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/respcache"
	"github.com/shopclip/shopclip/tagging"
)

// searchResult is GET /v1/search's answer.
type searchResult struct {
	Query string     `json:"query"`
	Clips []clipJSON `json:"clips"`
}

// search finds ready clips by their title or the titles of the products
// tagged in them.
func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query().Get("q")
	if len(q) > shopclip.MaxSearchQuery {
		return shopclip.Errorf(shopclip.EINVALID, "q must be at most %d bytes.", shopclip.MaxSearchQuery)
	}
	if len(shopclip.SearchTerms(q)) == 0 {
		return shopclip.Errorf(shopclip.EINVALID, "q must hold at least one word (letters or digits).")
	}
	limit, err := limitParam(r, 20, 100)
	if err != nil {
		return err
	}
	a, err := s.Answers.Get(r.Context(), respcache.List, "search\x00"+q+"\x00"+strconv.Itoa(limit), func(ctx context.Context) (*respcache.Answer, error) {
		clips, err := s.Discovery.SearchClips(ctx, q, limit)
		if err != nil {
			return nil, err
		}
		out := searchResult{Query: q, Clips: make([]clipJSON, 0, len(clips))}
		for _, c := range clips {
			out.Clips = append(out.Clips, s.clipJSON(c))
		}
		return jsonAnswer(out, time.Time{})
	})
	if err != nil {
		return err
	}
	return s.writeAnswer(w, r, a, searchMaxAge)
}

// dealJSON is a clip with a live, honest sale: its labelled pop-ups, flash
// sales first, then the soonest ending.
type dealJSON struct {
	Clip   clipJSON         `json:"clip"`
	Flash  bool             `json:"flash"`
	EndsAt time.Time        `json:"ends_at"` // the soonest end among its sales
	Popups []shopclip.Popup `json:"popups"`
}

// dealList is GET /v1/deals' answer.
type dealList struct {
	Deals []dealJSON `json:"deals"`
}

// deals lists the clips with a live, honest discount: flash sales first,
// then the soonest ending; priced now like the pop-ups.
func (s *Server) deals(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r, 30, 100)
	if err != nil {
		return err
	}
	a, err := s.Answers.Get(r.Context(), respcache.List, "deals\x00"+strconv.Itoa(limit), func(ctx context.Context) (*respcache.Answer, error) {
		now := s.now()
		candidates, err := s.Discovery.DealClips(ctx, now, 2*limit)
		if err != nil {
			return nil, err
		}
		deals, err := tagging.Deals(ctx, s.Store, candidates, now, s.buyURL)
		if err != nil {
			return nil, err
		}
		// The list holds until its first sale ends.
		var expires time.Time
		out := dealList{Deals: make([]dealJSON, 0, min(len(deals), limit))}
		for _, d := range deals[:min(len(deals), limit)] {
			out.Deals = append(out.Deals, dealJSON{Clip: s.clipJSON(d.Clip), Flash: d.Flash, EndsAt: d.EndsAt, Popups: d.Popups})
			if expires.IsZero() || d.EndsAt.Before(expires) {
				expires = d.EndsAt
			}
		}
		return jsonAnswer(out, expires)
	})
	if err != nil {
		return err
	}
	return s.writeAnswer(w, r, a, dealsMaxAge)
}

// limitParam reads the limit query parameter: def when absent, 1..max.
func limitParam(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, shopclip.Errorf(shopclip.EINVALID, "limit must be a number from 1 to %d.", max)
	}
	return n, nil
}
