package local

import (
	"context"
	"errors"
	"io/fs"
	"syscall"

	"github.com/shopclip/shopclip"
)

// codedError gives an operating system error a shopclip code: errors.As finds
// the *shopclip.Error, errors.Is the cause, and Error reads like the cause.
type codedError struct {
	code  *shopclip.Error
	cause error
}

func coded(code, message string, cause error) error {
	return &codedError{code: shopclip.Errorf(code, "blob: %s", message), cause: cause}
}

func (e *codedError) Error() string   { return e.cause.Error() }
func (e *codedError) Unwrap() []error { return []error{e.code, e.cause} }

// ctxError codes a context's error: a deadline that passed makes storage
// EUNAVAILABLE (retry later); a cancellation stays as it is.
func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return coded(shopclip.EUNAVAILABLE, "object storage timed out", err)
	}
	return err
}

// translate codes a file system error. write says whether it came from
// storing an object, where a file or directory in the way is a conflict of
// keys rather than a missing object.
func translate(err error, write bool) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ctxError(err)
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR),
		errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, fs.ErrExist):
		if write {
			return coded(shopclip.ECONFLICT, "the key clashes with an object or a prefix of objects", err)
		}
		return coded(shopclip.ENOTFOUND, "object not found", err)
	case errors.Is(err, fs.ErrNotExist):
		return coded(shopclip.ENOTFOUND, "object not found", err)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT),
		errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EIO):
		return coded(shopclip.EUNAVAILABLE, "object storage unavailable", err)
	}
	return err
}
