package s3

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"syscall"

	"github.com/minio/minio-go/v7"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// S3 error codes minio-go has no constant for.
const (
	codeConditionalRequestConflict = "ConditionalRequestConflict" // AWS: a concurrent conditional write won
	codeParentIsObject             = "XMinioParentIsObject"       // MinIO: "a" is an object, Put "a/b"
	codeObjectExistsAsDirectory    = "XMinioObjectExistsAsDirectory"
	codeServiceUnavailable         = "ServiceUnavailable"
	codeServerNotInitialized       = "XMinioServerNotInitialized"
)

// translate codes an error from minio-go, once, for every operation. ctx is
// the operation's: when it has ended, its error is the one that matters.
func (s *Store) translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return blob.CtxError(cerr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// minio-go's own timeouts, not ours.
		return blob.Coded(shopclip.EUNAVAILABLE, "object storage timed out", err)
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.Code {
		case minio.NoSuchKey, minio.NoSuchUpload:
			return blob.Coded(shopclip.ENOTFOUND, "object not found", err)
		case minio.NoSuchBucket:
			return blob.Coded(shopclip.EUNAVAILABLE, "bucket "+s.bucket+" does not exist", err)
		case minio.PreconditionFailed, codeConditionalRequestConflict, minio.Conflict:
			return blob.Coded(shopclip.ECONFLICT, "object already exists", err)
		case codeParentIsObject, codeObjectExistsAsDirectory:
			return blob.Coded(shopclip.ECONFLICT, "the key clashes with an object or a prefix of objects", err)
		case minio.EntityTooLarge:
			return blob.Coded(shopclip.ETOOLARGE, "object too large", err)
		case minio.UnexpectedEOF, minio.IncompleteBody, minio.BadDigest, minio.InvalidDigest,
			minio.XAmzContentSHA256Mismatch, minio.EntityTooSmall, minio.XMinioInvalidObjectName:
			return blob.Coded(shopclip.EINVALID, "object refused", err)
		case "SlowDown", "SlowDownRead", "SlowDownWrite", minio.InternalError, codeServiceUnavailable,
			codeServerNotInitialized, "RequestTimeout":
			return blob.Coded(shopclip.EUNAVAILABLE, "object storage unavailable", err)
		}
		switch {
		case resp.StatusCode == 404:
			return blob.Coded(shopclip.ENOTFOUND, "object not found", err)
		case resp.StatusCode == 412:
			return blob.Coded(shopclip.ECONFLICT, "object already exists", err)
		case resp.StatusCode >= 500:
			return blob.Coded(shopclip.EUNAVAILABLE, "object storage unavailable", err)
		}
		return err
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &netErr) || errors.As(err, &urlErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return blob.Coded(shopclip.EUNAVAILABLE, "object storage unavailable", err)
	}
	return err
}
