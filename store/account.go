package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/shopclip/shopclip"
)

// CreateAccount records a, which must have an ID and pass a.Validate, and sets
// a.CreatedAt.
func (db *DB) CreateAccount(ctx context.Context, a *shopclip.Account) error {
	const op = "create account"
	if a.ID == "" {
		return invalid(op, "Account ID is required.")
	} else if err := a.Validate(); err != nil {
		return invalid(op, "%s", shopclip.ErrorMessage(err))
	}
	now := db.now()
	if _, err := db.exec(ctx, `INSERT INTO accounts (id, name, role, created_at) VALUES (?, ?, ?, ?)`,
		a.ID, a.Name, string(a.Role), db.ts(now)); err != nil {
		return db.fail(op, "Account", err)
	}
	a.CreatedAt = now
	return nil
}

// Account returns the account with id.
func (db *DB) Account(ctx context.Context, id string) (*shopclip.Account, error) {
	a, err := scanAccount(db.queryRow(ctx, `SELECT id, name, role, created_at FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("account", "Account")
	} else if err != nil {
		return nil, db.fail("account", "Account", err)
	}
	return a, nil
}

// CreateAPIKey records k, which must have an ID, an AccountID and a Hash, and
// sets k.CreatedAt. A set k.RevokedAt is recorded too.
func (db *DB) CreateAPIKey(ctx context.Context, k *shopclip.APIKey) error {
	const op = "create api key"
	switch {
	case k.ID == "":
		return invalid(op, "API key ID is required.")
	case k.AccountID == "":
		return invalid(op, "API key account ID is required.")
	case k.Hash == "":
		return invalid(op, "API key hash is required.")
	}
	now := db.now()
	var revoked any
	if k.RevokedAt != nil {
		t := roundTime(*k.RevokedAt)
		k.RevokedAt = &t
		revoked = db.ts(t)
	}
	if _, err := db.exec(ctx, `INSERT INTO api_keys (id, account_id, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.AccountID, k.Hash, db.ts(now), revoked); err != nil {
		return db.failRefs(ctx, op, "API key", err, ref{"accounts", k.AccountID, "Account"})
	}
	k.CreatedAt = now
	return nil
}

// AccountByKeyHash returns the account owning the unrevoked key whose hash is
// hash. A revoked or unknown key gives ENOTFOUND.
func (db *DB) AccountByKeyHash(ctx context.Context, hash string) (*shopclip.Account, error) {
	a, err := scanAccount(db.queryRow(ctx, `
		SELECT a.id, a.name, a.role, a.created_at
		FROM api_keys k JOIN accounts a ON a.id = k.account_id
		WHERE k.hash = ? AND k.revoked_at IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("account by key", "API key")
	} else if err != nil {
		return nil, db.fail("account by key", "API key", err)
	}
	return a, nil
}

func scanAccount(row *sql.Row) (*shopclip.Account, error) {
	var a shopclip.Account
	var role string
	if err := row.Scan(&a.ID, &a.Name, &role, timeDest{&a.CreatedAt}); err != nil {
		return nil, err
	}
	a.Role = shopclip.Role(role)
	return &a, nil
}
