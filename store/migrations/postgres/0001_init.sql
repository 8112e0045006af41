-- The first schema of shopclip's metadata, PostgreSQL dialect. Keep
-- sqlite/0001_init.sql in step.

CREATE TABLE accounts (
	id         text PRIMARY KEY,
	name       text NOT NULL,
	role       text NOT NULL CHECK (role IN ('creator', 'brand', 'admin')),
	created_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
	id         text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	hash       text NOT NULL UNIQUE CHECK (hash <> ''),
	created_at timestamptz NOT NULL,
	revoked_at timestamptz
);

CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE clips (
	id              text PRIMARY KEY,
	creator_id      text NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
	title           text NOT NULL DEFAULT '',
	status          text NOT NULL CHECK (status IN ('uploaded', 'processing', 'ready', 'failed')),
	progress        double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
	error_code      text NOT NULL DEFAULT '',
	error_message   text NOT NULL DEFAULT '',
	duration_ms     bigint NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
	width           integer NOT NULL DEFAULT 0 CHECK (width >= 0),
	height          integer NOT NULL DEFAULT 0 CHECK (height >= 0),
	renditions      jsonb,
	original_key    text NOT NULL CHECK (original_key <> ''),
	original_size   bigint NOT NULL DEFAULT 0 CHECK (original_size >= 0),
	original_sha256 text NOT NULL DEFAULT '',
	generation      text NOT NULL DEFAULT '',
	output_prefix   text NOT NULL DEFAULT '',
	has_mp4         boolean NOT NULL DEFAULT false,
	has_poster      boolean NOT NULL DEFAULT false,
	has_storyboard  boolean NOT NULL DEFAULT false,
	attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	crashes         integer NOT NULL DEFAULT 0 CHECK (crashes >= 0),
	attempt_id      text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL,
	published_at    timestamptz,
	-- The state machine: only failed clips carry an error; a processing clip
	-- has an owner; a ready clip is complete and published.
	CHECK ((status = 'failed') = (error_code <> '')),
	CHECK (status <> 'processing' OR attempt_id <> ''),
	CHECK (status <> 'ready' OR (progress = 1 AND published_at IS NOT NULL
		AND generation <> '' AND output_prefix <> ''))
);

-- The feed: ready clips, newest first, keyset-paginated.
CREATE INDEX clips_feed ON clips (status, published_at DESC, id DESC);
CREATE INDEX clips_creator ON clips (creator_id, created_at DESC, id DESC);
-- The reconciler: clips stuck in a status, oldest first.
CREATE INDEX clips_stale ON clips (status, updated_at, id);

CREATE TABLE products (
	id          text PRIMARY KEY,
	brand_id    text NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
	sku         text NOT NULL DEFAULT '',
	title       text NOT NULL DEFAULT '',
	currency    text NOT NULL DEFAULT '',
	price_minor bigint NOT NULL DEFAULT 0 CHECK (price_minor >= 0),
	url         text NOT NULL DEFAULT '',
	image_url   text NOT NULL DEFAULT '',
	in_stock    boolean NOT NULL DEFAULT true,
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);

CREATE INDEX products_brand ON products (brand_id, created_at DESC, id DESC);

CREATE TABLE discounts (
	id               text PRIMARY KEY,
	product_id       text NOT NULL REFERENCES products (id) ON DELETE CASCADE,
	kind             text NOT NULL CHECK (kind IN ('percent', 'amount')),
	percent_off      integer NOT NULL DEFAULT 0 CHECK (percent_off BETWEEN 0 AND 100),
	amount_off_minor bigint NOT NULL DEFAULT 0 CHECK (amount_off_minor >= 0),
	starts_at        timestamptz NOT NULL,
	ends_at          timestamptz NOT NULL,
	coupon_code      text NOT NULL DEFAULT '',
	created_at       timestamptz NOT NULL
);

CREATE INDEX discounts_product ON discounts (product_id, created_at, id);

CREATE TABLE tags (
	id         text PRIMARY KEY,
	clip_id    text NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
	-- A tagged product cannot vanish under a clip: delete its tags first.
	product_id text NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
	brand_id   text NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
	start_ms   bigint NOT NULL CHECK (start_ms >= 0),
	end_ms     bigint NOT NULL,
	x          double precision NOT NULL CHECK (x >= 0 AND x <= 1),
	y          double precision NOT NULL CHECK (y >= 0 AND y <= 1),
	status     text NOT NULL CHECK (status IN ('pending', 'active', 'rejected')),
	clicks     bigint NOT NULL DEFAULT 0 CHECK (clicks >= 0),
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	CHECK (end_ms > start_ms)
);

CREATE INDEX tags_clip ON tags (clip_id, start_ms, id);
CREATE INDEX tags_product ON tags (product_id, clip_id);
CREATE INDEX tags_brand ON tags (brand_id);
