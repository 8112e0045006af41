package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopclip/shopclip"
)

const productColumns = `id, brand_id, sku, title, currency, price_minor, url, image_url, in_stock, created_at, updated_at`

func scanProduct(row rowScanner) (*shopclip.Product, error) {
	var p shopclip.Product
	err := row.Scan(&p.ID, &p.BrandID, &p.SKU, &p.Title, &p.Currency, &p.PriceMinor, &p.URL, &p.ImageURL,
		&p.InStock, timeDest{&p.CreatedAt}, timeDest{&p.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// CreateProduct records p, which must have an ID and a BrandID, and sets
// p.CreatedAt and p.UpdatedAt. The store does not check the catalog rules
// (see shopclip.Product.Validate) beyond a price that is not negative.
func (db *DB) CreateProduct(ctx context.Context, p *shopclip.Product) error {
	const op = "create product"
	if p.ID == "" {
		return invalid(op, "Product ID is required.")
	} else if p.BrandID == "" {
		return invalid(op, "Product brand ID is required.")
	} else if p.PriceMinor < 0 {
		return invalid(op, "Price must not be negative.")
	}
	now := db.now()
	_, err := db.exec(ctx, `INSERT INTO products (`+productColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.BrandID, p.SKU, p.Title, p.Currency, p.PriceMinor, p.URL, p.ImageURL, p.InStock, db.ts(now), db.ts(now))
	if err != nil {
		return db.failRefs(ctx, op, "Product", err, ref{"accounts", p.BrandID, "Brand account"})
	}
	p.CreatedAt, p.UpdatedAt = now, now
	return nil
}

// Product returns the product with id.
func (db *DB) Product(ctx context.Context, id string) (*shopclip.Product, error) {
	p, err := scanProduct(db.queryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("product", "Product")
	} else if err != nil {
		return nil, db.fail("product", "Product", err)
	}
	return p, nil
}

// UpdateProduct replaces the mutable fields of the product p.ID (SKU, title,
// currency, price, URLs, stock) and sets p.UpdatedAt. It also fills in
// p.BrandID and p.CreatedAt from the database, which the update leaves
// unchanged.
func (db *DB) UpdateProduct(ctx context.Context, p *shopclip.Product) error {
	const op = "update product"
	if p.PriceMinor < 0 {
		return invalid(op, "Price must not be negative.")
	}
	now := db.now()
	var brandID string
	err := db.writeRow(ctx, `UPDATE products SET sku = ?, title = ?, currency = ?, price_minor = ?,
		url = ?, image_url = ?, in_stock = ?, updated_at = ? WHERE id = ? RETURNING brand_id, created_at`,
		p.SKU, p.Title, p.Currency, p.PriceMinor, p.URL, p.ImageURL, p.InStock, db.ts(now), p.ID).Scan(&brandID, timeDest{&p.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(op, "Product")
	} else if err != nil {
		return db.fail(op, "Product", err)
	}
	p.BrandID, p.UpdatedAt = brandID, now
	return nil
}

// BrandProducts returns a page (page.Size() at most) of a brand's products,
// newest (by CreatedAt, then ID) first, strictly after page.After (its At
// and ID): a keyset seek on the products_brand index.
func (db *DB) BrandProducts(ctx context.Context, brandID string, page shopclip.Page) ([]*shopclip.Product, error) {
	const op = "brand products"
	if page.After.IsZero() {
		return db.products(ctx, op, `SELECT `+productColumns+` FROM products WHERE brand_id = ?
			ORDER BY created_at DESC, id DESC LIMIT ?`, brandID, page.Size())
	}
	at := db.ts(page.After.At)
	return db.products(ctx, op, `SELECT `+productColumns+` FROM products WHERE brand_id = ?
		AND (created_at < ? OR (created_at = ? AND id < ?))
		ORDER BY created_at DESC, id DESC LIMIT ?`, brandID, at, at, page.After.ID, page.Size())
}

// products runs a query listing products.
func (db *DB) products(ctx context.Context, op, query string, args ...any) ([]*shopclip.Product, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, db.fail(op, "Product", err)
	}
	defer rows.Close()
	var ps []*shopclip.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, db.fail(op, "Product", err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Product", err)
	}
	return ps, nil
}

// CreateDiscount records d, which must have an ID, a ProductID and a known
// Kind, and sets d.CreatedAt; d.StartsAt and d.EndsAt are stored (and set) in
// UTC, rounded to microseconds. A product already holding
// shopclip.MaxOpenDiscounts discounts that have not ended gets no more
// (ECONFLICT); concurrent creations may overshoot the cap by a few.
func (db *DB) CreateDiscount(ctx context.Context, d *shopclip.Discount) error {
	const op = "create discount"
	switch {
	case d.ID == "":
		return invalid(op, "Discount ID is required.")
	case d.ProductID == "":
		return invalid(op, "Discount product ID is required.")
	case d.Kind != shopclip.DiscountPercent && d.Kind != shopclip.DiscountAmount:
		return invalid(op, "Discount kind must be percent or amount, not %q.", d.Kind)
	case d.PercentOff < 0 || d.PercentOff > 100:
		return invalid(op, "Percent off must be between 0 and 100.")
	case d.AmountOffMinor < 0:
		return invalid(op, "Amount off must not be negative.")
	}
	now := db.now()
	var open int
	err := db.queryRow(ctx, `SELECT count(*) FROM discounts WHERE product_id = ? AND ends_at > ?`, d.ProductID, db.ts(now)).Scan(&open)
	if err != nil {
		return db.fail(op, "Discount", err)
	} else if open >= shopclip.MaxOpenDiscounts {
		return fmt.Errorf("store: %s: %w", op, shopclip.Errorf(shopclip.ECONFLICT,
			"The product already has %d discounts that have not ended, the most it may hold; wait for one to end before adding another.", open))
	}
	starts, ends := roundTime(d.StartsAt), roundTime(d.EndsAt)
	_, err = db.exec(ctx, `INSERT INTO discounts (id, product_id, kind, percent_off, amount_off_minor,
		starts_at, ends_at, coupon_code, flash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.ProductID, string(d.Kind), d.PercentOff, d.AmountOffMinor,
		db.ts(starts), db.ts(ends), d.CouponCode, d.Flash, db.ts(now))
	if err != nil {
		return db.failRefs(ctx, op, "Discount", err, ref{"products", d.ProductID, "Product"})
	}
	d.StartsAt, d.EndsAt, d.CreatedAt = starts, ends, now
	return nil
}

// ProductDiscounts returns a product's discounts, oldest first (by
// CreatedAt, then ID). An unknown product has none.
func (db *DB) ProductDiscounts(ctx context.Context, productID string) ([]*shopclip.Discount, error) {
	const op = "product discounts"
	rows, err := db.query(ctx, `SELECT id, product_id, kind, percent_off, amount_off_minor, starts_at, ends_at,
		coupon_code, flash, created_at FROM discounts WHERE product_id = ? ORDER BY created_at, id`, productID)
	if err != nil {
		return nil, db.fail(op, "Discount", err)
	}
	defer rows.Close()
	var ds []*shopclip.Discount
	for rows.Next() {
		var d shopclip.Discount
		var kind string
		var pct int64
		if err := rows.Scan(&d.ID, &d.ProductID, &kind, &pct, &d.AmountOffMinor,
			timeDest{&d.StartsAt}, timeDest{&d.EndsAt}, &d.CouponCode, &d.Flash, timeDest{&d.CreatedAt}); err != nil {
			return nil, db.fail(op, "Discount", fmt.Errorf("scan: %w", err))
		}
		d.Kind, d.PercentOff = shopclip.DiscountKind(kind), int(pct)
		ds = append(ds, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Discount", err)
	}
	return ds, nil
}

// ProductPriceHistory returns a product's list prices, oldest first: the
// price it was created with and every change of price or currency since
// (recorded by triggers in the same statement as the change), limited to the
// last point starting at or before since (the price in force at since) and
// the points after it. The zero since returns them all. An unknown product
// has none.
func (db *DB) ProductPriceHistory(ctx context.Context, productID string, since time.Time) ([]shopclip.PricePoint, error) {
	const op = "product price history"
	rows, err := db.query(ctx, `SELECT price_minor, currency, starts_at FROM price_history
		WHERE product_id = ? AND (starts_at > ? OR id = (SELECT id FROM price_history
			WHERE product_id = ? AND starts_at <= ? ORDER BY starts_at DESC, id DESC LIMIT 1))
		ORDER BY starts_at, id`, productID, db.ts(since), productID, db.ts(since))
	if err != nil {
		return nil, db.fail(op, "Product", err)
	}
	defer rows.Close()
	var ps []shopclip.PricePoint
	for rows.Next() {
		var p shopclip.PricePoint
		if err := rows.Scan(&p.PriceMinor, &p.Currency, timeDest{&p.StartsAt}); err != nil {
			return nil, db.fail(op, "Product", fmt.Errorf("scan: %w", err))
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Product", err)
	}
	return ps, nil
}
