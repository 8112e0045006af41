package shopclip

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Product is an item in a brand's catalog. Money is integer minor units (cents)
// in an ISO-4217 currency.
type Product struct {
	ID         string    `json:"id"`
	BrandID    string    `json:"brand_id"`
	SKU        string    `json:"sku"`
	Title      string    `json:"title"`
	Currency   string    `json:"currency"`
	PriceMinor int64     `json:"price_minor"`
	URL        string    `json:"url"`
	ImageURL   string    `json:"image_url,omitempty"`
	InStock    bool      `json:"in_stock"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// DiscountKind is how a discount lowers a price.
type DiscountKind string

// Discount kinds.
const (
	DiscountPercent DiscountKind = "percent" // PercentOff percent off the price
	DiscountAmount  DiscountKind = "amount"  // AmountOffMinor off the price
)

// Discount lowers a product's price during [StartsAt, EndsAt).
type Discount struct {
	ID             string       `json:"id"`
	ProductID      string       `json:"product_id"`
	Kind           DiscountKind `json:"kind"`
	PercentOff     int          `json:"percent_off,omitempty"`
	AmountOffMinor int64        `json:"amount_off_minor,omitempty"`
	StartsAt       time.Time    `json:"starts_at"`
	EndsAt         time.Time    `json:"ends_at"`
	CouponCode     string       `json:"coupon_code,omitempty"`
	// Flash marks a flash sale: a short window (at most MaxFlashSale)
	// that players show with a countdown to EndsAt.
	Flash     bool      `json:"flash,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ActiveAt reports whether d applies at t.
func (d *Discount) ActiveAt(t time.Time) bool {
	return !t.Before(d.StartsAt) && t.Before(d.EndsAt)
}

// Limits on catalog fields.
const (
	MaxSKULen        = 64
	MaxProductTitle  = 500 // bytes of UTF-8
	MaxURLLen        = 2048
	MaxPriceMinor    = 1_000_000_000_000 // far above any real price; keeps arithmetic exact
	MaxCouponCodeLen = 64
	// MaxOpenDiscounts bounds the discounts of a product that have not
	// ended: pricing a pop-up looks at each of them on every request.
	MaxOpenDiscounts = 100
)

// Validate reports whether p's fields make sense, with a message a brand
// understands.
func (p *Product) Validate() error {
	switch {
	case p.SKU == "":
		return Errorf(EINVALID, "sku is required.")
	case len(p.SKU) > MaxSKULen:
		return Errorf(EINVALID, "sku must be at most %d bytes.", MaxSKULen)
	case !utf8.ValidString(p.SKU) || hasControl(p.SKU):
		return Errorf(EINVALID, "sku must be printable UTF-8 text.")
	case strings.TrimSpace(p.Title) == "":
		return Errorf(EINVALID, "title is required.")
	case len(p.Title) > MaxProductTitle:
		return Errorf(EINVALID, "title must be at most %d bytes.", MaxProductTitle)
	case !utf8.ValidString(p.Title) || hasControl(p.Title):
		return Errorf(EINVALID, "title must be printable UTF-8 text.")
	}
	if _, ok := CurrencyDigits(p.Currency); !ok {
		return Errorf(EINVALID, "currency %q is not an ISO-4217 code such as USD, EUR or JPY.", p.Currency)
	}
	if p.PriceMinor <= 0 {
		return Errorf(EINVALID, "price_minor must be a positive amount in minor units (cents), got %d.", p.PriceMinor)
	} else if p.PriceMinor > MaxPriceMinor {
		return Errorf(EINVALID, "price_minor is too large.")
	}
	if err := ValidateWebURL("url", p.URL, true); err != nil {
		return err
	}
	if _, ours := ProductImageKeyOf(p.ID, p.ImageURL); ours {
		return nil // an uploaded image, served by us (relative without a public URL)
	}
	return ValidateWebURL("image_url", p.ImageURL, false)
}

// ValidateWebURL reports whether s is an absolute http or https URL with a
// host, as product and image links must be. An empty s is valid unless
// required.
func ValidateWebURL(field, s string, required bool) error {
	if s == "" {
		if required {
			return Errorf(EINVALID, "%s is required.", field)
		}
		return nil
	}
	if len(s) > MaxURLLen {
		return Errorf(EINVALID, "%s must be at most %d bytes.", field, MaxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return Errorf(EINVALID, "%s must be an absolute http:// or https:// URL, got %q.", field, s)
	}
	return nil
}

// Validate reports whether d makes sense for product p at time now: a percent
// of 1..99, or an amount below the price; a window that ends after it starts
// and has not ended yet; a short alphanumeric coupon code.
func (d *Discount) Validate(p *Product, now time.Time) error {
	switch d.Kind {
	case DiscountPercent:
		if d.PercentOff < 1 || d.PercentOff > 99 {
			return Errorf(EINVALID, "percent_off must be between 1 and 99, got %d.", d.PercentOff)
		} else if d.AmountOffMinor != 0 {
			return Errorf(EINVALID, "amount_off_minor must not be set on a percent discount.")
		}
	case DiscountAmount:
		if d.AmountOffMinor <= 0 {
			return Errorf(EINVALID, "amount_off_minor must be a positive amount in minor units, got %d.", d.AmountOffMinor)
		} else if d.AmountOffMinor >= p.PriceMinor {
			return Errorf(EINVALID, "amount_off_minor (%d) must be less than the price (%d).", d.AmountOffMinor, p.PriceMinor)
		} else if d.PercentOff != 0 {
			return Errorf(EINVALID, "percent_off must not be set on an amount discount.")
		}
	default:
		return Errorf(EINVALID, "kind must be \"percent\" or \"amount\", got %q.", d.Kind)
	}
	switch {
	case d.StartsAt.IsZero() || d.EndsAt.IsZero():
		return Errorf(EINVALID, "starts_at and ends_at are required (RFC 3339 times).")
	case !d.EndsAt.After(d.StartsAt):
		return Errorf(EINVALID, "ends_at (%s) must be after starts_at (%s).", d.EndsAt.Format(time.RFC3339), d.StartsAt.Format(time.RFC3339))
	case !d.EndsAt.After(now):
		return Errorf(EINVALID, "ends_at (%s) is already in the past.", d.EndsAt.Format(time.RFC3339))
	case d.Flash && d.EndsAt.Sub(d.StartsAt) > MaxFlashSale:
		return Errorf(EINVALID, "A flash sale lasts at most %s; this one lasts %s.", MaxFlashSale, d.EndsAt.Sub(d.StartsAt))
	case len(d.CouponCode) > MaxCouponCodeLen:
		return Errorf(EINVALID, "coupon_code must be at most %d characters.", MaxCouponCodeLen)
	}
	for _, c := range d.CouponCode {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Errorf(EINVALID, "coupon_code may hold only letters, digits, '-' and '_'.")
		}
	}
	return nil
}

// hasControl reports whether s holds control characters (newlines, NUL, bidi
// overrides are not titles).
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u202e' || r == '\u202d' || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// Uploaded product images (PUT /v1/products/{id}/image) are kept in the blob
// store under products/{id}/, named by their content, and served by the
// storefront at ProductImagePath; the product's ImageURL then points there.
// A new image has a new name, so its URL can be cached for good.

// ProductImageFile is the file name of an uploaded image whose stored bytes
// have the lowercase hex SHA-256 sum (its first 20 digits name it).
func ProductImageFile(sum string) string {
	return "image-" + sum[:min(len(sum), 20)] + ".jpg"
}

// ProductImageKey is where the uploaded image file of a product is kept.
func ProductImageKey(productID, file string) string {
	return "products/" + productID + "/" + file
}

// ProductImagePath is the storefront path that serves the uploaded image
// file of a product.
func ProductImagePath(productID, file string) string {
	return "/v1/products/" + productID + "/image/" + file
}

// ValidProductImageFile reports whether file has the form ProductImageFile
// gives: "image-", 1 to 64 lowercase hex digits, ".jpg".
func ValidProductImageFile(file string) bool {
	v, ok := strings.CutPrefix(file, "image-")
	if !ok {
		return false
	}
	v, ok = strings.CutSuffix(v, ".jpg")
	if !ok || v == "" || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ProductImageKeyOf parses an image URL back: when imageURL is the
// ProductImagePath of one of productID's uploaded images — as a path, or an
// absolute http(s) URL under any host (a worker does not know the public
// URL) — it returns the image's blob key. The host is not checked: the key
// can only name one of this product's own uploads.
func ProductImageKeyOf(productID, imageURL string) (key string, ok bool) {
	if !ValidID(PrefixProduct, productID) || imageURL == "" || len(imageURL) > MaxURLLen {
		return "", false
	}
	u, err := url.Parse(imageURL)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawPath != "" {
		return "", false
	}
	if u.Scheme != "" || u.Host != "" {
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", false
		}
	}
	file, ok := strings.CutPrefix(u.Path, ProductImagePath(productID, ""))
	if !ok || !ValidProductImageFile(file) {
		return "", false
	}
	return ProductImageKey(productID, file), true
}
