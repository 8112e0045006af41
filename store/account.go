package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/shopclip/shopclip"
)

// accountColumns are the columns scanAccount reads.
const accountColumns = `id, name, role, created_at, disabled_at`

// CreateAccount records a, which must have an ID and pass a.Validate, and sets
// a.CreatedAt. A set a.Disabled is recorded too (disabled from now).
func (db *DB) CreateAccount(ctx context.Context, a *shopclip.Account) error {
	const op = "create account"
	if err := validAccount(op, a); err != nil {
		return err
	}
	now := db.now()
	if err := db.insertAccount(ctx, db.exec, a, now); err != nil {
		return db.fail(op, "Account", err)
	}
	a.CreatedAt = now
	return nil
}

// validAccount reports whether a may be created.
func validAccount(op string, a *shopclip.Account) error {
	if a.ID == "" {
		return invalid(op, "Account ID is required.")
	} else if err := a.Validate(); err != nil {
		return invalid(op, "%s", shopclip.ErrorMessage(err))
	}
	return nil
}

// insertAccount inserts a, created at now, with exec (db.exec, or a
// transaction's).
func (db *DB) insertAccount(ctx context.Context, exec execFunc, a *shopclip.Account, now time.Time) error {
	var disabled any
	if a.Disabled {
		disabled = db.ts(now)
	}
	_, err := exec(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.Name, string(a.Role), db.ts(now), disabled)
	return err
}

// execFunc runs a write statement: DB.exec, or txn.exec inside a
// transaction.
type execFunc func(ctx context.Context, query string, args ...any) (sql.Result, error)

// Account returns the account with id, disabled or not.
func (db *DB) Account(ctx context.Context, id string) (*shopclip.Account, error) {
	a, err := scanAccount(db.queryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("account", "Account")
	} else if err != nil {
		return nil, db.fail("account", "Account", err)
	}
	return a, nil
}

// CreateAPIKey records k, which must have an ID, an AccountID and a Hash, and
// a Name of at most shopclip.MaxKeyNameLen bytes, and sets k.CreatedAt. A set
// k.RevokedAt is recorded too.
func (db *DB) CreateAPIKey(ctx context.Context, k *shopclip.APIKey) error {
	const op = "create api key"
	switch {
	case k.ID == "":
		return invalid(op, "API key ID is required.")
	case k.AccountID == "":
		return invalid(op, "API key account ID is required.")
	case k.Hash == "":
		return invalid(op, "API key hash is required.")
	case len(k.Name) > shopclip.MaxKeyNameLen:
		return invalid(op, "API key name must be at most %d bytes.", shopclip.MaxKeyNameLen)
	}
	now := db.now()
	var revoked any
	if k.RevokedAt != nil {
		t := roundTime(*k.RevokedAt)
		k.RevokedAt = &t
		revoked = db.ts(t)
	}
	if _, err := db.exec(ctx, `INSERT INTO api_keys (id, account_id, name, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.AccountID, k.Name, k.Hash, db.ts(now), revoked); err != nil {
		return db.failRefs(ctx, op, "API key", err, ref{"accounts", k.AccountID, "Account"})
	}
	k.CreatedAt = now
	return nil
}

// AccountByKeyHash returns the account owning the unrevoked key whose hash is
// hash. A revoked or unknown key, or a disabled account, gives ENOTFOUND.
func (db *DB) AccountByKeyHash(ctx context.Context, hash string) (*shopclip.Account, error) {
	a, err := scanAccount(db.queryRow(ctx, `
		SELECT a.id, a.name, a.role, a.created_at, a.disabled_at
		FROM api_keys k JOIN accounts a ON a.id = k.account_id
		WHERE k.hash = ? AND k.revoked_at IS NULL AND a.disabled_at IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("account by key", "API key")
	} else if err != nil {
		return nil, db.fail("account by key", "API key", err)
	}
	return a, nil
}

// scanAccount reads the accountColumns of a row.
func scanAccount(row rowScanner) (*shopclip.Account, error) {
	var a shopclip.Account
	var role string
	var disabled *time.Time
	if err := row.Scan(&a.ID, &a.Name, &role, timeDest{&a.CreatedAt}, nullTimeDest{&disabled}); err != nil {
		return nil, err
	}
	a.Role = shopclip.Role(role)
	a.Disabled = disabled != nil
	return &a, nil
}
