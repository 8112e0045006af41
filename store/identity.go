package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopclip/shopclip"
)

// Interface checks.
var _ shopclip.Identity = (*DB)(nil)

// Emails: the store keeps them as shopclip.NormalizeEmail makes them, and
// normalizes what it is given (idempotent for callers that did already), so
// that two spellings of one address cannot hold two logins. A taken email is
// ECONFLICT.

const (
	loginColumns   = `account_id, email, password_hash, updated_at`
	sessionColumns = `id, account_id, hash, created_at, last_seen_at, expires_at, user_agent, ip`
	keyColumns     = `id, account_id, name, hash, created_at, revoked_at`
	inviteColumns  = `id, hash, role, email, created_at, expires_at, used_at`
)

// CreateAccountLogin records a (see CreateAccount) and its login l in one
// transaction, and sets a.CreatedAt, l.AccountID (it must be empty or a.ID),
// l.Email (normalized) and l.UpdatedAt.
//
// With a non-empty inviteHash the same transaction uses the invitation: it
// must be unused and unexpired at now (else ENOTFOUND), and it must admit the
// account: its role must be a.Role and, when it names an email, that must be
// l.Email (else EINVALID). Two sign-ups with one invitation never both
// succeed. On any error nothing is recorded. A taken email or account ID is
// ECONFLICT.
func (db *DB) CreateAccountLogin(ctx context.Context, a *shopclip.Account, l *shopclip.Login, inviteHash string, now time.Time) error {
	const op = "create account login"
	if err := validAccount(op, a); err != nil {
		return err
	}
	if l.AccountID != "" && l.AccountID != a.ID {
		return invalid(op, "The login belongs to account %s, not %s.", l.AccountID, a.ID)
	}
	email, err := validLogin(op, l)
	if err != nil {
		return err
	}
	at := db.now()
	err = db.inTx(ctx, op, func(tx txn) error {
		// The account first: the invitation refers to it.
		if err := db.insertAccount(ctx, tx.exec, a, at); err != nil {
			return db.fail(op, "Account", err)
		}
		if inviteHash != "" {
			if err := tx.useInvite(ctx, op, inviteHash, a, email, now, at); err != nil {
				return err
			}
		}
		_, err := tx.exec(ctx, `INSERT INTO logins (`+loginColumns+`) VALUES (?, ?, ?, ?)`,
			a.ID, email, l.PasswordHash, db.ts(at))
		return db.failLogin(op, err)
	})
	if err != nil {
		return err
	}
	a.CreatedAt = at
	l.AccountID, l.Email, l.UpdatedAt = a.ID, email, at
	return nil
}

// useInvite marks the invitation hashing to hash used at at by account a,
// whose login email is email, when it is unused and unexpired at now and
// admits a.
func (tx txn) useInvite(ctx context.Context, op, hash string, a *shopclip.Account, email string, now, at time.Time) error {
	db := tx.db
	// One conditional UPDATE decides: on PostgreSQL a concurrent sign-up
	// with the same invitation waits for this transaction's row lock, then
	// re-evaluates the WHERE clause against the committed row and matches
	// nothing; on SQLite writers are serialized.
	res, err := tx.exec(ctx, `UPDATE invites SET used_at = ?, used_by = ?
		WHERE hash = ? AND used_at IS NULL AND expires_at > ? AND role = ? AND (email = '' OR email = ?)`,
		db.ts(at), a.ID, hash, db.ts(now), string(a.Role), email)
	if err != nil {
		return db.fail(op, "Invitation", err)
	} else if n, err := res.RowsAffected(); err != nil {
		return db.fail(op, "Invitation", err)
	} else if n == 1 {
		return nil
	}
	// Why not: an invitation that is there to be used but does not admit
	// this account is the caller's mistake, not a missing invitation.
	var role, invEmail string
	err = tx.queryRow(ctx, `SELECT role, email FROM invites WHERE hash = ? AND used_at IS NULL AND expires_at > ?`,
		hash, db.ts(now)).Scan(&role, &invEmail)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound(op, "Invitation")
	case err != nil:
		return db.fail(op, "Invitation", err)
	case role != string(a.Role):
		return invalid(op, "The invitation is for a %s account, not a %s one.", role, a.Role)
	default:
		return invalid(op, "The invitation is for another email address.")
	}
}

