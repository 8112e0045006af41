package shopclip

import (
	"context"
	"encoding/base64"
	"strings"
	"time"
)

// Store keeps shopclip's metadata. One implementation (package store) serves
// SQLite, the embedded default, and PostgreSQL; a conformance suite
// (store/storetest) holds both to this contract.
//
// Callers assign IDs (NewID); the store assigns CreatedAt and UpdatedAt.
// Lookups of missing objects return an *Error with code ENOTFOUND; writes that
// lose a race (an attempt that no longer owns its clip) return ECONFLICT;
// unique-key violations return ECONFLICT.
type Store interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	// CreateAccount records a, which must have an ID.
	CreateAccount(ctx context.Context, a *Account) error
	// Account returns the account with id.
	Account(ctx context.Context, id string) (*Account, error)
	// CreateAPIKey records k, which must have an ID, an AccountID and a Hash.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// AccountByKeyHash returns the account owning the unrevoked key whose
	// hash is hash.
	AccountByKeyHash(ctx context.Context, hash string) (*Account, error)

	// CreateClip records c, which must have an ID, a CreatorID and an
	// OriginalKey; its status is set to uploaded.
	CreateClip(ctx context.Context, c *Clip) error
	// Clip returns the clip with id.
	Clip(ctx context.Context, id string) (*Clip, error)
	// FeedClips returns up to limit ready clips published before the cursor
	// (all when the cursor is zero), newest first.
	FeedClips(ctx context.Context, after FeedCursor, limit int) ([]*Clip, error)
	// CreatorClips returns a page of a creator's clips, any status, newest
	// (by CreatedAt, then ID) first; TimeCursor(c.CreatedAt, c.ID) is the
	// position after clip c.
	CreatorClips(ctx context.Context, creatorID string, page Page) ([]*Clip, error)
	// StaleClips returns up to limit clips in one of statuses whose UpdatedAt
	// is before before, oldest first. The reconciler re-enqueues them.
	StaleClips(ctx context.Context, statuses []ClipStatus, before time.Time, limit int) ([]*Clip, error)
	// StartClipAttempt makes attemptID the owner of a clip that is uploaded or
	// processing: status processing, progress 0, no generation, Attempts+1.
	// A terminal clip is returned unchanged (no owner is set).
	StartClipAttempt(ctx context.Context, id, attemptID string) (*Clip, error)
	// UpdateClipProgress sets the progress of a clip that attemptID owns and,
	// when pub is non-nil, the generation it is publishing progressively.
	UpdateClipProgress(ctx context.Context, id, attemptID string, progress float64, pub *Publication) error
	// PublishClip makes a clip that attemptID owns ready with pub.
	PublishClip(ctx context.Context, id, attemptID string, pub *Publication) error
	// RecordClipCrash counts a transcoder crash on a clip that attemptID
	// owns and returns the clip's crash count.
	RecordClipCrash(ctx context.Context, id, attemptID string) (int, error)
	// FailClip ends a clip that attemptID owns in status failed with e.
	FailClip(ctx context.Context, id, attemptID string, e *Error) error
	// DeleteClip removes a clip and its tags.
	DeleteClip(ctx context.Context, id string) error
	// SetClipShare records the blob key of a clip's current share MP4.
	SetClipShare(ctx context.Context, id, key string) error

	// CreateProduct records p, which must have an ID and a BrandID.
	CreateProduct(ctx context.Context, p *Product) error
	// Product returns the product with id.
	Product(ctx context.Context, id string) (*Product, error)
	// UpdateProduct replaces the mutable fields of the product p.ID (SKU,
	// title, currency, price, URLs, stock).
	UpdateProduct(ctx context.Context, p *Product) error
	// BrandProducts returns a page of a brand's products, newest (by
	// CreatedAt, then ID) first; TimeCursor(p.CreatedAt, p.ID) is the
	// position after product p.
	BrandProducts(ctx context.Context, brandID string, page Page) ([]*Product, error)
	// CreateDiscount records d, which must have an ID and a ProductID. A
	// product holds at most MaxOpenDiscounts discounts that have not ended;
	// one more is an ECONFLICT.
	CreateDiscount(ctx context.Context, d *Discount) error
	// ProductDiscounts returns a product's discounts, oldest first.
	ProductDiscounts(ctx context.Context, productID string) ([]*Discount, error)
	// ProductPriceHistory returns a product's list prices, oldest first: the
	// price it was created with and every change of price or currency, from
	// since on: the last point starting at or before since (the price in
	// force at since) and the points after it; all for the zero time.
	ProductPriceHistory(ctx context.Context, productID string, since time.Time) ([]PricePoint, error)

	// CreateTag records t, which must have an ID, a ClipID, a ProductID, a
	// BrandID and a Status, within the tag quotas (MaxTagsPerClip,
	// MaxTagsPerBrandClip, MaxPendingTagsPerBrand): a tag over one is an
	// ECONFLICT, atomically with the insert.
	CreateTag(ctx context.Context, t *Tag) error
	// Tag returns the tag with id.
	Tag(ctx context.Context, id string) (*Tag, error)
	// SetTagStatus changes a tag's consent status.
	SetTagStatus(ctx context.Context, id string, s TagStatus) error
	// ClipTags returns a page of the clip's tags that q selects, ordered by
	// StartMS, then ID; TagCursor(t) is the position after tag t.
	ClipTags(ctx context.Context, clipID string, q TagQuery) ([]*Tag, error)
	// ProductClipIDs returns the IDs of the clips that tag a product.
	ProductClipIDs(ctx context.Context, productID string) ([]string, error)
	// AddTagClick counts one click through a tag's buy URL.
	AddTagClick(ctx context.Context, tagID string) error

	// ApproveBrand records a creator's standing approval of a brand: its
	// future tags on the creator's clips are active at once.
	ApproveBrand(ctx context.Context, creatorID, brandID string) error
	// RevokeBrand withdraws it.
	RevokeBrand(ctx context.Context, creatorID, brandID string) error
	// BrandApproved reports whether a creator approved a brand for good.
	BrandApproved(ctx context.Context, creatorID, brandID string) (bool, error)
	// ApprovedBrands returns a page of the brands a creator approved for
	// good, in the order of approval (then by brand ID); a.Cursor() is the
	// position after approval a.
	ApprovedBrands(ctx context.Context, creatorID string, page Page) ([]BrandApproval, error)

	// RecordEvent records e unless an event with the same dedupeKey exists
	// ("" never deduplicates); it returns the stored event and whether e was
	// recorded.
	RecordEvent(ctx context.Context, e *Event, dedupeKey string) (*Event, bool, error)
	// LastClick returns the latest click in a session on a tag of a product
	// at or after since and at or before until (ENOTFOUND when none): what a
	// purchase made at until is attributed to.
	LastClick(ctx context.Context, sessionID, productID string, since, until time.Time) (*Event, error)
	// ClipViews counts the views of a clip.
	ClipViews(ctx context.Context, clipID string) (int64, error)
	// TagStats returns the funnel of every tag of a clip, or of a product
	// when clipID is empty.
	TagStats(ctx context.Context, clipID, productID string) ([]TagStats, error)
}

