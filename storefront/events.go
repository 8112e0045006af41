package storefront

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/shopclip/shopclip"
)

// eventInput is a POST /v1/events body.
type eventInput struct {
	Type      shopclip.EventType `json:"type" openapi:"required"`
	SessionID string             `json:"session_id"`
	ClipID    string             `json:"clip_id"`
	TagID     string             `json:"tag_id"`
	// Purchases (brand key):
	ProductID   string     `json:"product_id"`
	OrderID     string     `json:"order_id"`
	AmountMinor int64      `json:"amount_minor"`
	Currency    string     `json:"currency"`
	At          *time.Time `json:"at"`
}

// eventResult answers a recorded (or deduplicated) event.
type eventResult struct {
	Recorded bool            `json:"recorded"` // false: a duplicate of an earlier event
	Event    *shopclip.Event `json:"event"`
}

// postEvent records a viewer's view, pop-up impression or pop-up click, or a
// brand's purchase. Viewer events are deduplicated per session (a view per
// clip and an impression per tag a day, a click per tag an hour) and
// rate-limited per address; purchases are idempotent per order line and
// attributed to the last click on one of the product's tags in the same
// session within 24 hours.
func (s *Server) postEvent(w http.ResponseWriter, r *http.Request) error {
	if err := s.limit(w, r, s.eventLimiter); err != nil {
		return err
	}
	var in eventInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Type == shopclip.EventPurchase {
		return s.postPurchase(w, r, in)
	}
	if !in.Type.Valid() {
		return shopclip.Errorf(shopclip.EINVALID, "type must be view, popup_impression, popup_click or purchase, not %q.", in.Type)
	}
	if !shopclip.ValidSessionID(in.SessionID) {
		return shopclip.Errorf(shopclip.EINVALID, "session_id must be 8 to 64 characters of letters, digits, '-' and '_'.")
	}
	if in.OrderID != "" || in.AmountMinor != 0 || in.ProductID != "" || in.At != nil {
		return shopclip.Errorf(shopclip.EINVALID, "order_id, amount_minor, product_id and at belong to purchases only.")
	}
	now := s.now()
	e := &shopclip.Event{ID: shopclip.NewID(prefixEvent), Type: in.Type, SessionID: in.SessionID, At: now}
	var key string
	switch in.Type {
	case shopclip.EventView:
		clip, err := s.readyClip(r.Context(), in.ClipID)
		if err != nil {
			return err
		}
		e.ClipID = clip.ID
		key = fmt.Sprintf("view:%s:%s:%s", in.SessionID, clip.ID, now.UTC().Format("2006-01-02"))
	default:
		t, err := s.liveTag(r.Context(), in.TagID)
		if err != nil {
			return err
		}
		if in.ClipID != "" && in.ClipID != t.ClipID {
			return shopclip.Errorf(shopclip.EINVALID, "tag_id %s is not a tag of clip_id %s.", t.ID, in.ClipID)
		}
		e.ClipID, e.TagID, e.ProductID, e.BrandID = t.ClipID, t.ID, t.ProductID, t.BrandID
		if in.Type == shopclip.EventImpression {
			key = fmt.Sprintf("imp:%s:%s:%s", in.SessionID, t.ID, now.UTC().Format("2006-01-02"))
		} else {
			key = clickKey(in.SessionID, t.ID, now)
		}
	}
	stored, created, err := s.recordEvent(r.Context(), e, key)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, eventResult{Recorded: created, Event: stored})
}

// EventRecorder records viewers' events in group commits;
// eventbatch.Batcher is one.
type EventRecorder interface {
	// Record records e under dedupeKey as Store.RecordEvent does.
	Record(ctx context.Context, e *shopclip.Event, dedupeKey string) (*shopclip.Event, bool, error)
	// RecordClick records a buy redirect's click as Record does and adds
	// one to its tag's Clicks.
	RecordClick(ctx context.Context, e *shopclip.Event, dedupeKey string) (*shopclip.Event, bool, error)
}

// recordEvent records a viewer's event through s.Events, or alone.
func (s *Server) recordEvent(ctx context.Context, e *shopclip.Event, key string) (*shopclip.Event, bool, error) {
	if s.Events != nil {
		return s.Events.Record(ctx, e, key)
	}
	return s.Store.RecordEvent(ctx, e, key)
}