// validLogin checks l's email and password hash, and returns the email
// normalized.
func validLogin(op string, l *shopclip.Login) (string, error) {
	email, err := shopclip.NormalizeEmail(l.Email)
	if err != nil {
		return "", invalid(op, "%s", shopclip.ErrorMessage(err))
	} else if l.PasswordHash == "" {
		return "", invalid(op, "A password hash is required.")
	}
	return email, nil
}

// failLogin maps an error writing a login: a unique violation is the email
// (the account's own login is replaced, never duplicated).
func (db *DB) failLogin(op string, err error) error {
	if err == nil {
		return nil
	} else if classify(err) == classUnique {
		return fmt.Errorf("store: %s: %w: %w", op,
			shopclip.Errorf(shopclip.ECONFLICT, "That email address belongs to another account."), err)
	}
	return db.fail(op, "Login", err)
}

// LoginByEmail returns the login with email, normalized first; an email
// that is not an address has no login (ENOTFOUND). Logins of disabled
// accounts are found too.
func (db *DB) LoginByEmail(ctx context.Context, email string) (*shopclip.Login, error) {
	const op = "login by email"
	e, err := shopclip.NormalizeEmail(email)
	if err != nil {
		return nil, notFound(op, "Login")
	}
	return db.login(ctx, op, `SELECT `+loginColumns+` FROM logins WHERE email = ?`, e)
}

// LoginOf returns an account's login, or ENOTFOUND when it has none.
func (db *DB) LoginOf(ctx context.Context, accountID string) (*shopclip.Login, error) {
	return db.login(ctx, "login of account", `SELECT `+loginColumns+` FROM logins WHERE account_id = ?`, accountID)
}

func (db *DB) login(ctx context.Context, op, query string, args ...any) (*shopclip.Login, error) {
	var l shopclip.Login
	err := db.queryRow(ctx, query, args...).Scan(&l.AccountID, &l.Email, &l.PasswordHash, timeDest{&l.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "Login")
	} else if err != nil {
		return nil, db.fail(op, "Login", err)
	}
	return &l, nil
}

// SetLogin sets the email (normalized) and password hash of account
// l.AccountID, creating its login when it has none, and sets l.Email and
// l.UpdatedAt. A taken email is ECONFLICT; an unknown account ENOTFOUND.
func (db *DB) SetLogin(ctx context.Context, l *shopclip.Login) error {
	const op = "set login"
	if l.AccountID == "" {
		return invalid(op, "Login account ID is required.")
	}
	email, err := validLogin(op, l)
	if err != nil {
		return err
	}
	now := db.now()
	_, err = db.exec(ctx, `INSERT INTO logins (`+loginColumns+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET email = excluded.email,
			password_hash = excluded.password_hash, updated_at = excluded.updated_at`,
		l.AccountID, email, l.PasswordHash, db.ts(now))
	if err != nil {
		if classify(err) == classForeignKey {
			return db.failRefs(ctx, op, "Login", err, ref{"accounts", l.AccountID, "Account"})
		}
		return db.failLogin(op, err)
	}
	l.Email, l.UpdatedAt = email, now
	return nil
}

// SetAccountDisabled disables or enables an account (ENOTFOUND when there is
// none). Disabling deletes its sessions in the same transaction and keeps
// the time of the first disabling; its API keys are kept, and work again
// once it is enabled.
func (db *DB) SetAccountDisabled(ctx context.Context, accountID string, disabled bool) error {
	const op = "set account disabled"
	now := db.now()
	return db.inTx(ctx, op, func(tx txn) error {
		var res sql.Result
		var err error
		if disabled {
			res, err = tx.exec(ctx, `UPDATE accounts SET disabled_at = coalesce(disabled_at, ?) WHERE id = ?`, db.ts(now), accountID)
		} else {
			res, err = tx.exec(ctx, `UPDATE accounts SET disabled_at = NULL WHERE id = ?`, accountID)
		}
		if err := db.oneRow(op, "Account", res, err); err != nil || !disabled {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE account_id = ?`, accountID); err != nil {
			return db.fail(op, "Session", err)
		}
		return nil
	})
}

