package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shopclip/shopclip"
)

// Feed and list sizes.
const (
	// MaxListLimit bounds FeedClips and the Discovery lists; paged lists
	// are bounded by shopclip.MaxPageSize.
	MaxListLimit = 100
	// MaxStaleLimit bounds StaleClips.
	MaxStaleLimit = 1000
)

const clipColumns = `id, creator_id, title, status, progress, error_code, error_message,
	duration_ms, width, height, renditions, original_key, original_size, original_sha256,
	generation, output_prefix, has_mp4, has_poster, has_storyboard, share_key, attempts, crashes, attempt_id,
	created_at, updated_at, published_at`

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanClip(row rowScanner) (*shopclip.Clip, error) {
	var (
		c                             shopclip.Clip
		status, code, msg             string
		renditions                    sql.NullString
		width, height, tries, crashes int64
	)
	err := row.Scan(&c.ID, &c.CreatorID, &c.Title, &status, &c.Progress, &code, &msg,
		&c.DurationMS, &width, &height, &renditions, &c.OriginalKey, &c.OriginalSize, &c.OriginalSHA256,
		&c.Generation, &c.OutputPrefix, &c.HasMP4, &c.HasPoster, &c.HasStoryboard, &c.ShareKey, &tries, &crashes, &c.AttemptID,
		timeDest{&c.CreatedAt}, timeDest{&c.UpdatedAt}, nullTimeDest{&c.PublishedAt})
	if err != nil {
		return nil, err
	}
	c.Status = shopclip.ClipStatus(status)
	c.Width, c.Height, c.Attempts, c.Crashes = int(width), int(height), int(tries), int(crashes)
	if code != "" {
		c.Error = &shopclip.Error{Code: code, Message: msg}
	}
	if renditions.Valid && renditions.String != "" && renditions.String != "null" {
		if err := json.Unmarshal([]byte(renditions.String), &c.Renditions); err != nil {
			return nil, fmt.Errorf("clip %s: renditions: %w", c.ID, err)
		}
		if len(c.Renditions) == 0 {
			c.Renditions = nil
		}
	}
	return &c, nil
}