// APIKey is a credential of an account. Only a hash of the key is kept.
type APIKey struct {
	ID        string     `json:"id"`
	AccountID string     `json:"-"`
	Name      string     `json:"name"` // what its owner calls it ("CI upload script")
	Hash      string     `json:"-"`    // hex SHA-256 of the key
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// MaxKeyNameLen bounds API key names, in bytes.
const MaxKeyNameLen = 100

// FeedCursor marks a position in the feed: clips published strictly before
// (PublishedAt, ID) in newest-first order. The zero value is the top.
type FeedCursor struct {
	PublishedAt time.Time
	ID          string
}

// IsZero reports whether c is the top of the feed.
func (c FeedCursor) IsZero() bool { return c.PublishedAt.IsZero() && c.ID == "" }

// CursorAfter is the feed position just after c, a published clip.
func CursorAfter(c *Clip) FeedCursor {
	var at time.Time
	if c.PublishedAt != nil {
		at = *c.PublishedAt
	}
	return FeedCursor{PublishedAt: at, ID: c.ID}
}

// String encodes c as the opaque cursor of the feed's next_cursor.
func (c FeedCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.PublishedAt.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

// ParseFeedCursor decodes a cursor made by FeedCursor.String; "" is the top
// of the feed. Anything else is an EINVALID error.
func ParseFeedCursor(s string) (FeedCursor, error) {
	var c FeedCursor
	if s == "" {
		return c, nil
	}
	bad := Errorf(EINVALID, "Invalid cursor: pass back next_cursor as given.")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, bad
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok || !ValidID(PrefixClip, id) {
		return c, bad
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return c, bad
	}
	return FeedCursor{PublishedAt: t, ID: id}, nil
}
