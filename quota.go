package shopclip

import (
	"context"
	"time"
)

// UploadUsage is what an account's uploads hold: the originals of its clips,
// the uploads it has started and not finished (holds), and how many uploads
// it started since the start of the day counted.
type UploadUsage struct {
	// StoredBytes is the size of the originals of the account's clips.
	StoredBytes int64
	// HeldBytes is the declared size of its unfinished uploads.
	HeldBytes int64
	// Uploads counts its clips and unfinished uploads made since
	// UploadLimits.Day.
	Uploads int
}

// Bytes is what counts against the storage quota: stored and held.
func (u UploadUsage) Bytes() int64 { return u.StoredBytes + u.HeldBytes }

// UploadLimits are an account's upload quotas, as HoldUpload checks them.
type UploadLimits struct {
	// MaxBytes bounds UploadUsage.Bytes once the new upload is counted;
	// 0 means no bound.
	MaxBytes int64
	// MaxUploads bounds UploadUsage.Uploads once the new upload is
	// counted; 0 means no bound.
	MaxUploads int
	// Day is when the day counted by MaxUploads began.
	Day time.Time
	// HoldsSince ignores holds made before it: uploads abandoned long
	// enough ago that their bytes are gone.
	HoldsSince time.Time
}

// UploadHold reserves room in an account's quotas for an upload whose bytes
// are on their way: a resumable upload from its creation to its clip, a
// simple upload while its body arrives.
type UploadHold struct {
	ID        string // the hold's own ID, chosen by the caller
	AccountID string
	Size      int64 // declared, or the most the upload may bring
	CreatedAt time.Time
}

// UploadQuotas counts what accounts' uploads hold and reserves room for new
// ones, so that per-account storage and daily upload quotas hold across API
// processes. One implementation (package store) serves SQLite and
// PostgreSQL; store/storetest.RunUploadQuotas holds both to this contract.
type UploadQuotas interface {
	// UploadUsage returns what account's uploads hold under l (its
	// MaxBytes and MaxUploads are not read).
	UploadUsage(ctx context.Context, accountID string, l UploadLimits) (UploadUsage, error)
	// HoldUpload records h when the account's usage with h counted stays
	// within l, atomically with respect to other holds of the account, and
	// returns the usage without h. When it does not fit, nothing is
	// recorded, and ok is false. The store stamps h's CreatedAt.
	HoldUpload(ctx context.Context, h *UploadHold, l UploadLimits) (u UploadUsage, ok bool, err error)
	// ReleaseUpload deletes hold id, whatever became of its upload; a hold
	// that is not there is not an error.
	ReleaseUpload(ctx context.Context, id string) error
}

// PrefixHold is the ID prefix of upload holds.
const PrefixHold = "hold"
