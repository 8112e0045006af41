package tagging

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/shopclip/shopclip"
)

// Deal is a clip with a live, honest sale: the pop-ups of it that carry a
// label (a real reduction against the product's 30-day low).
type Deal struct {
	Clip *shopclip.Clip
	// Popups are the clip's labelled pop-ups: flash sales first, then the
	// soonest ending.
	Popups []shopclip.Popup
	// Flash says one of them is a flash sale; EndsAt is the soonest end.
	Flash  bool
	EndsAt time.Time
}

// Deals prices candidates (clips with a discount active at now, as
// shopclip.Discovery.DealClips finds them) at now and keeps those with at
// least one honestly labelled pop-up: clips with a flash sale first, then the
// sale ending soonest, then the candidates' order.
func Deals(ctx context.Context, st shopclip.Store, candidates []*shopclip.Clip, now time.Time, buyURL func(*shopclip.Tag) string) ([]Deal, error) {
	deals := []Deal{}
	for _, c := range candidates {
		tl, err := BuildTimeline(ctx, st, c, now, buyURL)
		if err != nil {
			return nil, err
		}
		d := Deal{Clip: c}
		for _, p := range tl.Popups {
			if p.Label == "" || p.SaleEndsAt == nil {
				continue
			}
			d.Popups = append(d.Popups, p)
			d.Flash = d.Flash || p.Flash
			if d.EndsAt.IsZero() || p.SaleEndsAt.Before(d.EndsAt) {
				d.EndsAt = *p.SaleEndsAt
			}
		}
		if len(d.Popups) == 0 {
			continue
		}
		slices.SortStableFunc(d.Popups, func(a, b shopclip.Popup) int { return compareSale(a.Flash, *a.SaleEndsAt, b.Flash, *b.SaleEndsAt) })
		deals = append(deals, d)
	}
	slices.SortStableFunc(deals, func(a, b Deal) int { return compareSale(a.Flash, a.EndsAt, b.Flash, b.EndsAt) })
	return deals, nil
}

// compareSale orders sales flash first, then ending soonest.
func compareSale(aFlash bool, aEnds time.Time, bFlash bool, bEnds time.Time) int {
	if aFlash != bFlash {
		if aFlash {
			return -1
		}
		return 1
	}
	return cmp.Compare(aEnds.UnixNano(), bEnds.UnixNano())
}
