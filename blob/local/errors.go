package local

import (
	"context"
	"errors"
	"io/fs"
	"syscall"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// translate codes a file system error. write says whether it came from
// storing an object, where a file or directory in the way is a conflict of
// keys rather than a missing object.
func translate(err error, write bool) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return blob.CtxError(err)
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR),
		errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, fs.ErrExist):
		if write {
			return blob.Coded(shopclip.ECONFLICT, "the key clashes with an object or a prefix of objects", err)
		}
		return blob.Coded(shopclip.ENOTFOUND, "object not found", err)
	case errors.Is(err, fs.ErrNotExist):
		return blob.Coded(shopclip.ENOTFOUND, "object not found", err)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT),
		errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EIO):
		return blob.Coded(shopclip.EUNAVAILABLE, "object storage unavailable", err)
	}
	return err
}