// CreateSession records s, which must have an ID, an AccountID and a Hash.
// Its times are the caller's, stored (and set) in UTC rounded to
// microseconds; zero ones default to the store's clock (CreatedAt), CreatedAt
// (LastSeenAt) and CreatedAt plus shopclip.SessionLifetime (ExpiresAt). The
// account must exist and not be disabled (else ENOTFOUND): a sign-in racing
// a disabling leaves no session behind.
func (db *DB) CreateSession(ctx context.Context, s *shopclip.Session) error {
	const op = "create session"
	switch {
	case s.ID == "":
		return invalid(op, "Session ID is required.")
	case s.AccountID == "":
		return invalid(op, "Session account ID is required.")
	case s.Hash == "":
		return invalid(op, "Session hash is required.")
	}
	created, seen, expires := roundTime(s.CreatedAt), roundTime(s.LastSeenAt), roundTime(s.ExpiresAt)
	if s.CreatedAt.IsZero() {
		created = db.now()
	}
	if s.LastSeenAt.IsZero() {
		seen = created
	}
	if s.ExpiresAt.IsZero() {
		expires = created.Add(shopclip.SessionLifetime)
	}
	lock := ""
	if db.dialect == Postgres {
		// Waits for a concurrent SetAccountDisabled to commit (and makes it
		// wait for this insert, so that it deletes the new session). SQLite
		// serializes writers anyway.
		lock = " FOR UPDATE"
	}
	err := db.inTx(ctx, op, func(tx txn) error {
		var disabled *time.Time
		err := tx.queryRow(ctx, `SELECT disabled_at FROM accounts WHERE id = ?`+lock, s.AccountID).Scan(nullTimeDest{&disabled})
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return notFound(op, "Account")
		case err != nil:
			return db.fail(op, "Session", err)
		case disabled != nil:
			return fmt.Errorf("store: %s: %w", op, shopclip.Errorf(shopclip.ENOTFOUND, "Account %s is disabled.", s.AccountID))
		}
		_, err = tx.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			s.ID, s.AccountID, s.Hash, db.ts(created), db.ts(seen), db.ts(expires), s.UserAgent, s.IP)
		if err != nil {
			return db.fail(op, "Session", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = created, seen, expires
	return nil
}

// liveSession is the condition on sessions s (and accounts a) that makes a
// session live at a time: its two arguments are that time and that time less
// shopclip.SessionIdle (see DB.liveArgs).
const liveSession = `s.expires_at > ? AND s.last_seen_at > ?`

// liveArgs returns the arguments of liveSession for now.
func (db *DB) liveArgs(now time.Time) []any {
	return []any{db.ts(now), db.ts(now.Add(-shopclip.SessionIdle))}
}

// SessionByHash returns the session whose hash is hash, with its account,
// when it is live at now (now < ExpiresAt and now < LastSeenAt +
// shopclip.SessionIdle, as Session.Live) and the account is not disabled;
// else ENOTFOUND.
func (db *DB) SessionByHash(ctx context.Context, hash string, now time.Time) (*shopclip.Session, *shopclip.Account, error) {
	const op = "session by hash"
	args := append([]any{hash}, db.liveArgs(now)...)
	row := db.queryRow(ctx, `SELECT s.id, s.account_id, s.hash, s.created_at, s.last_seen_at, s.expires_at, s.user_agent, s.ip,
			a.id, a.name, a.role, a.created_at, a.disabled_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id
		WHERE s.hash = ? AND `+liveSession+` AND a.disabled_at IS NULL`, args...)
	var s shopclip.Session
	var a shopclip.Account
	var role string
	var disabled *time.Time
	err := row.Scan(&s.ID, &s.AccountID, &s.Hash, timeDest{&s.CreatedAt}, timeDest{&s.LastSeenAt}, timeDest{&s.ExpiresAt},
		&s.UserAgent, &s.IP, &a.ID, &a.Name, &role, timeDest{&a.CreatedAt}, nullTimeDest{&disabled})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound(op, "Session")
	} else if err != nil {
		return nil, nil, db.fail(op, "Session", err)
	}
	a.Role, a.Disabled = shopclip.Role(role), disabled != nil
	return &s, &a, nil
}

// TouchSession records that session id was used at at: its LastSeenAt
// becomes at unless it is later already (concurrent requests may touch out of
// order; a session's idle time never moves backwards). An unknown session is
// ENOTFOUND, so that a caller touching a session deleted meanwhile learns
// it is gone. It does not check liveness: callers touch a session
// SessionByHash has just returned.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	t := db.ts(at)
	res, err := db.exec(ctx, `UPDATE sessions SET last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END
		WHERE id = ?`, t, t, id)
	return db.oneRow("touch session", "Session", res, err)
}

