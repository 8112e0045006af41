package shopclip

import (
	"context"
	"unicode"
)

// Idempotency remembers what a retried request made the first time, so that
// a client whose connection dropped after an upload can send it again
// without making two clips. One implementation (package store) serves SQLite
// and PostgreSQL; store/storetest.RunIdempotency holds both to this
// contract.
type Idempotency interface {
	// CreateClipOnce records c as Store.CreateClip does, under the creator's
	// key, and returns it with created true; when the creator already made a
	// clip with key, it records nothing and returns that clip with created
	// false. Two calls racing with one key make one clip.
	CreateClipOnce(ctx context.Context, c *Clip, key string) (first *Clip, created bool, err error)
	// ClipByIdempotencyKey returns the clip the creator made with key, or
	// ENOTFOUND.
	ClipByIdempotencyKey(ctx context.Context, creatorID, key string) (*Clip, error)
}

// MaxIdempotencyKeyLen bounds Idempotency-Key values.
const MaxIdempotencyKeyLen = 255

// ValidIdempotencyKey reports whether k can be an Idempotency-Key: 1 to
// MaxIdempotencyKeyLen printable ASCII characters (a UUID, say).
func ValidIdempotencyKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKeyLen {
		return false
	}
	for _, c := range k {
		if c > unicode.MaxASCII || c < '!' || c == 0x7f {
			return false
		}
	}
	return true
}
