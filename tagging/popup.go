package tagging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopclip/shopclip"
)

// Catalog gives the products, discounts and price histories a clip's tags
// refer to, by product ID.
type Catalog struct {
	Products  map[string]*shopclip.Product
	Discounts map[string][]*shopclip.Discount
	History   map[string][]shopclip.PricePoint // nil: the current price always held
}

// Popups returns the pop-ups of the active tags among tags, priced at now, in
// clip order. buyURL builds a tag's buy URL. Tags whose product is missing
// from cat are left out.
func Popups(tags []*shopclip.Tag, cat Catalog, now time.Time, buyURL func(*shopclip.Tag) string) []shopclip.Popup {
	popups := []shopclip.Popup{}
	for _, t := range tags {
		if t.Status != shopclip.TagActive {
			continue
		}
		if p, ok := Preview(t, cat, now, buyURL); ok {
			popups = append(popups, p)
		}
	}
	return popups
}

// Preview returns the pop-up tag t makes, priced at now, whatever its
// status: what viewers will see once it is active (a creator deciding on
// it, a brand placing it). ok is false when its product is missing from
// cat.
func Preview(t *shopclip.Tag, cat Catalog, now time.Time, buyURL func(*shopclip.Tag) string) (popup shopclip.Popup, ok bool) {
	p := cat.Products[t.ProductID]
	if p == nil {
		return shopclip.Popup{}, false
	}
	price := PriceAt(p, cat.Discounts[p.ID], cat.History[p.ID], now)
	popup = shopclip.Popup{
		TagID:   t.ID,
		StartMS: t.StartMS,
		EndMS:   t.EndMS,
		X:       t.X,
		Y:       t.Y,
		Product: shopclip.PopupProduct{
			ID:             p.ID,
			Title:          p.Title,
			ImageURL:       p.ImageURL,
			Currency:       p.Currency,
			PriceMinor:     price.PriceMinor,
			SalePriceMinor: price.SalePriceMinor,
			WasPriceMinor:  price.WasPriceMinor,
			InStock:        p.InStock,
		},
		Label:  price.Label,
		BuyURL: buyURL(t),
	}
	if d := price.Discount; d != nil {
		// The sale price is shown whenever a discount applies, so is the
		// coupon that gets it. Urgency (a countdown, a flash badge) only
		// goes with an honest reduction: a sale PriceAt does not label
		// must not pressure the viewer either.
		popup.CouponCode = d.CouponCode
		if price.Label != "" {
			ends := d.EndsAt
			popup.SaleEndsAt, popup.Flash = &ends, d.Flash
		}
	}
	return popup, true
}

// Timeline is the pop-up timeline of a clip as stored next to its renditions.
type Timeline struct {
	ClipID      string           `json:"clip_id"`
	GeneratedAt time.Time        `json:"generated_at"`
	Popups      []shopclip.Popup `json:"popups"`
	// NextChange is the first moment after GeneratedAt at which a discount
	// of a product the clip shows starts or ends, so its pop-ups may be
	// priced differently; zero when none is coming. It is not stored.
	NextChange time.Time `json:"-"`
}

// JSON encodes tl.
func (tl *Timeline) JSON() ([]byte, error) {
	return json.MarshalIndent(tl, "", "  ")
}

// WebVTT renders tl as a WebVTT metadata track: one cue per pop-up whose
// payload is the pop-up as JSON (JSON never contains "-->" unescaped: '>' is
// escaped as \u003e by encoding/json, and newlines are escaped, so a payload
// cannot end its cue early).
func (tl *Timeline) WebVTT() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("WEBVTT\n\n")
	for _, p := range tl.Popups {
		payload, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(payload, []byte("-->")) || bytes.ContainsAny(payload, "\r\n") {
			return nil, fmt.Errorf("tagging: pop-up %s does not fit a cue", p.TagID)
		}
		fmt.Fprintf(&b, "%s\n%s --> %s\n%s\n\n", p.TagID, vttTime(p.StartMS), vttTime(p.EndMS), payload)
	}
	return b.Bytes(), nil
}

