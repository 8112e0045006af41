package storefront

import (
	"net/http"
	"time"

	"github.com/shopclip/shopclip"
)

// productInput is a POST /v1/products body. The openapi tags mark the
// fields the OpenAPI document lists as required (Product.Validate checks
// them).
type productInput struct {
	SKU        string `json:"sku" openapi:"required"`
	Title      string `json:"title" openapi:"required"`
	Currency   string `json:"currency" openapi:"required"`
	PriceMinor int64  `json:"price_minor" openapi:"required"`
	URL        string `json:"url" openapi:"required"`
	ImageURL   string `json:"image_url"`
	InStock    *bool  `json:"in_stock"` // default true
}

// productList is a brand's catalog.
type productList struct {
	Products   []*shopclip.Product `json:"products"`
	NextCursor *string             `json:"next_cursor"` // null on the last page
}

func (s *Server) createProduct(w http.ResponseWriter, r *http.Request) error {
	var in productInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p := &shopclip.Product{
		ID:         shopclip.NewID(shopclip.PrefixProduct),
		BrandID:    account(r).ID,
		SKU:        in.SKU,
		Title:      in.Title,
		Currency:   in.Currency,
		PriceMinor: in.PriceMinor,
		URL:        in.URL,
		ImageURL:   in.ImageURL,
		InStock:    in.InStock == nil || *in.InStock,
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if err := s.Store.CreateProduct(r.Context(), p); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, p)
}

// listProducts answers a page of the caller's catalog, newest first.
func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) error {
	page, err := pageParam(r, shopclip.PrefixProduct)
	if err != nil {
		return err
	}
	ps, err := s.Store.BrandProducts(r.Context(), account(r).ID, page)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []*shopclip.Product{}
	}
	return writeJSON(w, http.StatusOK, productList{Products: ps, NextCursor: nextCursor(page, ps, productCursor)})
}

// ownProduct loads the product in the path if the caller's brand owns it
// (or the caller is an admin); otherwise it is not found.
func (s *Server) ownProduct(r *http.Request) (*shopclip.Product, error) {
	id, err := pathID(r, "id", shopclip.PrefixProduct, "Product")
	if err != nil {
		return nil, err
	}
	p, err := s.Store.Product(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if a := account(r); a.Role != shopclip.RoleAdmin && a.ID != p.BrandID {
		return nil, notFound("Product", id)
	}
	return p, nil
}

func (s *Server) getProduct(w http.ResponseWriter, r *http.Request) error {
	p, err := s.ownProduct(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

type productPatch struct {
	SKU        *string `json:"sku"`
	Title      *string `json:"title"`
	Currency   *string `json:"currency"`
	PriceMinor *int64  `json:"price_minor"`
	URL        *string `json:"url"`
	ImageURL   *string `json:"image_url"`
	InStock    *bool   `json:"in_stock"`
}

// patchProduct changes the given fields of a product and re-labels every clip
// that shows it.
func (s *Server) patchProduct(w http.ResponseWriter, r *http.Request) error {
	p, err := s.ownProduct(r)
	if err != nil {
		return err
	}
	var in productPatch
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	oldCurrency := p.Currency
	set(&p.SKU, in.SKU)
	set(&p.Title, in.Title)
	set(&p.Currency, in.Currency)
	set(&p.PriceMinor, in.PriceMinor)
	set(&p.URL, in.URL)
	set(&p.ImageURL, in.ImageURL)
	set(&p.InStock, in.InStock)
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Currency != oldCurrency {
		ds, err := s.Store.ProductDiscounts(r.Context(), p.ID)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.Kind == shopclip.DiscountAmount && d.EndsAt.After(s.now()) {
				return shopclip.Errorf(shopclip.ECONFLICT, "The product has an amount discount in %s running until %s; its currency cannot change before then.", oldCurrency, d.EndsAt.Format(time.RFC3339))
			}
		}
	}
	if err := s.Store.UpdateProduct(r.Context(), p); err != nil {
		return err
	}
	s.relabel(r, p.ID)
	return writeJSON(w, http.StatusOK, p)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// relabel enqueues the pop-up recomputation of every clip that shows the
// product. The pop-ups API prices live, so a failure here only delays the
// stored timeline; it is logged, not returned.
func (s *Server) relabel(r *http.Request, productID string) {
	ids, err := s.Store.ProductClipIDs(r.Context(), productID)
	if err != nil {
		s.logger().WarnContext(r.Context(), "relabel: list clips", "product_id", productID, "err", err)
		s.invalidate(r.Context(), "") // which clips show it is unknown: drop every answer
		return
	}
	for _, id := range ids {
		s.relabelClip(r, id)
	}
}

// relabelClip drops the clip's kept answers (here and in the other API
// processes) and enqueues the recomputation of its stored timeline; like
// relabel, it logs a failure.
func (s *Server) relabelClip(r *http.Request, clipID string) {
	s.invalidate(r.Context(), clipID)
	if err := s.Queue.EnqueueTag(r.Context(), clipID); err != nil {
		s.logger().WarnContext(r.Context(), "relabel: enqueue", "clip_id", clipID, "err", err)
	}
}

type discountInput struct {
	Kind           shopclip.DiscountKind `json:"kind" openapi:"required"`
	PercentOff     int                   `json:"percent_off"`
	AmountOffMinor int64                 `json:"amount_off_minor"`
	// Currency, when given, must be the product's: amounts are in it.
	Currency   string    `json:"currency"`
	StartsAt   time.Time `json:"starts_at" openapi:"required"`
	EndsAt     time.Time `json:"ends_at" openapi:"required"`
	CouponCode string    `json:"coupon_code"`
	Flash      bool      `json:"flash"`
}

// discountList is a product's discounts.
type discountList struct {
	Discounts []*shopclip.Discount `json:"discounts"`
}

func (s *Server) createDiscount(w http.ResponseWriter, r *http.Request) error {
	p, err := s.ownProduct(r)
	if err != nil {
		return err
	}
	var in discountInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	d := &shopclip.Discount{
		ID:             shopclip.NewID(shopclip.PrefixDiscount),
		ProductID:      p.ID,
		Kind:           in.Kind,
		PercentOff:     in.PercentOff,
		AmountOffMinor: in.AmountOffMinor,
		StartsAt:       in.StartsAt.UTC(),
		EndsAt:         in.EndsAt.UTC(),
		CouponCode:     in.CouponCode,
		Flash:          in.Flash,
	}
	if in.Currency != "" && in.Currency != p.Currency {
		return shopclip.Errorf(shopclip.EINVALID, "The product is priced in %s; a discount on it is in %s too, not %s.", p.Currency, p.Currency, in.Currency)
	}
	if err := d.Validate(p, s.now()); err != nil {
		return err
	}
	if err := s.Store.CreateDiscount(r.Context(), d); err != nil {
		return err
	}
	s.relabel(r, p.ID)
	s.scheduleSale(r, d)
	return writeJSON(w, http.StatusCreated, d)
}

func (s *Server) listDiscounts(w http.ResponseWriter, r *http.Request) error {
	p, err := s.ownProduct(r)
	if err != nil {
		return err
	}
	ds, err := s.Store.ProductDiscounts(r.Context(), p.ID)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []*shopclip.Discount{}
	}
	return writeJSON(w, http.StatusOK, discountList{Discounts: ds})
}
