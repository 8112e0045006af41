package shopclip

import (
	"context"
	"crypto/rand"
	"strings"
	"time"
	"unicode/utf8"
)

// Identity keeps what accounts sign in with, beyond the API keys Store
// creates: password logins, browser sessions, the listing and revoking of
// keys, invitations and disabled accounts. One implementation (package
// store) serves SQLite and PostgreSQL; store/storetest.RunIdentity holds
// both to this contract.
//
// A disabled account signs in no more: its sessions and keys stop working
// (SessionByHash and Store.AccountByKeyHash find nothing for it).
type Identity interface {
	// CreateAccountLogin records a (which must have an ID) and its password
	// login l in one transaction. With a non-empty inviteHash it also uses
	// that invitation, which must be unused and unexpired at now (else
	// ENOTFOUND, and nothing is recorded), and whose role, and email when it
	// names one, must be a's and l's (else EINVALID). A taken email is
	// ECONFLICT. The store normalizes emails (NormalizeEmail) on every write
	// and lookup.
	CreateAccountLogin(ctx context.Context, a *Account, l *Login, inviteHash string, now time.Time) error
	// LoginByEmail returns the login with email (as NormalizeEmail makes
	// it), or ENOTFOUND.
	LoginByEmail(ctx context.Context, email string) (*Login, error)
	// LoginOf returns an account's login, or ENOTFOUND when it has none
	// (an account made on the command line without an email).
	LoginOf(ctx context.Context, accountID string) (*Login, error)
	// SetLogin sets an account's email and password hash, creating its
	// login when it has none. A taken email is ECONFLICT.
	SetLogin(ctx context.Context, l *Login) error
	// SetAccountDisabled disables or enables an account (ENOTFOUND when
	// there is none); disabling also deletes its sessions.
	SetAccountDisabled(ctx context.Context, accountID string, disabled bool) error

	// CreateSession records s, which must have an ID, an AccountID and a
	// Hash (zero times default to now, ExpiresAt to SessionLifetime on). A
	// disabled or unknown account gets none: ENOTFOUND.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByHash returns the session whose token hashes to hash, with its
	// account, when it is live at now (before ExpiresAt, and seen within
	// SessionIdle) and its account is not disabled; else ENOTFOUND.
	SessionByHash(ctx context.Context, hash string, now time.Time) (*Session, *Account, error)
	// TouchSession records that session id was used at at (ENOTFOUND when it
	// has ended); LastSeenAt never moves back.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// AccountSessions lists an account's sessions live at now, the most
	// recently seen first.
	AccountSessions(ctx context.Context, accountID string, now time.Time) ([]*Session, error)
	// DeleteSession ends session id of the account (ENOTFOUND when the
	// account has no such session).
	DeleteSession(ctx context.Context, accountID, id string) error
	// DeleteAccountSessions ends every session of an account but except
	// (none when empty).
	DeleteAccountSessions(ctx context.Context, accountID, except string) error

	// AccountAPIKeys lists an account's keys, revoked ones too, newest
	// first.
	AccountAPIKeys(ctx context.Context, accountID string) ([]*APIKey, error)
	// RevokeAPIKey revokes key id of the account at at (ENOTFOUND when the
	// account has no such key; revoking a revoked key changes nothing).
	RevokeAPIKey(ctx context.Context, accountID, id string, at time.Time) error

	// CreateInvite records inv, which must have an ID, a Hash and a Role.
	CreateInvite(ctx context.Context, inv *Invite) error
	// InviteByHash returns the invitation whose token hashes to hash when
	// it is unused and unexpired at now; else ENOTFOUND.
	InviteByHash(ctx context.Context, hash string, now time.Time) (*Invite, error)
}

// Login is how an account signs in with a password.
type Login struct {
	AccountID    string
	Email        string // as NormalizeEmail makes it; unique
	PasswordHash string // Argon2id, PHC string format
	UpdatedAt    time.Time
}

// Session is a browser signed in to an account. The browser holds a random
// token in a cookie; only the token's hash is kept.
type Session struct {
	ID         string    `json:"id"`
	AccountID  string    `json:"-"`
	Hash       string    `json:"-"` // hex SHA-256 of the token
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent,omitempty"` // as the browser sent it, cut to 256 bytes
	IP         string    `json:"ip,omitempty"`         // the address it signed in from
}

// Session lifetimes: a session ends SessionLifetime after sign-in, or when
// it has not been used for SessionIdle.
const (
	SessionLifetime = 30 * 24 * time.Hour
	SessionIdle     = 7 * 24 * time.Hour
)

// Live reports whether s may be used at now.
func (s *Session) Live(now time.Time) bool {
	return now.Before(s.ExpiresAt) && now.Before(s.LastSeenAt.Add(SessionIdle))
}

// Invite lets one person sign up while open sign-up is closed.
type Invite struct {
	ID        string
	Hash      string // hex SHA-256 of the token
	Role      Role
	Email     string // when set, the only email the invitation admits
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// InviteLifetime is how long an invitation can be used.
const InviteLifetime = 7 * 24 * time.Hour

// ID prefixes of the identity objects.
const (
	PrefixSession = "ses"
	PrefixInvite  = "inv"
)

// Token prefixes: a session cookie's value and an invitation's code.
const (
	SessionTokenPrefix = "scs_"
	InviteTokenPrefix  = "sci_"
)

// NewToken returns a random token (256 bits) with prefix, and the hash to
// store (HashAPIKey: the tokens are random and long, so a fast hash is
// enough).
func NewToken(prefix string) (token, hash string) {
	var b [32]byte
	rand.Read(b[:])
	token = prefix + idEncoding.EncodeToString(b[:])
	return token, HashAPIKey(token)
}

// MaxEmailLen bounds email addresses (RFC 5321's path limit).
const MaxEmailLen = 254

// NormalizeEmail returns email trimmed and lower-cased, or an EINVALID
// error when it does not look like an address.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	local, domain, ok := strings.Cut(e, "@")
	switch {
	case !ok || local == "" || domain == "" || strings.Contains(domain, "@") || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, "."):
		return "", Errorf(EINVALID, "email %q is not an email address.", email)
	case len(e) > MaxEmailLen || !utf8.ValidString(e) || strings.ContainsAny(e, " \t\r\n<>()[],;:\\\"") || hasControl(e):
		return "", Errorf(EINVALID, "email %q is not an email address.", email)
	}
	return e, nil
}