// recordClick counts a buy redirect's click on its tag and records its
// event. The viewer is on the way to the store whatever happens: a
// failure is logged.
func (s *Server) recordClick(ctx context.Context, click *shopclip.Event, key string) {
	if s.Events != nil {
		if _, _, err := s.Events.RecordClick(ctx, click, key); err != nil {
			s.logger().WarnContext(ctx, "buy: record click", "tag_id", click.TagID, "err", err)
		}
		return
	}
	if err := s.Store.AddTagClick(ctx, click.TagID); err != nil {
		s.logger().WarnContext(ctx, "buy: count click", "tag_id", click.TagID, "err", err)
	}
	if _, _, err := s.Store.RecordEvent(ctx, click, key); err != nil {
		s.logger().WarnContext(ctx, "buy: record click", "tag_id", click.TagID, "err", err)
	}
}

// prefixEvent starts event IDs.
const prefixEvent = "evt"

// clickKey deduplicates clicks on a tag by a session within an hour, whether
// the player reports them or the buy URL sees them.
func clickKey(session, tagID string, at time.Time) string {
	return fmt.Sprintf("click:%s:%s:%s", session, tagID, at.UTC().Format("2006-01-02T15"))
}

// purchaseKey deduplicates purchases: one per order line, the product of an
// order of a brand. An order of several of the brand's products is reported
// once per product. Migration 0003 rewrote the keys of earlier purchases
// (once per order) to this form.
func purchaseKey(brandID, orderID, productID string) string {
	return "purchase:" + brandID + ":" + orderID + ":" + productID
}

// postPurchase records a purchase a brand reports, once per order line (a
// product of an order): a repeat with the same amount is a replay (200), one
// with another amount a conflict (409).
func (s *Server) postPurchase(w http.ResponseWriter, r *http.Request, in eventInput) error {
	acct := account(r)
	if acct == nil {
		return shopclip.Errorf(shopclip.EUNAUTHORIZED, "Purchases are reported by brands, with their API key.")
	} else if acct.Role != shopclip.RoleBrand && acct.Role != shopclip.RoleAdmin {
		return shopclip.Errorf(shopclip.EFORBIDDEN, "Only brand accounts report purchases.")
	}
	if !shopclip.ValidOrderID(in.OrderID) {
		return shopclip.Errorf(shopclip.EINVALID, "order_id is required: 1 to 128 printable ASCII characters.")
	}
	if in.SessionID != "" && !shopclip.ValidSessionID(in.SessionID) {
		return shopclip.Errorf(shopclip.EINVALID, "session_id must be 8 to 64 characters of letters, digits, '-' and '_'.")
	}
	if in.ClipID != "" || in.TagID != "" {
		return shopclip.Errorf(shopclip.EINVALID, "A purchase names its product and session; shopclip finds the clip and tag it came from.")
	}
	p, err := s.Store.Product(r.Context(), in.ProductID)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND || err == nil && acct.Role != shopclip.RoleAdmin && p.BrandID != acct.ID {
		return shopclip.Errorf(shopclip.EINVALID, "product_id %q is not a product of yours.", in.ProductID)
	} else if err != nil {
		return err
	}
	if in.AmountMinor <= 0 || in.AmountMinor > shopclip.MaxPurchaseMinor {
		return shopclip.Errorf(shopclip.EINVALID, "amount_minor must be the positive amount paid, in minor units, at most %d.", int64(shopclip.MaxPurchaseMinor))
	}
	if in.Currency != p.Currency {
		return shopclip.Errorf(shopclip.EINVALID, "currency must be the product's, %s.", p.Currency)
	}
	now := s.now()
	at := now
	if in.At != nil {
		at = in.At.UTC()
		if at.After(now.Add(5*time.Minute)) || at.Before(now.Add(-shopclip.HonestyWindow)) {
			return shopclip.Errorf(shopclip.EINVALID, "at must be within the last 30 days, not in the future.")
		}
	}
	e := &shopclip.Event{ID: shopclip.NewID(prefixEvent), Type: shopclip.EventPurchase, SessionID: in.SessionID,
		ProductID: p.ID, BrandID: p.BrandID, OrderID: in.OrderID, AmountMinor: in.AmountMinor, Currency: in.Currency, At: at}
	if in.SessionID != "" {
		click, err := s.Store.LastClick(r.Context(), in.SessionID, p.ID, at.Add(-shopclip.AttributionWindow), at)
		switch {
		case err == nil:
			e.ClipID, e.TagID = click.ClipID, click.TagID
		case err != nil && shopclip.ErrorCode(err) != shopclip.ENOTFOUND:
			return err
		}
	}
	stored, created, err := s.Store.RecordEvent(r.Context(), e, purchaseKey(p.BrandID, in.OrderID, p.ID))
	if err != nil {
		return err
	}
	if !created && (stored.ProductID != e.ProductID || stored.AmountMinor != e.AmountMinor || stored.Currency != e.Currency) {
		return shopclip.Errorf(shopclip.ECONFLICT, "Order %s was already reported for product %s with another amount.", in.OrderID, p.ID)
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	} else if stored.ClipID != "" {
		s.emitPurchase(r, stored)
	}
	return writeJSON(w, status, eventResult{Recorded: created, Event: stored})
}

