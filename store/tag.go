package store

import (
	"context"
	"database/sql"
	"errors"
	"math"

	"github.com/shopclip/shopclip"
)

const tagColumns = `id, clip_id, product_id, brand_id, start_ms, end_ms, x, y, status, clicks, created_at, updated_at`

func scanTag(row rowScanner) (*shopclip.Tag, error) {
	var t shopclip.Tag
	var status string
	err := row.Scan(&t.ID, &t.ClipID, &t.ProductID, &t.BrandID, &t.StartMS, &t.EndMS, &t.X, &t.Y,
		&status, &t.Clicks, timeDest{&t.CreatedAt}, timeDest{&t.UpdatedAt})
	if err != nil {
		return nil, err
	}
	t.Status = shopclip.TagStatus(status)
	return &t, nil
}

func validTagStatus(s shopclip.TagStatus) bool {
	return s == shopclip.TagPending || s == shopclip.TagActive || s == shopclip.TagRejected
}

// CreateTag records t, which must have an ID, a ClipID, a ProductID, a
// BrandID and a Status, a window with 0 <= StartMS < EndMS and a position
// within 0..1; it sets t.CreatedAt and t.UpdatedAt, and t.Clicks to 0 (clicks
// are counted by AddTagClick only). The clip, the product and the brand must
// exist (ENOTFOUND names the missing one).
func (db *DB) CreateTag(ctx context.Context, t *shopclip.Tag) error {
	const op = "create tag"
	switch {
	case t.ID == "":
		return invalid(op, "Tag ID is required.")
	case t.ClipID == "" || t.ProductID == "" || t.BrandID == "":
		return invalid(op, "A tag needs a clip, a product and a brand.")
	case !validTagStatus(t.Status):
		return invalid(op, "Tag status must be pending, active or rejected, not %q.", t.Status)
	case t.StartMS < 0 || t.EndMS <= t.StartMS:
		return invalid(op, "A tag's end (%d ms) must come after its start (%d ms), which must not be negative.", t.EndMS, t.StartMS)
	case !inUnit(t.X) || !inUnit(t.Y):
		return invalid(op, "A tag's position must be within 0..1, got %v, %v.", t.X, t.Y)
	}
	now := db.now()
	_, err := db.exec(ctx, `INSERT INTO tags (`+tagColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
		t.ID, t.ClipID, t.ProductID, t.BrandID, t.StartMS, t.EndMS, t.X, t.Y, string(t.Status), db.ts(now), db.ts(now))
	if err != nil {
		return db.failRefs(ctx, op, "Tag", err,
			ref{"clips", t.ClipID, "Clip"}, ref{"products", t.ProductID, "Product"}, ref{"accounts", t.BrandID, "Brand account"})
	}
	t.Clicks, t.CreatedAt, t.UpdatedAt = 0, now, now
	return nil
}

func inUnit(v float64) bool { return !math.IsNaN(v) && v >= 0 && v <= 1 }

// Tag returns the tag with id.
func (db *DB) Tag(ctx context.Context, id string) (*shopclip.Tag, error) {
	t, err := scanTag(db.queryRow(ctx, `SELECT `+tagColumns+` FROM tags WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("tag", "Tag")
	} else if err != nil {
		return nil, db.fail("tag", "Tag", err)
	}
	return t, nil
}

// SetTagStatus changes a tag's consent status and stamps its UpdatedAt.
func (db *DB) SetTagStatus(ctx context.Context, id string, s shopclip.TagStatus) error {
	const op = "set tag status"
	if !validTagStatus(s) {
		return invalid(op, "Tag status must be pending, active or rejected, not %q.", s)
	}
	res, err := db.exec(ctx, `UPDATE tags SET status = ?, updated_at = ? WHERE id = ?`, string(s), db.ts(db.now()), id)
	return db.oneRow(op, "Tag", res, err)
}

// ClipTags returns a clip's tags, in any status, ordered by StartMS, then
// ID.
func (db *DB) ClipTags(ctx context.Context, clipID string) ([]*shopclip.Tag, error) {
	const op = "clip tags"
	rows, err := db.query(ctx, `SELECT `+tagColumns+` FROM tags WHERE clip_id = ? ORDER BY start_ms, id`, clipID)
	if err != nil {
		return nil, db.fail(op, "Tag", err)
	}
	defer rows.Close()
	var ts []*shopclip.Tag
	for rows.Next() {
		t, err := scanTag(rows)
		if err != nil {
			return nil, db.fail(op, "Tag", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Tag", err)
	}
	return ts, nil
}

// ProductClipIDs returns the IDs of the clips that tag a product (with a tag
// in any status), each once, in ID order.
func (db *DB) ProductClipIDs(ctx context.Context, productID string) ([]string, error) {
	const op = "product clip ids"
	rows, err := db.query(ctx, `SELECT DISTINCT clip_id FROM tags WHERE product_id = ? ORDER BY clip_id`, productID)
	if err != nil {
		return nil, db.fail(op, "Tag", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, db.fail(op, "Tag", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Tag", err)
	}
	return ids, nil
}

// AddTagClick counts one click through a tag's buy URL, atomically. It does
// not change the tag's UpdatedAt.
func (db *DB) AddTagClick(ctx context.Context, tagID string) error {
	res, err := db.exec(ctx, `UPDATE tags SET clicks = clicks + 1 WHERE id = ?`, tagID)
	return db.oneRow("add tag click", "Tag", res, err)
}

// oneRow finishes an update of one object by ID: ENOTFOUND when no row
// changed.
func (db *DB) oneRow(op, entity string, res sql.Result, err error) error {
	if err != nil {
		return db.fail(op, entity, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.fail(op, entity, err)
	} else if n == 0 {
		return notFound(op, entity)
	}
	return nil
}
