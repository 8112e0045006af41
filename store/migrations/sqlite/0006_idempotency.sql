-- Issue 10: Idempotency-Key on uploads. A creator's key names the clip its
-- first upload made; a repeat finds it. The row goes with the clip. Keep
-- postgres/0006_idempotency.sql in step.

CREATE TABLE clip_requests (
	creator_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	idempotency_key TEXT NOT NULL CHECK (idempotency_key <> ''),
	clip_id         TEXT NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
	created_at      TEXT NOT NULL,
	PRIMARY KEY (creator_id, idempotency_key)
) STRICT;

CREATE INDEX clip_requests_clip ON clip_requests (clip_id);
