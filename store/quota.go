package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/shopclip/shopclip"
)

var _ shopclip.UploadQuotas = (*DB)(nil)

// querier is where the usage query runs: the read pool, or a transaction.
type querier func(ctx context.Context, query string, args ...any) *sql.Row

// UploadUsage sums the originals of the account's clips and its live holds,
// and counts its clips and live holds made since l.Day.
func (db *DB) UploadUsage(ctx context.Context, accountID string, l shopclip.UploadLimits) (shopclip.UploadUsage, error) {
	u, err := db.uploadUsage(ctx, func(ctx context.Context, q string, args ...any) *sql.Row {
		return db.queryRow(ctx, q, args...)
	}, accountID, l)
	if err != nil {
		return u, db.fail("upload usage", "Account", err)
	}
	return u, nil
}

func (db *DB) uploadUsage(ctx context.Context, q querier, accountID string, l shopclip.UploadLimits) (shopclip.UploadUsage, error) {
	var u shopclip.UploadUsage
	var clips, holds int
	err := q(ctx, `SELECT
		COALESCE((SELECT SUM(original_size) FROM clips WHERE creator_id = ?), 0),
		(SELECT COUNT(*) FROM clips WHERE creator_id = ? AND created_at >= ?),
		COALESCE((SELECT SUM(size) FROM upload_holds WHERE account_id = ? AND created_at >= ?), 0),
		(SELECT COUNT(*) FROM upload_holds WHERE account_id = ? AND created_at >= ? AND created_at >= ?)`,
		accountID, accountID, db.ts(l.Day), accountID, db.ts(l.HoldsSince), accountID, db.ts(l.HoldsSince), db.ts(l.Day),
	).Scan(&u.StoredBytes, &clips, &u.HeldBytes, &holds)
	u.Uploads = clips + holds
	return u, err
}

// HoldUpload records h when it fits l, in one transaction that first locks
// the account (PostgreSQL: its row; SQLite: the database's write lock), so
// that two holds of one account cannot both fit a room only one fits. Holds
// older than l.HoldsSince are swept on the way.
func (db *DB) HoldUpload(ctx context.Context, h *shopclip.UploadHold, l shopclip.UploadLimits) (shopclip.UploadUsage, bool, error) {
	const op = "hold upload"
	if h.ID == "" || h.AccountID == "" || h.Size < 0 {
		return shopclip.UploadUsage{}, false, invalid(op, "A hold needs an ID, an account and a size of at least 0.")
	}
	var u shopclip.UploadUsage
	fits := false
	err := db.inTx(ctx, op, func(tx txn) error {
		var id string
		lock := `SELECT id FROM accounts WHERE id = ?`
		if db.dialect == Postgres {
			lock += ` FOR UPDATE`
		}
		if err := tx.queryRow(ctx, lock, h.AccountID).Scan(&id); errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "Account")
		} else if err != nil {
			return db.fail(op, "Account", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM upload_holds WHERE account_id = ? AND created_at < ?`,
			h.AccountID, db.ts(l.HoldsSince)); err != nil {
			return db.fail(op, "Account", err)
		}
		var err error
		u, err = db.uploadUsage(ctx, func(ctx context.Context, q string, args ...any) *sql.Row {
			return tx.queryRow(ctx, q, args...)
		}, h.AccountID, l)
		if err != nil {
			return db.fail(op, "Account", err)
		}
		if l.MaxBytes > 0 && u.Bytes()+h.Size > l.MaxBytes || l.MaxUploads > 0 && u.Uploads+1 > l.MaxUploads {
			return nil
		}
		h.CreatedAt = db.now()
		if _, err := tx.exec(ctx, `INSERT INTO upload_holds (id, account_id, size, created_at) VALUES (?, ?, ?, ?)`,
			h.ID, h.AccountID, h.Size, db.ts(h.CreatedAt)); err != nil {
			return db.fail(op, "Upload hold", err)
		}
		fits = true
		return nil
	})
	if err != nil {
		return shopclip.UploadUsage{}, false, err
	}
	return u, fits, nil
}

// ReleaseUpload deletes hold id.
func (db *DB) ReleaseUpload(ctx context.Context, id string) error {
	if _, err := db.exec(ctx, `DELETE FROM upload_holds WHERE id = ?`, id); err != nil {
		return db.fail("release upload", "Upload hold", err)
	}
	return nil
}
