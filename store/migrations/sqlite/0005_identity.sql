-- Identity: disabled accounts, named API keys, password logins, browser
-- sessions and invitations. Keep postgres/0005_identity.sql in step.

-- When the account was disabled; NULL while it may sign in.
ALTER TABLE accounts ADD COLUMN disabled_at TEXT;

ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT '';

-- At most one password login per account. Emails are stored as
-- shopclip.NormalizeEmail makes them (trimmed, lower-case), so the unique
-- constraint is case-insensitive for every writer that normalizes.
CREATE TABLE logins (
	account_id    TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	email         TEXT NOT NULL UNIQUE CHECK (email <> ''),
	password_hash TEXT NOT NULL CHECK (password_hash <> ''),
	updated_at    TEXT NOT NULL
) STRICT;

-- Browser sessions, found by the hash of the cookie's token. A session is
-- live before expires_at and within shopclip.SessionIdle of last_seen_at;
-- the store checks both when reading, so dead rows do no harm.
CREATE TABLE sessions (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	hash         TEXT NOT NULL UNIQUE CHECK (hash <> ''),
	created_at   TEXT NOT NULL,
	last_seen_at TEXT NOT NULL,
	expires_at   TEXT NOT NULL,
	user_agent   TEXT NOT NULL DEFAULT '',
	ip           TEXT NOT NULL DEFAULT ''
) STRICT;

-- An account's sessions, the most recently seen first.
CREATE INDEX sessions_account ON sessions (account_id, last_seen_at DESC);

-- Invitations to sign up, found by the hash of their code, used once.
CREATE TABLE invites (
	id         TEXT PRIMARY KEY,
	hash       TEXT NOT NULL UNIQUE CHECK (hash <> ''),
	role       TEXT NOT NULL CHECK (role IN ('creator', 'brand', 'admin')),
	email      TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	used_at    TEXT,
	used_by    TEXT REFERENCES accounts (id) ON DELETE SET NULL,
	CHECK (used_by IS NULL OR used_at IS NOT NULL)
) STRICT;
