package shopclip

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Discovery finds clips for viewers' pages: full-text search over clips and
// the products tagged in them, the clips with a sale on, a creator's clips
// and the products it carries, and the creators who sell. One implementation
// (package store) serves SQLite (FTS5) and PostgreSQL (full-text search); the
// suite store/storetest.RunDiscovery holds both to this contract.
//
// Every method returns only what viewers may see: ready clips and active
// tags. Pricing (which discount applies, whether its label is honest) is not
// the store's business: DealClips returns candidates that package tagging
// prices.
type Discovery interface {
	// SearchClips returns up to limit ready clips whose title, or the title
	// of a product in one of their active tags, holds every term of
	// SearchTerms(query) as a word or the start of a word (case-insensitive;
	// SQLite also folds diacritics, PostgreSQL does not), never nil. Clips
	// matching by their own title come first, then those matching through a
	// product; within each, the best match, then the newest. A query without
	// terms matches nothing.
	SearchClips(ctx context.Context, query string, limit int) ([]*Clip, error)
	// DealClips returns up to limit ready clips with an active tag on a
	// product that has a discount active at now (StartsAt <= now <
	// EndsAt), the clip whose such discount ends soonest first.
	DealClips(ctx context.Context, now time.Time, limit int) ([]*Clip, error)
	// CreatorFeed returns up to limit of a creator's ready clips published
	// before the cursor (all when it is zero), newest first, like the feed.
	CreatorFeed(ctx context.Context, creatorID string, after FeedCursor, limit int) ([]*Clip, error)
	// CreatorProducts returns up to limit distinct products in active tags
	// on a creator's ready clips, the most recently tagged first.
	CreatorProducts(ctx context.Context, creatorID string, limit int) ([]*Product, error)
	// FeaturedCreators returns up to limit creators, not disabled, with at
	// least one ready clip, ranked by the purchases attributed to their clips at or after
	// since (most first), then by their latest publication (newest first).
	FeaturedCreators(ctx context.Context, since time.Time, limit int) ([]CreatorSales, error)
}

// CreatorSales is a creator and the purchases attributed to its clips in a
// period.
type CreatorSales struct {
	Creator   *Account `json:"creator"`
	Purchases int64    `json:"purchases"`
}

// Search limits.
const (
	MaxSearchQuery = 200 // bytes of a search query
	MaxSearchTerms = 8   // terms of a query that are used
	maxTermBytes   = 64
)

// SearchTerms splits a search query into the terms a search matches: runs of
// letters and digits, lower-cased, at most MaxSearchTerms of them, each at
// most 64 bytes (cut at a character boundary). Everything else, query syntax
// of either database included, separates terms.
func SearchTerms(query string) []string {
	var terms []string
	for _, f := range strings.FieldsFunc(strings.ToValidUTF8(query, " "), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.M, r)
	}) {
		f = strings.ToLower(f)
		for len(f) > maxTermBytes {
			_, size := utf8.DecodeLastRuneInString(f)
			f = f[:len(f)-size]
		}
		terms = append(terms, f)
		if len(terms) == MaxSearchTerms {
			break
		}
	}
	return terms
}
