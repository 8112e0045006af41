-- Discovery: full-text search over clip and product titles, and the indexes
-- of the deal, creator and featured-creator lists. Keep
-- sqlite/0004_discovery.sql in step.

-- The search indexes: GIN over the 'simple' text-search vector of each title
-- (no stemming, no stop words, as close as PostgreSQL comes to SQLite's
-- unicode61). Queries must repeat the expression exactly to use them. Being
-- expression indexes they need no triggers.
CREATE INDEX clips_title_search ON clips USING gin (to_tsvector('simple', title));
CREATE INDEX products_title_search ON products USING gin (to_tsvector('simple', title));

-- A creator's page: its ready clips, newest first, keyset-paginated.
CREATE INDEX clips_creator_feed ON clips (creator_id, status, published_at DESC, id DESC);
-- Search and deals: the clips carrying a product through an active tag.
CREATE INDEX tags_product_status ON tags (product_id, status, clip_id);
-- Deals: the discounts that have not ended.
CREATE INDEX discounts_ends ON discounts (ends_at, starts_at, product_id);
-- Featured creators: purchases since a time, and the clips they came from.
CREATE INDEX events_type_at ON events (type, at, clip_id);
