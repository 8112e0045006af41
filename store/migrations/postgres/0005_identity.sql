-- Identity: disabled accounts, named API keys, password logins, browser
-- sessions and invitations. Keep sqlite/0005_identity.sql in step.

-- When the account was disabled; NULL while it may sign in.
ALTER TABLE accounts ADD COLUMN disabled_at timestamptz;

ALTER TABLE api_keys ADD COLUMN name text NOT NULL DEFAULT '';

-- At most one password login per account. Emails are stored as
-- shopclip.NormalizeEmail makes them (trimmed, lower-case), so the unique
-- constraint is case-insensitive for every writer that normalizes.
CREATE TABLE logins (
	account_id    text PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	email         text NOT NULL UNIQUE CHECK (email <> ''),
	password_hash text NOT NULL CHECK (password_hash <> ''),
	updated_at    timestamptz NOT NULL
);

-- Browser sessions, found by the hash of the cookie's token. A session is
-- live before expires_at and within shopclip.SessionIdle of last_seen_at;
-- the store checks both when reading, so dead rows do no harm.
CREATE TABLE sessions (
	id           text PRIMARY KEY,
	account_id   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	hash         text NOT NULL UNIQUE CHECK (hash <> ''),
	created_at   timestamptz NOT NULL,
	last_seen_at timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	user_agent   text NOT NULL DEFAULT '',
	ip           text NOT NULL DEFAULT ''
);

-- An account's sessions, the most recently seen first.
CREATE INDEX sessions_account ON sessions (account_id, last_seen_at DESC);

-- Invitations to sign up, found by the hash of their code, used once.
CREATE TABLE invites (
	id         text PRIMARY KEY,
	hash       text NOT NULL UNIQUE CHECK (hash <> ''),
	role       text NOT NULL CHECK (role IN ('creator', 'brand', 'admin')),
	email      text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	used_at    timestamptz,
	used_by    text REFERENCES accounts (id) ON DELETE SET NULL,
	CHECK (used_by IS NULL OR used_at IS NOT NULL)
);
