package storefront

import (
	"net/http"
	"strconv"
	"time"

	"github.com/shopclip/shopclip"
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
	clips, err := s.Discovery.SearchClips(r.Context(), q, limit)
	if err != nil {
		return err
	}
	out := searchResult{Query: q, Clips: make([]clipJSON, 0, len(clips))}
	for _, c := range clips {
		out.Clips = append(out.Clips, s.clipJSON(c))
	}
	w.Header().Set("Cache-Control", "public, max-age=30")
	return writeJSON(w, http.StatusOK, out)
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
	now := s.now()
	candidates, err := s.Discovery.DealClips(r.Context(), now, 2*limit)
	if err != nil {
		return err
	}
	deals, err := tagging.Deals(r.Context(), s.Store, candidates, now, s.buyURL)
	if err != nil {
		return err
	}
	out := dealList{Deals: make([]dealJSON, 0, min(len(deals), limit))}
	for _, d := range deals[:min(len(deals), limit)] {
		out.Deals = append(out.Deals, dealJSON{Clip: s.clipJSON(d.Clip), Flash: d.Flash, EndsAt: d.EndsAt, Popups: d.Popups})
	}
	w.Header().Set("Cache-Control", "public, max-age=5")
	return writeJSON(w, http.StatusOK, out)
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
