package store

import (
	"context"

	"github.com/shopclip/shopclip"
)

var _ shopclip.Reprocessing = (*DB)(nil)

// ReprocessClip puts a failed clip back in status uploaded, as a new
// upload, in one compare-and-set on its status.
func (db *DB) ReprocessClip(ctx context.Context, id string) (*shopclip.Clip, error) {
	const op = "reprocess clip"
	res, err := db.exec(ctx, `UPDATE clips SET status = ?, progress = 0, error_code = '', error_message = '',
		attempts = 0, crashes = 0, attempt_id = '', updated_at = ?
		WHERE id = ? AND status = ?`,
		string(shopclip.ClipUploaded), db.ts(db.now()), id, string(shopclip.ClipFailed))
	if err != nil {
		return nil, db.fail(op, "Clip", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, db.fail(op, "Clip", err)
	} else if n == 0 {
		c, err := db.Clip(ctx, id)
		if err != nil {
			return nil, err
		}
		return nil, shopclip.Errorf(shopclip.ECONFLICT, "Only a failed clip can be processed again; this one is %s.", c.Status)
	}
	return db.Clip(ctx, id)
}
