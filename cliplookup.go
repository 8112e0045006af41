package shopclip

import (
	"context"
	"time"
)

// MaxClipLookup bounds the IDs of one ClipLookup.ClipRefs call.
const MaxClipLookup = 1000

// ClipLookup tells which clips exist and what of the blob store they
// reference, for the janitor that removes what nothing references. One
// implementation (package store) serves SQLite and PostgreSQL;
// store/storetest.RunClipLookup holds both to this contract.
type ClipLookup interface {
	// ClipRefs returns the references of those of ids that name a clip,
	// keyed by ID; IDs with no clip are absent. At most MaxClipLookup IDs
	// (EINVALID past it); duplicates and malformed IDs are allowed (and
	// absent from the answer).
	ClipRefs(ctx context.Context, ids []string) (map[string]ClipRef, error)
}

// ClipRef is what a clip references in the blob store, and what says
// whether an attempt may still be writing.
type ClipRef struct {
	Status      ClipStatus
	OriginalKey string
	// Generation is the published (or publishing) generation; "" before.
	Generation string
	// AttemptID owns the clip while it is processing.
	AttemptID string
	// ShareKey is the current share MP4's key; "" when there is none.
	ShareKey  string
	UpdatedAt time.Time
}
