-- Issue 4: flash sales, price history (price honesty), creators' standing
-- approval of brands, analytics events, the share MP4. Keep
-- postgres/0002_catalog_events.sql in step.

ALTER TABLE discounts ADD COLUMN flash INTEGER NOT NULL DEFAULT 0 CHECK (flash IN (0, 1));

ALTER TABLE clips ADD COLUMN share_key TEXT NOT NULL DEFAULT '';

-- A product's list price from starts_at until the next row: one row when it
-- is created and one for every change of price or currency, written by the
-- triggers below in the same statement as the change.
CREATE TABLE price_history (
	id          INTEGER PRIMARY KEY,
	product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
	price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
	currency    TEXT NOT NULL,
	starts_at   TEXT NOT NULL
) STRICT;

CREATE INDEX price_history_product ON price_history (product_id, starts_at, id);

INSERT INTO price_history (product_id, price_minor, currency, starts_at)
	SELECT id, price_minor, currency, created_at FROM products;

CREATE TRIGGER products_price_created AFTER INSERT ON products
BEGIN
	INSERT INTO price_history (product_id, price_minor, currency, starts_at)
	VALUES (NEW.id, NEW.price_minor, NEW.currency, NEW.created_at);
END;

CREATE TRIGGER products_price_changed AFTER UPDATE OF price_minor, currency ON products
	WHEN NEW.price_minor <> OLD.price_minor OR NEW.currency <> OLD.currency
BEGIN
	INSERT INTO price_history (product_id, price_minor, currency, starts_at)
	VALUES (NEW.id, NEW.price_minor, NEW.currency, NEW.updated_at);
END;

-- A creator's standing approval of a brand: its tags on the creator's clips
-- are active at once.
CREATE TABLE brand_approvals (
	creator_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	brand_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created_at TEXT NOT NULL,
	PRIMARY KEY (creator_id, brand_id)
) STRICT;

-- Analytics events. dedupe_key makes repeated reports of the same thing one
-- event (NULL never collides). No foreign keys: events outlive nothing and
-- must never block a delete.
CREATE TABLE events (
	id           TEXT PRIMARY KEY,
	type         TEXT NOT NULL CHECK (type IN ('view', 'popup_impression', 'popup_click', 'purchase')),
	session_id   TEXT NOT NULL DEFAULT '',
	clip_id      TEXT NOT NULL DEFAULT '',
	tag_id       TEXT NOT NULL DEFAULT '',
	product_id   TEXT NOT NULL DEFAULT '',
	brand_id     TEXT NOT NULL DEFAULT '',
	order_id     TEXT NOT NULL DEFAULT '',
	amount_minor INTEGER NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
	currency     TEXT NOT NULL DEFAULT '',
	at           TEXT NOT NULL,
	dedupe_key   TEXT UNIQUE
) STRICT;

CREATE INDEX events_tag ON events (tag_id, type);
CREATE INDEX events_clip ON events (clip_id, type);
CREATE INDEX events_session_clicks ON events (session_id, product_id, type, at);