// AccountSessions lists an account's sessions live at now, the most recently
// seen first (then by ID, descending). The result is never nil.
func (db *DB) AccountSessions(ctx context.Context, accountID string, now time.Time) ([]*shopclip.Session, error) {
	const op = "account sessions"
	args := append([]any{accountID}, db.liveArgs(now)...)
	rows, err := db.query(ctx, `SELECT `+sessionColumns+` FROM sessions s
		WHERE account_id = ? AND `+liveSession+` ORDER BY last_seen_at DESC, id DESC`, args...)
	if err != nil {
		return nil, db.fail(op, "Session", err)
	}
	defer rows.Close()
	out := []*shopclip.Session{}
	for rows.Next() {
		var s shopclip.Session
		if err := rows.Scan(&s.ID, &s.AccountID, &s.Hash, timeDest{&s.CreatedAt}, timeDest{&s.LastSeenAt},
			timeDest{&s.ExpiresAt}, &s.UserAgent, &s.IP); err != nil {
			return nil, db.fail(op, "Session", err)
		}
		out = append(out, &s)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Session", err)
	}
	return out, nil
}

// DeleteSession deletes session id of the account; ENOTFOUND when the
// account has no such session (another account's session is left alone).
func (db *DB) DeleteSession(ctx context.Context, accountID, id string) error {
	res, err := db.exec(ctx, `DELETE FROM sessions WHERE id = ? AND account_id = ?`, id, accountID)
	return db.oneRow("delete session", "Session", res, err)
}

// DeleteAccountSessions deletes every session of an account but except
// (none when empty). An account without sessions is no error.
func (db *DB) DeleteAccountSessions(ctx context.Context, accountID, except string) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE account_id = ? AND id <> ?`, accountID, except); err != nil {
		return db.fail("delete account sessions", "Session", err)
	}
	return nil
}

// AccountAPIKeys lists an account's keys, revoked ones too, newest first
// (then by ID, descending). The result is never nil.
func (db *DB) AccountAPIKeys(ctx context.Context, accountID string) ([]*shopclip.APIKey, error) {
	const op = "account api keys"
	rows, err := db.query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE account_id = ?
		ORDER BY created_at DESC, id DESC`, accountID)
	if err != nil {
		return nil, db.fail(op, "API key", err)
	}
	defer rows.Close()
	out := []*shopclip.APIKey{}
	for rows.Next() {
		var k shopclip.APIKey
		if err := rows.Scan(&k.ID, &k.AccountID, &k.Name, &k.Hash, timeDest{&k.CreatedAt}, nullTimeDest{&k.RevokedAt}); err != nil {
			return nil, db.fail(op, "API key", err)
		}
		out = append(out, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "API key", err)
	}
	return out, nil
}

