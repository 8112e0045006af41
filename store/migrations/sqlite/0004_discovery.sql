-- Discovery: full-text search over clip and product titles, and the indexes
-- of the deal, creator and featured-creator lists. Keep
-- postgres/0004_discovery.sql in step.

-- The search indexes keep their own copy of the titles, kept in step by the
-- triggers below. They are not external-content tables over clips and
-- products: those are keyed by TEXT ids, so their implicit rowids are not
-- stable (VACUUM may renumber them). A row is found again by its id through
-- the index itself: the tokenizer splits "clp_x" into the phrase "clp x", and
-- the equality rules out any other row holding that phrase.
CREATE VIRTUAL TABLE clips_fts USING fts5(clip_id, title, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE products_fts USING fts5(product_id, title, tokenize = 'unicode61 remove_diacritics 2');

INSERT INTO clips_fts (clip_id, title) SELECT id, title FROM clips;
INSERT INTO products_fts (product_id, title) SELECT id, title FROM products;

CREATE TRIGGER clips_fts_insert AFTER INSERT ON clips
BEGIN
	INSERT INTO clips_fts (clip_id, title) VALUES (NEW.id, NEW.title);
END;

CREATE TRIGGER clips_fts_update AFTER UPDATE OF id, title ON clips
BEGIN
	DELETE FROM clips_fts WHERE clips_fts MATCH ('clip_id : "' || replace(OLD.id, '"', '""') || '"')
		AND clip_id = OLD.id;
	INSERT INTO clips_fts (clip_id, title) VALUES (NEW.id, NEW.title);
END;

CREATE TRIGGER clips_fts_delete AFTER DELETE ON clips
BEGIN
	DELETE FROM clips_fts WHERE clips_fts MATCH ('clip_id : "' || replace(OLD.id, '"', '""') || '"')
		AND clip_id = OLD.id;
END;

CREATE TRIGGER products_fts_insert AFTER INSERT ON products
BEGIN
	INSERT INTO products_fts (product_id, title) VALUES (NEW.id, NEW.title);
END;

CREATE TRIGGER products_fts_update AFTER UPDATE OF id, title ON products
BEGIN
	DELETE FROM products_fts WHERE products_fts MATCH ('product_id : "' || replace(OLD.id, '"', '""') || '"')
		AND product_id = OLD.id;
	INSERT INTO products_fts (product_id, title) VALUES (NEW.id, NEW.title);
END;

CREATE TRIGGER products_fts_delete AFTER DELETE ON products
BEGIN
	DELETE FROM products_fts WHERE products_fts MATCH ('product_id : "' || replace(OLD.id, '"', '""') || '"')
		AND product_id = OLD.id;
END;

-- A creator's page: its ready clips, newest first, keyset-paginated.
CREATE INDEX clips_creator_feed ON clips (creator_id, status, published_at DESC, id DESC);
-- Search and deals: the clips carrying a product through an active tag.
CREATE INDEX tags_product_status ON tags (product_id, status, clip_id);
-- Deals: the discounts that have not ended.
CREATE INDEX discounts_ends ON discounts (ends_at, starts_at, product_id);
-- Featured creators: purchases since a time, and the clips they came from.
CREATE INDEX events_type_at ON events (type, at, clip_id);
