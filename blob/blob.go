// Package blob is shopclip's object storage contract: originals, HLS
// renditions, posters and overlays are kept as objects under slash-separated
// keys. Backends live in blob/local (a directory, the embedded default) and
// blob/s3 (MinIO or any S3, through minio-go); blob/blobtest holds the
// conformance suite both pass.
package blob

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
)

// Store keeps objects. Every method translates backend errors: a missing key
// is an *shopclip.Error with code ENOTFOUND, a failed IfNotExists put ECONFLICT,
// an unreachable backend EUNAVAILABLE.
type Store interface {
	// Put stores the contents of r under key, replacing any object there
	// (unless opts.IfNotExists). size is the exact length of r, or -1 when
	// unknown. Readers never see a partial object: either the old one (or
	// none) or the whole new one.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) error
	// Open returns the object under key for reading and seeking; the caller
	// closes it.
	Open(ctx context.Context, key string) (Object, error)
	// Stat returns what is known of the object under key.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object under key. Deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose keys start with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]Info, error)
	// ListPage returns one page of List(prefix): at most limit objects
	// (1..MaxListPage; more is clamped, less is EINVALID) whose keys sort
	// strictly after after ("" for the first page), sorted by key. Passing
	// the last key of a page as after gives the next; an empty page is the
	// end. A walk of any size so holds one page at a time.
	ListPage(ctx context.Context, prefix, after string, limit int) ([]Info, error)
	// DeletePrefix removes every object whose key starts with prefix, which
	// must end with "/".
	DeletePrefix(ctx context.Context, prefix string) error
	// SignedURL returns a URL that lets anyone GET the object under key until
	// ttl passes, or an error with code EUNSUPPORTED when the backend cannot
	// sign (the local directory: the server streams those objects itself).
	SignedURL(ctx context.Context, key string, ttl time.Duration) (string, error)
	// Ping checks that the backend answers.
	Ping(ctx context.Context) error
}

// MaxListPage bounds a ListPage (S3 answers at most 1000 keys a request).
const MaxListPage = 1000

// PutOptions tune Put.
type PutOptions struct {
	// ContentType is stored with the object when the backend keeps one.
	ContentType string
	// IfNotExists makes Put fail with ECONFLICT when the key exists.
	IfNotExists bool
}

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ModTime     time.Time
	ContentType string // empty when the backend keeps none
}

// Object is an open object: a seekable reader that also describes itself, so
// that http.ServeContent can answer range requests from it.
type Object interface {
	io.ReadSeekCloser
	Info() Info
}

// ValidKey reports whether key is acceptable to every backend: non-empty, at
// most 512 bytes, slash-separated segments of [A-Za-z0-9._-] that are neither
// "." nor "..", no leading, trailing or doubled slash.
func ValidKey(key string) bool {
	if key == "" || len(key) > 512 {
		return false
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ValidPrefix reports whether prefix is "" or a valid key followed by "/".
func ValidPrefix(prefix string) bool {
	if prefix == "" {
		return true
	}
	p, ok := strings.CutSuffix(prefix, "/")
	return ok && ValidKey(p)
}

// InvalidKey returns the error backends give for a key ValidKey refuses.
func InvalidKey(key string) error {
	return shopclip.Errorf(shopclip.EINVALID, "blob: invalid key %q", key)
}
