-- Issue 4: flash sales, price history (price honesty), creators' standing
-- approval of brands, analytics events, the share MP4. Keep
-- sqlite/0002_catalog_events.sql in step.

ALTER TABLE discounts ADD COLUMN flash boolean NOT NULL DEFAULT false;

ALTER TABLE clips ADD COLUMN share_key text NOT NULL DEFAULT '';

-- A product's list price from starts_at until the next row: one row when it
-- is created and one for every change of price or currency, written by the
-- triggers below in the same statement as the change.
CREATE TABLE price_history (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	product_id  text NOT NULL REFERENCES products (id) ON DELETE CASCADE,
	price_minor bigint NOT NULL CHECK (price_minor >= 0),
	currency    text NOT NULL,
	starts_at   timestamptz NOT NULL
);

CREATE INDEX price_history_product ON price_history (product_id, starts_at, id);

INSERT INTO price_history (product_id, price_minor, currency, starts_at)
	SELECT id, price_minor, currency, created_at FROM products;

CREATE FUNCTION products_price_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO price_history (product_id, price_minor, currency, starts_at)
		VALUES (NEW.id, NEW.price_minor, NEW.currency, NEW.created_at);
	ELSIF NEW.price_minor <> OLD.price_minor OR NEW.currency <> OLD.currency THEN
		INSERT INTO price_history (product_id, price_minor, currency, starts_at)
		VALUES (NEW.id, NEW.price_minor, NEW.currency, NEW.updated_at);
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER products_price_history AFTER INSERT OR UPDATE OF price_minor, currency ON products
	FOR EACH ROW EXECUTE FUNCTION products_price_history();

-- A creator's standing approval of a brand: its tags on the creator's clips
-- are active at once.
CREATE TABLE brand_approvals (
	creator_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	brand_id   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (creator_id, brand_id)
);

-- Analytics events. dedupe_key makes repeated reports of the same thing one
-- event (NULL never collides). No foreign keys: events outlive nothing and
-- must never block a delete.
CREATE TABLE events (
	id           text PRIMARY KEY,
	type         text NOT NULL CHECK (type IN ('view', 'popup_impression', 'popup_click', 'purchase')),
	session_id   text NOT NULL DEFAULT '',
	clip_id      text NOT NULL DEFAULT '',
	tag_id       text NOT NULL DEFAULT '',
	product_id   text NOT NULL DEFAULT '',
	brand_id     text NOT NULL DEFAULT '',
	order_id     text NOT NULL DEFAULT '',
	amount_minor bigint NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
	currency     text NOT NULL DEFAULT '',
	at           timestamptz NOT NULL,
	dedupe_key   text UNIQUE
);

CREATE INDEX events_tag ON events (tag_id, type);
CREATE INDEX events_clip ON events (clip_id, type);
CREATE INDEX events_session_clicks ON events (session_id, product_id, type, at);
