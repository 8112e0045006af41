-- Issue 12: signed webhooks. An account's endpoints (URL, the events it
-- wants as a space-separated list, the secret that signs and, for a while
-- after a rotation, the previous one), its deliveries (one event for one
-- endpoint; the ID is the webhook-id) and every attempt of each.
-- Keep postgres/0011_webhooks.sql in step.

CREATE TABLE webhook_endpoints (
	id               TEXT PRIMARY KEY,
	account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	url              TEXT NOT NULL,
	events           TEXT NOT NULL,
	secret           TEXT NOT NULL,
	previous_secret  TEXT NOT NULL DEFAULT '',
	previous_expires TEXT,
	failing_since    TEXT,
	disabled_at      TEXT,
	disabled_reason  TEXT NOT NULL DEFAULT '',
	created_at       TEXT NOT NULL
);

CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id, created_at);

CREATE TABLE webhook_deliveries (
	id          TEXT PRIMARY KEY,
	endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	type        TEXT NOT NULL,
	body        TEXT NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts    INTEGER NOT NULL DEFAULT 0,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);

CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
-- Unsent deliveries are found, and finished ones pruned, by status and age.
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, updated_at);

CREATE TABLE webhook_attempts (
	delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,
	at          TEXT NOT NULL,
	status      INTEGER NOT NULL,
	latency_us  INTEGER NOT NULL,
	excerpt     TEXT NOT NULL,
	error       TEXT NOT NULL,
	PRIMARY KEY (delivery_id, seq)
);
