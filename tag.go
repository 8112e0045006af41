package shopclip

import "time"

// TagStatus is a tag's consent state.
type TagStatus string

// Tag statuses. A brand's tag on a creator's clip is pending until the clip's
// creator approves it (active) or rejects it (rejected). Only active tags show.
const (
	TagPending  TagStatus = "pending"
	TagActive   TagStatus = "active"
	TagRejected TagStatus = "rejected"
)

// Tag places a product in a clip during [StartMS, EndMS) at screen position
// (X, Y), normalized to 0..1 from the top-left corner.
type Tag struct {
	ID        string    `json:"id"`
	ClipID    string    `json:"clip_id"`
	ProductID string    `json:"product_id"`
	BrandID   string    `json:"brand_id"`
	StartMS   int64     `json:"start_ms"`
	EndMS     int64     `json:"end_ms"`
	X         float64   `json:"x"`
	Y         float64   `json:"y"`
	Status    TagStatus `json:"status"`
	Clicks    int64     `json:"clicks"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Popup is what a viewer sees of a live tag: the product, its price now and the
// label of the discount valid now.
type Popup struct {
	TagID   string       `json:"tag_id"`
	StartMS int64        `json:"start_ms"`
	EndMS   int64        `json:"end_ms"`
	X       float64      `json:"x"`
	Y       float64      `json:"y"`
	Product PopupProduct `json:"product"`
	// Label is the honest reduction ("-20%", "-5.00 USD") against the
	// product's lowest price of the 30 days before the sale; empty when no
	// sale applies or the sale is no reduction against that price.
	Label string `json:"label,omitempty"`
	// SaleEndsAt is when the applied discount ends; Flash says to show a
	// countdown to it; CouponCode is the code the store asks for, if any.
	SaleEndsAt *time.Time `json:"sale_ends_at,omitempty"`
	Flash      bool       `json:"flash,omitempty"`
	CouponCode string     `json:"coupon_code,omitempty"`
	BuyURL     string     `json:"buy_url"`
}

// PopupProduct is the part of a product a viewer sees.
type PopupProduct struct {
	ID             string `json:"id"`
	Title          string `json:"title"`
	ImageURL       string `json:"image_url,omitempty"`
	Currency       string `json:"currency"`
	PriceMinor     int64  `json:"price_minor"`
	SalePriceMinor int64  `json:"sale_price_minor"`
	// WasPriceMinor is the struck-through reference price, shown only when
	// the sale is a real reduction against the lowest price of the 30 days
	// before it.
	WasPriceMinor int64 `json:"was_price_minor,omitempty"`
	InStock       bool  `json:"in_stock"`
}

// Validate reports whether t fits in clip: a window of at least 100 ms
// inside the clip's duration and a position on the screen.
func (t *Tag) Validate(clip *Clip) error {
	switch {
	case t.StartMS < 0:
		return Errorf(EINVALID, "start_ms must be 0 or more, got %d.", t.StartMS)
	case t.EndMS <= t.StartMS:
		return Errorf(EINVALID, "end_ms (%d) must be after start_ms (%d).", t.EndMS, t.StartMS)
	case t.EndMS-t.StartMS < MinTagMS:
		return Errorf(EINVALID, "a tag must show for at least %d ms.", MinTagMS)
	case clip.DurationMS > 0 && t.EndMS > clip.DurationMS:
		return Errorf(EINVALID, "end_ms (%d) is past the end of the clip (%d ms).", t.EndMS, clip.DurationMS)
	case !(t.X >= 0 && t.X <= 1) || !(t.Y >= 0 && t.Y <= 1): // also refuses NaN
		return Errorf(EINVALID, "x and y must be between 0 and 1 (fractions of the width and height), got %v, %v.", t.X, t.Y)
	}
	return nil
}

// MinTagMS is the shortest time a tag may show.
const MinTagMS = 100

// Tag quotas bound what brands can pile onto clips (each tag is a write, a
// pop-up to price on every anonymous read, and work for the tag worker). A
// tag counts while it is pending or active; rejected ones do not. The store
// enforces them in the transaction that records the tag, so concurrent
// requests cannot both take the last place; one more is an ECONFLICT.
const (
	// MaxTagsPerClip bounds a clip's pending and active tags, all brands
	// together; it is also the most pop-ups a clip shows.
	MaxTagsPerClip = 50
	// MaxTagsPerBrandClip bounds one brand's pending and active tags on one
	// clip.
	MaxTagsPerBrandClip = 20
	// MaxPendingTagsPerBrand bounds a brand's proposals awaiting a
	// creator's decision, on all clips together.
	MaxPendingTagsPerBrand = 1000
)

// BrandApproval is a creator's standing approval of a brand: the brand's
// tags on the creator's clips are active at once.
type BrandApproval struct {
	BrandID    string
	ApprovedAt time.Time
}

// Cursor is the position just after a in a creator's approvals.
func (a BrandApproval) Cursor() Cursor { return Cursor{At: a.ApprovedAt, ID: a.BrandID} }