// readyClip loads a ready clip, or says it does not exist.
func (s *Server) readyClip(ctx context.Context, id string) (*shopclip.Clip, error) {
	if !shopclip.ValidID(shopclip.PrefixClip, id) {
		return nil, shopclip.Errorf(shopclip.EINVALID, "clip_id %q is not a clip.", id)
	}
	c, err := s.readyClipForViewers(ctx, id)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return nil, shopclip.Errorf(shopclip.EINVALID, "clip_id %q is not a playable clip.", id)
	}
	return c, err
}

// liveTag loads an active tag, or says it does not exist.
func (s *Server) liveTag(ctx context.Context, id string) (*shopclip.Tag, error) {
	if !shopclip.ValidID(shopclip.PrefixTag, id) {
		return nil, shopclip.Errorf(shopclip.EINVALID, "tag_id %q is not a tag.", id)
	}
	t, err := s.viewerTag(ctx, id)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND || err == nil && t.Status != shopclip.TagActive {
		return nil, shopclip.Errorf(shopclip.EINVALID, "tag_id %q is not a live pop-up.", id)
	}
	return t, err
}

// clipStats shows a clip's funnel: to its creator (and admins) every tag,
// to a brand tagged in it only its own tags.
func (s *Server) clipStats(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", shopclip.PrefixClip, "Clip")
	if err != nil {
		return err
	}
	c, err := s.Store.Clip(r.Context(), id)
	if err != nil {
		return err
	}
	stats, err := s.Store.TagStats(r.Context(), c.ID, "")
	if err != nil {
		return err
	}
	acct := account(r)
	mine := []shopclip.TagStats{}
	for _, st := range stats {
		if canManageClip(acct, c) || st.BrandID == acct.ID {
			mine = append(mine, st)
		}
	}
	if !canManageClip(acct, c) && len(mine) == 0 {
		return notFound("Clip", id) // neither its creator nor tagged in it
	}
	// A brand learns the clip's audience only once its card is on it.
	shown := canManageClip(acct, c)
	if !shown {
		live, err := s.Store.ClipTags(r.Context(), c.ID, shopclip.TagQuery{
			Statuses: []shopclip.TagStatus{shopclip.TagActive}, BrandID: acct.ID, Page: shopclip.Page{Limit: 1}})
		if err != nil {
			return err
		}
		shown = len(live) > 0
	}
	var views int64
	if shown {
		if views, err = s.Store.ClipViews(r.Context(), c.ID); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, statsJSON{ClipID: c.ID, Views: views, Tags: mine, Totals: totals(mine)})
}

// productStats shows a product's funnel, per tag across clips, to its brand.
func (s *Server) productStats(w http.ResponseWriter, r *http.Request) error {
	p, err := s.ownProduct(r)
	if err != nil {
		return err
	}
	stats, err := s.Store.TagStats(r.Context(), "", p.ID)
	if err != nil {
		return err
	}
	if stats == nil {
		stats = []shopclip.TagStats{}
	}
	return writeJSON(w, http.StatusOK, statsJSON{ProductID: p.ID, Tags: stats, Totals: totals(stats)})
}

// statsJSON is a stats response: per-tag funnels and their totals.
type statsJSON struct {
	ClipID    string              `json:"clip_id,omitempty"`
	ProductID string              `json:"product_id,omitempty"`
	Views     int64               `json:"views"`
	Tags      []shopclip.TagStats `json:"tags"`
	Totals    funnelTotals        `json:"totals"`
}

// funnelTotals sums tags' funnels; revenue is per currency.
type funnelTotals struct {
	Impressions int64            `json:"impressions"`
	Clicks      int64            `json:"clicks"`
	CTR         float64          `json:"ctr"`
	Purchases   int64            `json:"purchases"`
	Revenue     map[string]int64 `json:"revenue_minor"` // by currency
}

func totals(ts []shopclip.TagStats) funnelTotals {
	t := funnelTotals{Revenue: map[string]int64{}}
	for _, s := range ts {
		t.Impressions += s.Impressions
		t.Clicks += s.Clicks
		t.Purchases += s.Purchases
		if s.RevenueMinor > 0 {
			t.Revenue[s.Currency] += s.RevenueMinor
		}
	}
	if t.Impressions > 0 {
		t.CTR = float64(t.Clicks) / float64(t.Impressions)
	}
	return t
}