// renditionsArg returns rs as a JSON query argument; none is NULL.
func renditionsArg(rs []shopclip.Rendition) (any, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(rs)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// CreateClip records c, which must have an ID, a CreatorID and an
// OriginalKey, as a fresh upload: status uploaded, no progress, error,
// attempts, owner or publication (those fields of c are reset), and sets
// c.CreatedAt and c.UpdatedAt.
func (db *DB) CreateClip(ctx context.Context, c *shopclip.Clip) error {
	return db.insertClip(ctx, db.exec, "create clip", c)
}

// execer runs a write statement: the DB's, or a transaction's.
type execer func(ctx context.Context, query string, args ...any) (sql.Result, error)

// insertClip is CreateClip with the statement run by exec.
func (db *DB) insertClip(ctx context.Context, exec execer, op string, c *shopclip.Clip) error {
	switch {
	case c.ID == "":
		return invalid(op, "Clip ID is required.")
	case c.CreatorID == "":
		return invalid(op, "Clip creator ID is required.")
	case c.OriginalKey == "":
		return invalid(op, "Clip original key is required.")
	case c.OriginalSize < 0:
		return invalid(op, "Clip original size must not be negative.")
	}
	if err := shopclip.ValidateTitle(c.Title); err != nil {
		return invalid(op, "%s", shopclip.ErrorMessage(err))
	}
	now := db.now()
	_, err := exec(ctx, `INSERT INTO clips (id, creator_id, title, status, original_key, original_size,
		original_sha256, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.CreatorID, c.Title, string(shopclip.ClipUploaded), c.OriginalKey, c.OriginalSize,
		c.OriginalSHA256, db.ts(now), db.ts(now))
	if err != nil {
		return db.failRefs(ctx, op, "Clip", err, ref{"accounts", c.CreatorID, "Creator account"})
	}
	*c = shopclip.Clip{
		ID: c.ID, CreatorID: c.CreatorID, Title: c.Title, Status: shopclip.ClipUploaded,
		OriginalKey: c.OriginalKey, OriginalSize: c.OriginalSize, OriginalSHA256: c.OriginalSHA256,
		CreatedAt: now, UpdatedAt: now,
	}
	return nil
}

// Clip returns the clip with id.
func (db *DB) Clip(ctx context.Context, id string) (*shopclip.Clip, error) {
	c, err := scanClip(db.queryRow(ctx, `SELECT `+clipColumns+` FROM clips WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("clip", "Clip")
	} else if err != nil {
		return nil, db.fail("clip", "Clip", err)
	}
	return c, nil
}

// FeedClips returns up to limit (clamped to 1..MaxListLimit) ready clips
// strictly after the cursor in (PublishedAt, ID) descending order.
func (db *DB) FeedClips(ctx context.Context, after shopclip.FeedCursor, limit int) ([]*shopclip.Clip, error) {
	limit = clampLimit(limit, MaxListLimit)
	if after.IsZero() {
		return db.clips(ctx, "feed", `SELECT `+clipColumns+` FROM clips WHERE status = ?
			ORDER BY published_at DESC, id DESC LIMIT ?`, string(shopclip.ClipReady), limit)
	}
	return db.clips(ctx, "feed", `SELECT `+clipColumns+` FROM clips WHERE status = ?
		AND (published_at < ? OR (published_at = ? AND id < ?))
		ORDER BY published_at DESC, id DESC LIMIT ?`,
		string(shopclip.ClipReady), db.ts(after.PublishedAt), db.ts(after.PublishedAt), after.ID, limit)
}

// CreatorClips returns a page (page.Size() at most) of a creator's clips in
// any status, newest (by CreatedAt, then ID) first, strictly after
// page.After (its At and ID): a keyset seek on the clips_creator index.
func (db *DB) CreatorClips(ctx context.Context, creatorID string, page shopclip.Page) ([]*shopclip.Clip, error) {
	const op = "creator clips"
	if page.After.IsZero() {
		return db.clips(ctx, op, `SELECT `+clipColumns+` FROM clips WHERE creator_id = ?
			ORDER BY created_at DESC, id DESC LIMIT ?`, creatorID, page.Size())
	}
	at := db.ts(page.After.At)
	return db.clips(ctx, op, `SELECT `+clipColumns+` FROM clips WHERE creator_id = ?
		AND (created_at < ? OR (created_at = ? AND id < ?))
		ORDER BY created_at DESC, id DESC LIMIT ?`, creatorID, at, at, page.After.ID, page.Size())
}

// StaleClips returns up to limit (clamped to 1..MaxStaleLimit) clips in one
// of statuses whose UpdatedAt is before before, oldest first. No statuses
// match no clips.
func (db *DB) StaleClips(ctx context.Context, statuses []shopclip.ClipStatus, before time.Time, limit int) ([]*shopclip.Clip, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(statuses)+2)
	for _, s := range statuses {
		if !validClipStatus(s) {
			return nil, invalid("stale clips", "Unknown clip status %q.", s)
		}
		args = append(args, string(s))
	}
	args = append(args, db.ts(before), clampLimit(limit, MaxStaleLimit))
	return db.clips(ctx, "stale clips", `SELECT `+clipColumns+` FROM clips
		WHERE status IN (`+placeholders(len(statuses))+`) AND updated_at < ?
		ORDER BY updated_at, id LIMIT ?`, args...)
}

func validClipStatus(s shopclip.ClipStatus) bool {
	switch s {
	case shopclip.ClipUploaded, shopclip.ClipProcessing, shopclip.ClipReady, shopclip.ClipFailed:
		return true
	}
	return false
}

