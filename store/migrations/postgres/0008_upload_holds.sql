-- Issue 11, defect 5: per-account upload quotas. A hold reserves room in an
-- account's storage quota for an upload whose bytes are on their way (a
-- resumable upload until its clip is made, a simple one while its body
-- arrives); holds of uploads abandoned long ago are ignored and swept.
-- Usage reads the account's clips through clips_creator (creator_id,
-- created_at).
-- Keep sqlite/0008_upload_holds.sql in step.

CREATE TABLE upload_holds (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	size       BIGINT NOT NULL CHECK (size >= 0),
	created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX upload_holds_account ON upload_holds (account_id, created_at);