// vttTime formats milliseconds as a WebVTT timestamp, hh:mm:ss.ttt.
func vttTime(ms int64) string {
	h := ms / 3_600_000
	m := ms / 60_000 % 60
	s := ms / 1000 % 60
	return fmt.Sprintf("%02d:%02d:%02d.%03d", h, m, s, ms%1000)
}

// BuildTimeline computes a clip's pop-up timeline at now from the store: it
// reads only the clip's active tags, the first MaxTagsPerClip by start (no
// clip holds more; pending and rejected ones never leave the database), and
// the products they show.
func BuildTimeline(ctx context.Context, st shopclip.Store, clip *shopclip.Clip, now time.Time, buyURL func(*shopclip.Tag) string) (*Timeline, error) {
	tags, err := st.ClipTags(ctx, clip.ID, activeTags())
	if err != nil {
		return nil, err
	}
	var active []string
	for _, t := range tags {
		if t.Status == shopclip.TagActive {
			active = append(active, t.ProductID)
		}
	}
	cat, err := LoadCatalog(ctx, st, active, now)
	if err != nil {
		return nil, err
	}
	return &Timeline{ClipID: clip.ID, GeneratedAt: now.UTC(), Popups: Popups(tags, cat, now, buyURL), NextChange: NextChange(cat, now)}, nil
}

// activeTags selects the tags viewers see: the active ones, at most
// MaxTagsPerClip, in clip order.
func activeTags() shopclip.TagQuery {
	return shopclip.TagQuery{Statuses: []shopclip.TagStatus{shopclip.TagActive}, Page: shopclip.Page{Limit: shopclip.MaxTagsPerClip}}
}

// LoadCatalog reads the products named by productIDs (repeats are fine),
// their discounts and the price history their prices at now depend on.
func LoadCatalog(ctx context.Context, st shopclip.Store, productIDs []string, now time.Time) (Catalog, error) {
	cat := Catalog{Products: map[string]*shopclip.Product{}, Discounts: map[string][]*shopclip.Discount{}, History: map[string][]shopclip.PricePoint{}}
	for _, id := range productIDs {
		if cat.Products[id] != nil {
			continue
		}
		p, err := st.Product(ctx, id)
		if err != nil {
			return Catalog{}, err
		}
		ds, err := st.ProductDiscounts(ctx, p.ID)
		if err != nil {
			return Catalog{}, err
		}
		hist, err := priceHistory(ctx, st, p, ds, now)
		if err != nil {
			return Catalog{}, err
		}
		cat.Products[p.ID], cat.Discounts[p.ID], cat.History[p.ID] = p, ds, hist
	}
	return cat, nil
}

// NextChange returns the first moment after now at which a discount in cat
// starts or ends, or the zero time when none does.
func NextChange(cat Catalog, now time.Time) time.Time {
	var next time.Time
	for _, ds := range cat.Discounts {
		for _, d := range ds {
			for _, at := range []time.Time{d.StartsAt, d.EndsAt} {
				if at.After(now) && (next.IsZero() || at.Before(next)) {
					next = at
				}
			}
		}
	}
	return next
}

// priceHistory loads only the part of p's price history that PriceAt needs
// at now (see HistorySince): nil when no discount applies, else the points of
// the HonestyWindow before the sale's anchor and the one before them, so a
// product's long history is never read whole on a public request.
func priceHistory(ctx context.Context, st shopclip.Store, p *shopclip.Product, ds []*shopclip.Discount, now time.Time) ([]shopclip.PricePoint, error) {
	if d, _ := bestDiscount(p.PriceMinor, ds, now); d == nil {
		return nil, nil
	}
	recent, err := st.ProductPriceHistory(ctx, p.ID, now)
	if err != nil {
		return nil, err
	}
	return st.ProductPriceHistory(ctx, p.ID, HistorySince(p, ds, recent, now))
}