// clips runs a query listing clips.
func (db *DB) clips(ctx context.Context, op, query string, args ...any) ([]*shopclip.Clip, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, db.fail(op, "Clip", err)
	}
	defer rows.Close()
	var cs []*shopclip.Clip
	for rows.Next() {
		c, err := scanClip(rows)
		if err != nil {
			return nil, db.fail(op, "Clip", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Clip", err)
	}
	return cs, nil
}

// StartClipAttempt makes attemptID the owner of a clip that is uploaded or
// processing, in one compare-and-set: status processing, progress 0, no
// publication (generation, prefix, renditions, dimensions, outputs),
// Attempts+1. It returns the updated clip. A ready or failed clip is returned
// unchanged.
func (db *DB) StartClipAttempt(ctx context.Context, id, attemptID string) (*shopclip.Clip, error) {
	const op = "start clip attempt"
	if attemptID == "" {
		return nil, invalid(op, "Attempt ID is required.")
	}
	now := db.now()
	c, err := scanClip(db.writeRow(ctx, `UPDATE clips SET attempt_id = ?, status = ?, progress = 0,
		generation = '', output_prefix = '', renditions = NULL, duration_ms = 0, width = 0, height = 0,
		has_mp4 = ?, has_poster = ?, has_storyboard = ?, attempts = attempts + 1, updated_at = ?
		WHERE id = ? AND status IN (?, ?)
		RETURNING `+clipColumns,
		attemptID, string(shopclip.ClipProcessing), false, false, false, db.ts(now),
		id, string(shopclip.ClipUploaded), string(shopclip.ClipProcessing)))
	if err == nil {
		return c, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, db.fail(op, "Clip", err)
	}
	// No row changed: the clip is missing or terminal (terminal clips never
	// change again, so reading it now is reading what the update saw).
	c, err = db.Clip(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return c, nil
}

// UpdateClipProgress sets the progress (0..1) of a clip that attemptID owns
// and, when pub is non-nil, the publication it is writing progressively. It
// returns ECONFLICT when attemptID no longer owns the clip.
func (db *DB) UpdateClipProgress(ctx context.Context, id, attemptID string, progress float64, pub *shopclip.Publication) error {
	const op = "update clip progress"
	if math.IsNaN(progress) || progress < 0 || progress > 1 {
		return invalid(op, "Progress must be between 0 and 1, got %v.", progress)
	} else if attemptID == "" {
		return invalid(op, "Attempt ID is required.")
	}
	now := db.now()
	query := `UPDATE clips SET progress = ?, updated_at = ? WHERE id = ? AND attempt_id = ? AND status = ?`
	args := []any{progress, db.ts(now), id, attemptID, string(shopclip.ClipProcessing)}
	if pub != nil {
		if err := validPublication(pub); err != nil {
			return fmt.Errorf("store: %s: %w", op, err)
		}
		rs, err := renditionsArg(pub.Renditions)
		if err != nil {
			return fmt.Errorf("store: %s: %w", op, err)
		}
		query = `UPDATE clips SET progress = ?, updated_at = ?,
			generation = ?, output_prefix = ?, duration_ms = ?, width = ?, height = ?,
			renditions = ?, has_mp4 = ?, has_poster = ?, has_storyboard = ?
			WHERE id = ? AND attempt_id = ? AND status = ?`
		args = []any{progress, db.ts(now), pub.Generation, pub.OutputPrefix, pub.DurationMS, pub.Width, pub.Height,
			rs, pub.HasMP4, pub.HasPoster, pub.HasStoryboard, id, attemptID, string(shopclip.ClipProcessing)}
	}
	res, err := db.exec(ctx, query, args...)
	return db.casResult(ctx, op, id, res, err, nil)
}

// PublishClip makes a clip that attemptID owns ready with pub, which must
// name a Generation and an OutputPrefix, stamping PublishedAt; progress
// becomes 1. It returns ECONFLICT when attemptID no longer owns the clip (a
// newer attempt took over, or the clip is failed or already ready). Repeating
// the PublishClip that made the clip ready (same attempt, same generation)
// succeeds without changing anything, so a retried call is harmless.
func (db *DB) PublishClip(ctx context.Context, id, attemptID string, pub *shopclip.Publication) error {
	const op = "publish clip"
	if attemptID == "" {
		return invalid(op, "Attempt ID is required.")
	} else if pub == nil {
		return invalid(op, "A publication is required.")
	} else if err := validPublication(pub); err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	} else if pub.Generation == "" || pub.OutputPrefix == "" {
		return invalid(op, "A publication needs a generation and an output prefix.")
	}
	rs, err := renditionsArg(pub.Renditions)
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	now := db.now()
	res, err := db.exec(ctx, `UPDATE clips SET status = ?, progress = 1, published_at = ?, updated_at = ?,
		generation = ?, output_prefix = ?, duration_ms = ?, width = ?, height = ?,
		renditions = ?, has_mp4 = ?, has_poster = ?, has_storyboard = ?
		WHERE id = ? AND attempt_id = ? AND status = ?`,
		string(shopclip.ClipReady), db.ts(now), db.ts(now),
		pub.Generation, pub.OutputPrefix, pub.DurationMS, pub.Width, pub.Height,
		rs, pub.HasMP4, pub.HasPoster, pub.HasStoryboard, id, attemptID, string(shopclip.ClipProcessing))
	return db.casResult(ctx, op, id, res, err, func(c *shopclip.Clip) bool {
		return c.Status == shopclip.ClipReady && c.AttemptID == attemptID && c.Generation == pub.Generation
	})
}

// FailClip ends a clip that attemptID owns in status failed with e, which
// must have a Code. It returns ECONFLICT when attemptID no longer owns the
// clip. Repeating the FailClip that failed the clip (same attempt, same code)
// succeeds without changing anything.
func (db *DB) FailClip(ctx context.Context, id, attemptID string, e *shopclip.Error) error {
	const op = "fail clip"
	if attemptID == "" {
		return invalid(op, "Attempt ID is required.")
	} else if e == nil || e.Code == "" {
		return invalid(op, "A failure needs an error code.")
	}
	now := db.now()
	res, err := db.exec(ctx, `UPDATE clips SET status = ?, error_code = ?, error_message = ?, updated_at = ?
		WHERE id = ? AND attempt_id = ? AND status = ?`,
		string(shopclip.ClipFailed), e.Code, e.Message, db.ts(now), id, attemptID, string(shopclip.ClipProcessing))
	return db.casResult(ctx, op, id, res, err, func(c *shopclip.Clip) bool {
		return c.Status == shopclip.ClipFailed && c.AttemptID == attemptID && c.Error != nil && c.Error.Code == e.Code
	})
}

// RecordClipCrash counts one crash of the transcoder on a clip that
// attemptID owns and returns the clip's crash count. It returns ECONFLICT
// when attemptID no longer owns the clip.
func (db *DB) RecordClipCrash(ctx context.Context, id, attemptID string) (int, error) {
	const op = "record clip crash"
	if attemptID == "" {
		return 0, invalid(op, "Attempt ID is required.")
	}
	var n int64
	err := db.writeRow(ctx, `UPDATE clips SET crashes = crashes + 1, updated_at = ?
		WHERE id = ? AND attempt_id = ? AND status = ? RETURNING crashes`,
		db.ts(db.now()), id, attemptID, string(shopclip.ClipProcessing)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, db.casResult(ctx, op, id, nil, errNoRowsChanged, nil)
	} else if err != nil {
		return 0, db.fail(op, "Clip", err)
	}
	return int(n), nil
}

// errNoRowsChanged stands for an UPDATE … RETURNING that matched no row.
var errNoRowsChanged = errors.New("no rows changed")

// casResult finishes a compare-and-set update of clip id: nil when a row
// changed; otherwise ENOTFOUND when the clip is missing, nil when done says
// the clip already is in the state the update wanted, ECONFLICT else.
func (db *DB) casResult(ctx context.Context, op, id string, res sql.Result, err error, done func(*shopclip.Clip) bool) error {
	if err == errNoRowsChanged {
		// fall through to the diagnosis below
	} else if err != nil {
		return db.fail(op, "Clip", err)
	} else if n, err := res.RowsAffected(); err != nil {
		return db.fail(op, "Clip", err)
	} else if n > 0 {
		return nil
	}
	c, err := db.Clip(ctx, id)
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if done != nil && done(c) {
		return nil
	}
	return fmt.Errorf("store: %s: %w", op, shopclip.Errorf(shopclip.ECONFLICT,
		"Clip %s is %s and not owned by this attempt; a newer attempt may have taken over.", id, c.Status))
}

func validPublication(p *shopclip.Publication) error {
	if p.DurationMS < 0 || p.Width < 0 || p.Height < 0 {
		return shopclip.Errorf(shopclip.EINVALID, "Duration and dimensions must not be negative.")
	}
	return nil
}

// SetClipShare records the blob key of a clip's current share MP4 ("" for
// none). It does not change UpdatedAt: the share follows prices, not the
// clip's processing.
func (db *DB) SetClipShare(ctx context.Context, id, key string) error {
	res, err := db.exec(ctx, `UPDATE clips SET share_key = ? WHERE id = ?`, key, id)
	return db.oneRow("set clip share", "Clip", res, err)
}

// DeleteClip removes a clip and its tags.
func (db *DB) DeleteClip(ctx context.Context, id string) error {
	const op = "delete clip"
	res, err := db.exec(ctx, `DELETE FROM clips WHERE id = ?`, id)
	if err != nil {
		return db.fail(op, "Clip", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return db.fail(op, "Clip", err)
	} else if n == 0 {
		return notFound(op, "Clip")
	}
	return nil
}
