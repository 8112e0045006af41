package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
//
// A pending or active tag must fit the tag quotas (shopclip.MaxTagsPerClip,
// MaxTagsPerBrandClip, MaxPendingTagsPerBrand), else ECONFLICT. The counts
// and the insert share one transaction which first locks the brand's and the
// clip's rows (SQLite: the transaction holds the database's write lock), so
// concurrent creations are serialized and cannot overshoot a quota.
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
	err := db.inTx(ctx, op, func(tx txn) error {
		if err := tx.lockTagOwners(ctx, op, t.BrandID, t.ClipID); err != nil {
			return err
		}
		if err := tx.checkTagQuotas(ctx, op, t.ClipID, t.BrandID, shopclip.TagRejected, t.Status); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO tags (`+tagColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
			t.ID, t.ClipID, t.ProductID, t.BrandID, t.StartMS, t.EndMS, t.X, t.Y, string(t.Status), db.ts(now), db.ts(now))
		if err != nil {
			return db.failRefs(ctx, op, "Tag", err,
				ref{"clips", t.ClipID, "Clip"}, ref{"products", t.ProductID, "Product"}, ref{"accounts", t.BrandID, "Brand account"})
		}
		return nil
	})
	if err != nil {
		return err
	}
	t.Clicks, t.CreatedAt, t.UpdatedAt = 0, now, now
	return nil
}

// lockTagOwners locks the rows of a tag's brand and clip, in that order, for
// the rest of the transaction, so that tag quotas are counted by one
// transaction at a time (PostgreSQL; on SQLite the transaction already holds
// the write lock). A missing brand or clip is ENOTFOUND.
func (tx txn) lockTagOwners(ctx context.Context, op, brandID, clipID string) error {
	lock := ""
	if tx.db.dialect == Postgres {
		// NO KEY UPDATE: serializes quota checks without blocking the
		// foreign-key checks (KEY SHARE) of unrelated inserts.
		lock = " FOR NO KEY UPDATE"
	}
	for _, r := range []ref{{"accounts", brandID, "Brand account"}, {"clips", clipID, "Clip"}} {
		var one int
		err := tx.queryRow(ctx, `SELECT 1 FROM `+r.table+` WHERE id = ?`+lock, r.id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, r.what)
		} else if err != nil {
			return tx.db.fail(op, "Tag", err)
		}
	}
	return nil
}

// checkTagQuotas reports an ECONFLICT when a brand's tag on a clip going from
// status from to status to (a new tag comes from rejected, which counts for
// nothing) would exceed a tag quota. Call it inside the transaction that makes
// the change, after lockTagOwners.
func (tx txn) checkTagQuotas(ctx context.Context, op, clipID, brandID string, from, to shopclip.TagStatus) error {
	counts := func(s shopclip.TagStatus) bool { return s == shopclip.TagPending || s == shopclip.TagActive }
	addsLive := counts(to) && !counts(from)
	addsPending := to == shopclip.TagPending && from != shopclip.TagPending
	if !addsLive && !addsPending {
		return nil
	}
	pending, active := string(shopclip.TagPending), string(shopclip.TagActive)
	var perClip, perBrandClip, pendingOfBrand int
	err := tx.queryRow(ctx, `SELECT
		(SELECT count(*) FROM tags WHERE clip_id = ? AND status IN (?, ?)),
		(SELECT count(*) FROM tags WHERE clip_id = ? AND brand_id = ? AND status IN (?, ?)),
		(SELECT count(*) FROM tags WHERE brand_id = ? AND status = ?)`,
		clipID, pending, active, clipID, brandID, pending, active, brandID, pending).Scan(&perClip, &perBrandClip, &pendingOfBrand)
	if err != nil {
		return tx.db.fail(op, "Tag", err)
	}
	quota := func(format string, args ...any) error {
		return fmt.Errorf("store: %s: %w", op, shopclip.Errorf(shopclip.ECONFLICT, format, args...))
	}
	switch {
	case addsLive && perClip >= shopclip.MaxTagsPerClip:
		return quota("The clip already holds %d tags awaiting approval or shown, the most a clip may hold; no more can be added until some are rejected.", perClip)
	case addsLive && perBrandClip >= shopclip.MaxTagsPerBrandClip:
		return quota("The brand already has %d tags awaiting approval or shown on this clip, the most one brand may have on a clip.", perBrandClip)
	case addsPending && pendingOfBrand >= shopclip.MaxPendingTagsPerBrand:
		return quota("The brand already has %d tags awaiting creators' approval, the most it may have at once; add more once creators have decided on some.", pendingOfBrand)
	}
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

// SetTagStatus changes a tag's consent status and stamps its UpdatedAt. A
// change that makes a rejected tag count again (pending or active), or a tag
// pending again, must fit the tag quotas as CreateTag's does (ECONFLICT).
func (db *DB) SetTagStatus(ctx context.Context, id string, s shopclip.TagStatus) error {
	const op = "set tag status"
	if !validTagStatus(s) {
		return invalid(op, "Tag status must be pending, active or rejected, not %q.", s)
	}
	return db.inTx(ctx, op, func(tx txn) error {
		var clipID, brandID, from string
		err := tx.queryRow(ctx, `SELECT clip_id, brand_id, status FROM tags WHERE id = ?`, id).Scan(&clipID, &brandID, &from)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "Tag")
		} else if err != nil {
			return db.fail(op, "Tag", err)
		}
		if err := tx.lockTagOwners(ctx, op, brandID, clipID); err != nil {
			return err
		}
		// Read again under the locks: another change may have come first.
		err = tx.queryRow(ctx, `SELECT status FROM tags WHERE id = ?`, id).Scan(&from)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "Tag")
		} else if err != nil {
			return db.fail(op, "Tag", err)
		}
		if err := tx.checkTagQuotas(ctx, op, clipID, brandID, shopclip.TagStatus(from), s); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `UPDATE tags SET status = ?, updated_at = ? WHERE id = ?`, string(s), db.ts(db.now()), id)
		return db.oneRow(op, "Tag", res, err)
	})
}

// ClipTags returns up to q.Size() of a clip's tags, ordered by StartMS, then
// ID, strictly after q.After (its Pos, a StartMS, and ID), in one of
// q.Statuses (any when none) and of q.BrandID (any when empty): one seek on
// the tags_clip index, filtered in SQL, never the whole list.
func (db *DB) ClipTags(ctx context.Context, clipID string, q shopclip.TagQuery) ([]*shopclip.Tag, error) {
	const op = "clip tags"
	where, args := `clip_id = ?`, []any{clipID}
	if len(q.Statuses) > 0 {
		where += ` AND status IN (` + placeholders(len(q.Statuses)) + `)`
		for _, st := range q.Statuses {
			args = append(args, string(st))
		}
	}
	if q.BrandID != "" {
		where += ` AND brand_id = ?`
		args = append(args, q.BrandID)
	}
	if !q.After.IsZero() {
		where += ` AND (start_ms > ? OR (start_ms = ? AND id > ?))`
		args = append(args, q.After.Pos, q.After.Pos, q.After.ID)
	}
	args = append(args, q.Size())
	rows, err := db.query(ctx, `SELECT `+tagColumns+` FROM tags WHERE `+where+` ORDER BY start_ms, id LIMIT ?`, args...)
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
