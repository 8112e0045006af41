-- The first schema of shopclip's metadata, SQLite dialect. Times are UTC text,
-- "2006-01-02T15:04:05.000000Z" (fixed width, so text order is time order);
-- booleans are 0/1 integers. Keep postgres/0001_init.sql in step.

CREATE TABLE accounts (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL CHECK (role IN ('creator', 'brand', 'admin')),
	created_at TEXT NOT NULL
) STRICT;

CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	hash       TEXT NOT NULL UNIQUE CHECK (hash <> ''),
	created_at TEXT NOT NULL,
	revoked_at TEXT
) STRICT;

CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE clips (
	id              TEXT PRIMARY KEY,
	creator_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
	title           TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL CHECK (status IN ('uploaded', 'processing', 'ready', 'failed')),
	progress        REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
	error_code      TEXT NOT NULL DEFAULT '',
	error_message   TEXT NOT NULL DEFAULT '',
	duration_ms     INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
	width           INTEGER NOT NULL DEFAULT 0 CHECK (width >= 0),
	height          INTEGER NOT NULL DEFAULT 0 CHECK (height >= 0),
	renditions      TEXT CHECK (renditions IS NULL OR json_valid(renditions)),
	original_key    TEXT NOT NULL CHECK (original_key <> ''),
	original_size   INTEGER NOT NULL DEFAULT 0 CHECK (original_size >= 0),
	original_sha256 TEXT NOT NULL DEFAULT '',
	generation      TEXT NOT NULL DEFAULT '',
	output_prefix   TEXT NOT NULL DEFAULT '',
	has_mp4         INTEGER NOT NULL DEFAULT 0 CHECK (has_mp4 IN (0, 1)),
	has_poster      INTEGER NOT NULL DEFAULT 0 CHECK (has_poster IN (0, 1)),
	has_storyboard  INTEGER NOT NULL DEFAULT 0 CHECK (has_storyboard IN (0, 1)),
	attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	crashes         INTEGER NOT NULL DEFAULT 0 CHECK (crashes >= 0),
	attempt_id      TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	published_at    TEXT,
	-- The state machine: only failed clips carry an error; a processing clip
	-- has an owner; a ready clip is complete and published.
	CHECK ((status = 'failed') = (error_code <> '')),
	CHECK (status <> 'processing' OR attempt_id <> ''),
	CHECK (status <> 'ready' OR (progress = 1 AND published_at IS NOT NULL
		AND generation <> '' AND output_prefix <> ''))
) STRICT;

-- The feed: ready clips, newest first, keyset-paginated.
CREATE INDEX clips_feed ON clips (status, published_at DESC, id DESC);
CREATE INDEX clips_creator ON clips (creator_id, created_at DESC, id DESC);
-- The reconciler: clips stuck in a status, oldest first.
CREATE INDEX clips_stale ON clips (status, updated_at, id);

CREATE TABLE products (
	id          TEXT PRIMARY KEY,
	brand_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
	sku         TEXT NOT NULL DEFAULT '',
	title       TEXT NOT NULL DEFAULT '',
	currency    TEXT NOT NULL DEFAULT '',
	price_minor INTEGER NOT NULL DEFAULT 0 CHECK (price_minor >= 0),
	url         TEXT NOT NULL DEFAULT '',
	image_url   TEXT NOT NULL DEFAULT '',
	in_stock    INTEGER NOT NULL DEFAULT 1 CHECK (in_stock IN (0, 1)),
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
) STRICT;

CREATE INDEX products_brand ON products (brand_id, created_at DESC, id DESC);

CREATE TABLE discounts (
	id               TEXT PRIMARY KEY,
	product_id       TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
	kind             TEXT NOT NULL CHECK (kind IN ('percent', 'amount')),
	percent_off      INTEGER NOT NULL DEFAULT 0 CHECK (percent_off BETWEEN 0 AND 100),
	amount_off_minor INTEGER NOT NULL DEFAULT 0 CHECK (amount_off_minor >= 0),
	starts_at        TEXT NOT NULL,
	ends_at          TEXT NOT NULL,
	coupon_code      TEXT NOT NULL DEFAULT '',
	created_at       TEXT NOT NULL
) STRICT;

CREATE INDEX discounts_product ON discounts (product_id, created_at, id);

CREATE TABLE tags (
	id         TEXT PRIMARY KEY,
	clip_id    TEXT NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
	-- A tagged product cannot vanish under a clip: delete its tags first.
	product_id TEXT NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
	brand_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
	start_ms   INTEGER NOT NULL CHECK (start_ms >= 0),
	end_ms     INTEGER NOT NULL,
	x          REAL NOT NULL CHECK (x >= 0 AND x <= 1),
	y          REAL NOT NULL CHECK (y >= 0 AND y <= 1),
	status     TEXT NOT NULL CHECK (status IN ('pending', 'active', 'rejected')),
	clicks     INTEGER NOT NULL DEFAULT 0 CHECK (clicks >= 0),
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	CHECK (end_ms > start_ms)
) STRICT;

CREATE INDEX tags_clip ON tags (clip_id, start_ms, id);
CREATE INDEX tags_product ON tags (product_id, clip_id);
CREATE INDEX tags_brand ON tags (brand_id);
