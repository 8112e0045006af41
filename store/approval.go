package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/shopclip/shopclip"
)

// ApproveBrand records a creator's standing approval of a brand: the brand's
// future tags on the creator's clips are active at once. Approving twice is
// not an error.
func (db *DB) ApproveBrand(ctx context.Context, creatorID, brandID string) error {
	const op = "approve brand"
	_, err := db.exec(ctx, `INSERT INTO brand_approvals (creator_id, brand_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (creator_id, brand_id) DO NOTHING`, creatorID, brandID, db.ts(db.now()))
	if err != nil {
		return db.failRefs(ctx, op, "Approval", err, ref{"accounts", creatorID, "Creator account"}, ref{"accounts", brandID, "Brand account"})
	}
	return nil
}

// RevokeBrand withdraws a creator's standing approval of a brand (tags
// already active stay so). Revoking an approval that does not exist is not
// an error.
func (db *DB) RevokeBrand(ctx context.Context, creatorID, brandID string) error {
	if _, err := db.exec(ctx, `DELETE FROM brand_approvals WHERE creator_id = ? AND brand_id = ?`, creatorID, brandID); err != nil {
		return db.fail("revoke brand", "Approval", err)
	}
	return nil
}

// BrandApproved reports whether a creator approved a brand for good.
func (db *DB) BrandApproved(ctx context.Context, creatorID, brandID string) (bool, error) {
	var one int
	err := db.queryRow(ctx, `SELECT 1 FROM brand_approvals WHERE creator_id = ? AND brand_id = ?`, creatorID, brandID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, db.fail("brand approved", "Approval", err)
	}
	return true, nil
}

// ApprovedBrands returns a page (page.Size() at most) of the brands a
// creator approved for good, in the order of approval, then by brand ID,
// strictly after page.After (its At and ID).
func (db *DB) ApprovedBrands(ctx context.Context, creatorID string, page shopclip.Page) ([]shopclip.BrandApproval, error) {
	const op = "approved brands"
	where, args := `creator_id = ?`, []any{creatorID}
	if !page.After.IsZero() {
		at := db.ts(page.After.At)
		where += ` AND (created_at > ? OR (created_at = ? AND brand_id > ?))`
		args = append(args, at, at, page.After.ID)
	}
	rows, err := db.query(ctx, `SELECT brand_id, created_at FROM brand_approvals WHERE `+where+`
		ORDER BY created_at, brand_id LIMIT ?`, append(args, page.Size())...)
	if err != nil {
		return nil, db.fail(op, "Approval", err)
	}
	defer rows.Close()
	var as []shopclip.BrandApproval
	for rows.Next() {
		var a shopclip.BrandApproval
		if err := rows.Scan(&a.BrandID, timeDest{&a.ApprovedAt}); err != nil {
			return nil, db.fail(op, "Approval", fmt.Errorf("scan: %w", err))
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Approval", err)
	}
	return as, nil
}