// RevokeAPIKey revokes key id of the account at at; ENOTFOUND when the
// account has no such key. Revoking a revoked key keeps its first revocation
// time.
func (db *DB) RevokeAPIKey(ctx context.Context, accountID, id string, at time.Time) error {
	res, err := db.exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND account_id = ?`,
		db.ts(at), id, accountID)
	return db.oneRow("revoke api key", "API key", res, err)
}

// CreateInvite records inv, which must have an ID, a Hash and a valid Role,
// and sets inv.CreatedAt; inv.Email, when set, is normalized (EINVALID when
// it is not an address). A zero inv.ExpiresAt defaults to CreatedAt plus
// shopclip.InviteLifetime; times are stored (and set) in UTC rounded to
// microseconds. A set inv.UsedAt is recorded too (used by no account).
func (db *DB) CreateInvite(ctx context.Context, inv *shopclip.Invite) error {
	const op = "create invite"
	switch {
	case inv.ID == "":
		return invalid(op, "Invitation ID is required.")
	case inv.Hash == "":
		return invalid(op, "Invitation hash is required.")
	case !inv.Role.Valid():
		return invalid(op, "Role must be creator, brand or admin, not %q.", inv.Role)
	}
	email := inv.Email
	if email != "" {
		var err error
		if email, err = shopclip.NormalizeEmail(email); err != nil {
			return invalid(op, "%s", shopclip.ErrorMessage(err))
		}
	}
	now := db.now()
	expires := roundTime(inv.ExpiresAt)
	if inv.ExpiresAt.IsZero() {
		expires = now.Add(shopclip.InviteLifetime)
	}
	var used *time.Time
	if inv.UsedAt != nil {
		t := roundTime(*inv.UsedAt)
		used = &t
	}
	if _, err := db.exec(ctx, `INSERT INTO invites (`+inviteColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		inv.ID, inv.Hash, string(inv.Role), email, db.ts(now), db.ts(expires), db.tsPtr(used)); err != nil {
		return db.fail(op, "Invitation", err)
	}
	inv.Email, inv.CreatedAt, inv.ExpiresAt, inv.UsedAt = email, now, expires, used
	return nil
}

// InviteByHash returns the invitation whose hash is hash when it is unused
// and unexpired at now (now < ExpiresAt); else ENOTFOUND.
func (db *DB) InviteByHash(ctx context.Context, hash string, now time.Time) (*shopclip.Invite, error) {
	const op = "invite by hash"
	var inv shopclip.Invite
	var role string
	err := db.queryRow(ctx, `SELECT `+inviteColumns+` FROM invites WHERE hash = ? AND used_at IS NULL AND expires_at > ?`,
		hash, db.ts(now)).Scan(&inv.ID, &inv.Hash, &role, &inv.Email, timeDest{&inv.CreatedAt}, timeDest{&inv.ExpiresAt},
		nullTimeDest{&inv.UsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "Invitation")
	} else if err != nil {
		return nil, db.fail(op, "Invitation", err)
	}
	inv.Role = shopclip.Role(role)
	return &inv, nil
}

// ---- transactions ------------------------------------------------------------

// txn is a transaction on the writer, speaking its DB's dialect. Everything
// inside a transaction must go through it: on SQLite the writer is a single
// connection, which the transaction holds.
type txn struct {
	db *DB
	tx *sql.Tx
}

// exec runs a write statement in the transaction.
func (tx txn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.db.q(query), args...)
}

// queryRow runs a statement returning at most one row in the transaction.
func (tx txn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.db.q(query), args...)
}

// inTx runs fn in a transaction (on SQLite BEGIN IMMEDIATE: it takes the
// write lock first) and commits it when fn returns nil; otherwise it rolls
// it back and returns fn's error.
func (db *DB) inTx(ctx context.Context, op string, fn func(tx txn) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.fail(op, "", err)
	}
	if err := fn(txn{db: db, tx: tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return db.fail(op, "", err)
	}
	return nil
}
