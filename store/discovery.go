package store

import (
	"context"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
)

// Interface checks.
var _ shopclip.Discovery = (*DB)(nil)

// SearchClips returns up to limit (clamped to 1..MaxListLimit) ready clips
// whose title, or the title of a product in one of their active tags, holds
// every term of shopclip.SearchTerms(query) as a word or a word's start. Clips
// matching by their own title come first, then those matching only through a
// product; within each, the best scored first (SQLite: bm25, PostgreSQL:
// ts_rank), then newest published first, then by ID, descending. Each clip
// is listed once. The result is never nil; a query without terms matches
// nothing and does not reach the database.
//
// Only the terms reach the full-text engine, each quoted as a literal
// prefix: no syntax of the query (operators, column filters, quotes) is
// interpreted.
func (db *DB) SearchClips(ctx context.Context, query string, limit int) ([]*shopclip.Clip, error) {
	const op = "search clips"
	terms := shopclip.SearchTerms(query)
	if len(terms) == 0 {
		return []*shopclip.Clip{}, nil
	}
	ready, active := string(shopclip.ClipReady), string(shopclip.TagActive)
	// hits: (clip_id, tier, score) for every way a clip matches, lower
	// scores better. Tier 0 is a match of the clip's own title, tier 1 of a
	// product's: the scores of the two full-text indexes are not comparable
	// (each weighs a term by its own corpus), so ranking orders by tier, then
	// by score within a tier.
	var hits string
	var args []any
	if db.dialect == Postgres {
		// The expression to_tsvector('simple', title) is the one the GIN
		// indexes of migration 0004 are built on.
		q := tsQuery(terms)
		hits = `SELECT id AS clip_id, 0 AS tier, -ts_rank(to_tsvector('simple', title), to_tsquery('simple', ?)) AS score
			FROM clips WHERE to_tsvector('simple', title) @@ to_tsquery('simple', ?) AND status = ?
			UNION ALL
			SELECT t.clip_id, 1, -ts_rank(to_tsvector('simple', p.title), to_tsquery('simple', ?))
			FROM products p JOIN tags t ON t.product_id = p.id AND t.status = ?
			WHERE to_tsvector('simple', p.title) @@ to_tsquery('simple', ?)`
		args = []any{q, q, ready, q, active, q}
	} else {
		m := ftsQuery(terms)
		hits = `SELECT clip_id, 0 AS tier, bm25(clips_fts) AS score FROM clips_fts WHERE clips_fts MATCH ?
			UNION ALL
			SELECT t.clip_id, 1, p.score
			FROM (SELECT product_id, bm25(products_fts) AS score FROM products_fts WHERE products_fts MATCH ?) p
			JOIN tags t ON t.product_id = p.product_id AND t.status = ?`
		args = []any{m, m, active}
	}
	args = append(args, ready, clampLimit(limit, MaxListLimit))
	cs, err := db.clips(ctx, op, `WITH hits AS (`+hits+`),
		best AS (SELECT clip_id, tier, score,
			row_number() OVER (PARTITION BY clip_id ORDER BY tier, score) AS n FROM hits)
		SELECT `+clipColumns+` FROM best JOIN clips ON clips.id = best.clip_id
		WHERE best.n = 1 AND clips.status = ?
		ORDER BY best.tier, best.score, published_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		cs = []*shopclip.Clip{}
	}
	return cs, nil
}

// ftsQuery returns the FTS5 query matching rows whose title column holds
// every term as a word or a word's start: title : ("t1"* AND "t2"*). Inside
// an FTS5 string a double quote is written twice.
func ftsQuery(terms []string) string {
	var b strings.Builder
	b.WriteString("title : (")
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(t, `"`, `""`))
		b.WriteString(`"*`)
	}
	b.WriteByte(')')
	return b.String()
}

// tsQueryQuoter escapes a lexeme for a quoted to_tsquery operand, where a
// backslash escapes the next character and a single quote is written twice.
var tsQueryQuoter = strings.NewReplacer(`\`, `\\`, `'`, `''`)

// tsQuery returns the to_tsquery input matching documents that hold every
// term as a word or a word's start: 't1':* & 't2':*.
func tsQuery(terms []string) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteByte('\'')
		b.WriteString(tsQueryQuoter.Replace(t))
		b.WriteString(`':*`)
	}
	return b.String()
}

// DealClips returns up to limit (clamped to 1..MaxListLimit) ready clips with
// an active tag on a product that has a discount active at now (StartsAt <=
// now < EndsAt), each once: the clip whose soonest-ending such discount ends
// first comes first, then newest published, then by ID, descending.
func (db *DB) DealClips(ctx context.Context, now time.Time, limit int) ([]*shopclip.Clip, error) {
	at := db.ts(now)
	// The query starts from the discounts on now (index discounts_ends, the
	// ones not ended are few) and reaches the clips through
	// tags_product_status. Without MATERIALIZED, SQLite prefers to walk every
	// tag in clip order to save the GROUP BY's sort.
	return db.clips(ctx, "deal clips", `WITH sales AS MATERIALIZED (
			SELECT product_id, min(ends_at) AS ends_at FROM discounts
			WHERE ends_at > ? AND starts_at <= ? GROUP BY product_id
		), deals AS (
			SELECT t.clip_id, min(sales.ends_at) AS deal_ends_at
			FROM sales JOIN tags t ON t.product_id = sales.product_id AND t.status = ?
			GROUP BY t.clip_id
		)
		SELECT `+clipColumns+` FROM deals JOIN clips ON clips.id = deals.clip_id
		WHERE clips.status = ?
		ORDER BY deals.deal_ends_at, published_at DESC, id DESC LIMIT ?`,
		at, at, string(shopclip.TagActive), string(shopclip.ClipReady), clampLimit(limit, MaxListLimit))
}

