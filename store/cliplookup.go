package store

import (
	"context"
	"strings"

	"github.com/shopclip/shopclip"
)

var _ shopclip.ClipLookup = (*DB)(nil)

// ClipRefs implements shopclip.ClipLookup with one query by primary key.
func (db *DB) ClipRefs(ctx context.Context, ids []string) (map[string]shopclip.ClipRef, error) {
	const op = "clip refs"
	if len(ids) > shopclip.MaxClipLookup {
		return nil, invalid(op, "At most %d clip IDs at once, got %d.", shopclip.MaxClipLookup, len(ids))
	}
	refs := map[string]shopclip.ClipRef{}
	args := make([]any, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		if shopclip.ValidID(shopclip.PrefixClip, id) && !seen[id] {
			seen[id] = true
			args = append(args, id)
		}
	}
	if len(args) == 0 {
		return refs, nil
	}
	rows, err := db.query(ctx, `SELECT id, status, original_key, generation, attempt_id, share_key, updated_at
		FROM clips WHERE id IN (?`+strings.Repeat(", ?", len(args)-1)+`)`, args...)
	if err != nil {
		return nil, db.fail(op, "Clip", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, status string
			r          shopclip.ClipRef
		)
		if err := rows.Scan(&id, &status, &r.OriginalKey, &r.Generation, &r.AttemptID, &r.ShareKey, timeDest{&r.UpdatedAt}); err != nil {
			return nil, db.fail(op, "Clip", err)
		}
		r.Status = shopclip.ClipStatus(status)
		refs[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Clip", err)
	}
	return refs, nil
}
