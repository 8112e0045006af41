package shopclip

import (
	"time"
)

// EventType is what an analytics event records.
type EventType string

// Event types. Viewers send views, pop-up impressions and pop-up clicks
// (clicks through a buy URL are recorded by the server); brands report
// purchases from their store's backend.
const (
	EventView       EventType = "view"
	EventImpression EventType = "popup_impression"
	EventClick      EventType = "popup_click"
	EventPurchase   EventType = "purchase"
)

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool {
	return t == EventView || t == EventImpression || t == EventClick || t == EventPurchase
}

// Event is one analytics event. SessionID is a viewer session chosen by the
// player (random, opaque); purchases carry the session the brand's store
// saw, which attributes them to the pop-up clicked in that session.
type Event struct {
	ID          string    `json:"id"`
	Type        EventType `json:"type"`
	SessionID   string    `json:"session_id,omitempty"`
	ClipID      string    `json:"clip_id,omitempty"`
	TagID       string    `json:"tag_id,omitempty"`
	ProductID   string    `json:"product_id,omitempty"`
	BrandID     string    `json:"brand_id,omitempty"`
	OrderID     string    `json:"order_id,omitempty"`
	AmountMinor int64     `json:"amount_minor,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	At          time.Time `json:"at"`
}

// MaxPurchaseMinor bounds the amount of one reported purchase (one order
// line), in minor units: MaxPriceMinor, far above any real order, which
// keeps revenue sums far from overflowing int64.
const MaxPurchaseMinor = MaxPriceMinor

// AttributionWindow is how long after a click on a tag a purchase of its
// product in the same session is credited to that tag.
const AttributionWindow = 24 * time.Hour

// ValidSessionID reports whether s can be a viewer session ID: 8 to 64
// characters of [A-Za-z0-9_-].
func ValidSessionID(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidOrderID reports whether s can be a brand's order ID: 1 to 128
// printable ASCII characters.
func ValidOrderID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// TagStats is the funnel of one tag: how often its pop-up was seen and
// clicked, and what it sold (purchases attributed to a click on it).
// Purchases counts them all; RevenueMinor sums only the purchases paid in
// Currency, the product's currency when the stats are read (a product whose
// currency changed keeps its earlier sales in the count, not in the sum).
type TagStats struct {
	TagID        string  `json:"tag_id"`
	ClipID       string  `json:"clip_id"`
	ProductID    string  `json:"product_id"`
	BrandID      string  `json:"brand_id"`
	Impressions  int64   `json:"impressions"`
	Clicks       int64   `json:"clicks"`
	CTR          float64 `json:"ctr"` // clicks / impressions; 0 without impressions
	Purchases    int64   `json:"purchases"`
	RevenueMinor int64   `json:"revenue_minor"`
	Currency     string  `json:"currency"`
}

// PricePoint is a product's list price from StartsAt until the next point.
type PricePoint struct {
	PriceMinor int64     `json:"price_minor"`
	Currency   string    `json:"currency"`
	StartsAt   time.Time `json:"starts_at"`
}

// HonestyWindow is how far back a sale's reference price looks: a "was"
// price is the lowest price the product sold at in the 30 days before the
// sale (the EU Omnibus rule; TikTok Shop requires the same).
const HonestyWindow = 30 * 24 * time.Hour

// MaxFlashSale bounds a flash sale's window.
const MaxFlashSale = 24 * time.Hour