// CreatorFeed returns up to limit (clamped to 1..MaxListLimit) of a
// creator's ready clips strictly after the cursor in (PublishedAt, ID)
// descending order, like FeedClips.
func (db *DB) CreatorFeed(ctx context.Context, creatorID string, after shopclip.FeedCursor, limit int) ([]*shopclip.Clip, error) {
	const op = "creator feed"
	limit = clampLimit(limit, MaxListLimit)
	if after.IsZero() {
		return db.clips(ctx, op, `SELECT `+clipColumns+` FROM clips WHERE creator_id = ? AND status = ?
			ORDER BY published_at DESC, id DESC LIMIT ?`, creatorID, string(shopclip.ClipReady), limit)
	}
	return db.clips(ctx, op, `SELECT `+clipColumns+` FROM clips WHERE creator_id = ? AND status = ?
		AND (published_at < ? OR (published_at = ? AND id < ?))
		ORDER BY published_at DESC, id DESC LIMIT ?`,
		creatorID, string(shopclip.ClipReady), db.ts(after.PublishedAt), db.ts(after.PublishedAt), after.ID, limit)
}

// CreatorProducts returns up to limit (clamped to 1..MaxListLimit) distinct
// products in active tags on a creator's ready clips: the most recently
// tagged (by the latest such tag's CreatedAt) first, then by ID.
func (db *DB) CreatorProducts(ctx context.Context, creatorID string, limit int) ([]*shopclip.Product, error) {
	return db.products(ctx, "creator products", `SELECT `+productColumns+` FROM products JOIN (
			SELECT t.product_id, max(t.created_at) AS tagged_at
			FROM clips c JOIN tags t ON t.clip_id = c.id AND t.status = ?
			WHERE c.creator_id = ? AND c.status = ?
			GROUP BY t.product_id
		) tagged ON tagged.product_id = products.id
		ORDER BY tagged.tagged_at DESC, id LIMIT ?`,
		string(shopclip.TagActive), creatorID, string(shopclip.ClipReady), clampLimit(limit, MaxListLimit))
}

// FeaturedCreators returns up to limit (clamped to 1..MaxListLimit) accounts
// with the creator role, not disabled, and at least one ready clip, with the number of
// purchase events at or after since attributed to any of their clips (events
// whose ClipID is one of them): the most purchases first, then the latest
// publication first, then by ID.
func (db *DB) FeaturedCreators(ctx context.Context, since time.Time, limit int) ([]shopclip.CreatorSales, error) {
	const op = "featured creators"
	// Purchases are counted from the events since the time (index
	// events_type_at), not per creator over all time. Every creator account
	// is visited, each with one probe of clips_creator_feed for its latest
	// publication: the work grows with creators, not with clips.
	rows, err := db.query(ctx, `SELECT a.id, a.name, a.role, a.created_at, coalesce(s.purchases, 0)
		FROM (
			SELECT id, name, role, created_at,
				(SELECT max(published_at) FROM clips WHERE creator_id = accounts.id AND status = ?) AS latest
			FROM accounts WHERE role = ? AND disabled_at IS NULL
		) a
		LEFT JOIN (
			SELECT c.creator_id, count(*) AS purchases
			FROM events e JOIN clips c ON c.id = e.clip_id
			WHERE e.type = ? AND e.at >= ? AND e.clip_id <> ''
			GROUP BY c.creator_id
		) s ON s.creator_id = a.id
		WHERE a.latest IS NOT NULL
		ORDER BY coalesce(s.purchases, 0) DESC, a.latest DESC, a.id LIMIT ?`,
		string(shopclip.ClipReady), string(shopclip.RoleCreator), string(shopclip.EventPurchase), db.ts(since),
		clampLimit(limit, MaxListLimit))
	if err != nil {
		return nil, db.fail(op, "Account", err)
	}
	defer rows.Close()
	var out []shopclip.CreatorSales
	for rows.Next() {
		// scanAccount reads a *sql.Row only; the columns are the same.
		var a shopclip.Account
		var role string
		var n int64
		if err := rows.Scan(&a.ID, &a.Name, &role, timeDest{&a.CreatedAt}, &n); err != nil {
			return nil, db.fail(op, "Account", err)
		}
		a.Role = shopclip.Role(role)
		out = append(out, shopclip.CreatorSales{Creator: &a, Purchases: n})
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(op, "Account", err)
	}
	return out, nil
}
