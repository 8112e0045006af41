package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/shopclip/shopclip"
)

var _ shopclip.Idempotency = (*DB)(nil)

// CreateClipOnce records c under the creator's Idempotency-Key, or finds
// the clip an earlier request with the key made. The clip and its key are
// inserted in one transaction; a key already taken (by an earlier request,
// or one racing this) rolls the new clip back.
func (db *DB) CreateClipOnce(ctx context.Context, c *shopclip.Clip, key string) (*shopclip.Clip, bool, error) {
	const op = "create clip once"
	if !shopclip.ValidIdempotencyKey(key) {
		return nil, false, invalid(op, "The idempotency key must be 1 to %d printable ASCII characters.", shopclip.MaxIdempotencyKeyLen)
	}
	if first, err := db.ClipByIdempotencyKey(ctx, c.CreatorID, key); err == nil {
		return first, false, nil
	} else if shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		return nil, false, err
	}
	taken := false
	err := db.inTx(ctx, op, func(tx txn) error {
		if err := db.insertClip(ctx, tx.exec, op, c); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `INSERT INTO clip_requests (creator_id, idempotency_key, clip_id, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, c.CreatorID, key, c.ID, db.ts(c.CreatedAt))
		if err != nil {
			return db.fail(op, "Clip", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return db.fail(op, "Clip", err)
		} else if n == 0 {
			taken = true
			return errKeyTaken
		}
		return nil
	})
	if taken {
		first, err := db.ClipByIdempotencyKey(ctx, c.CreatorID, key)
		return first, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// errKeyTaken rolls back a clip whose idempotency key another request has.
var errKeyTaken = errors.New("store: idempotency key taken")

// ClipByIdempotencyKey returns the clip a creator made with key.
func (db *DB) ClipByIdempotencyKey(ctx context.Context, creatorID, key string) (*shopclip.Clip, error) {
	c, err := scanClip(db.queryRow(ctx, `SELECT `+clipColumns+` FROM clips WHERE id =
		(SELECT clip_id FROM clip_requests WHERE creator_id = ? AND idempotency_key = ?)`, creatorID, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("clip by idempotency key", "Clip")
	} else if err != nil {
		return nil, db.fail("clip by idempotency key", "Clip", err)
	}
	return c, nil
}
