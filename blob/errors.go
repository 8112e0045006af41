package blob

import (
	"context"
	"errors"

	"github.com/shopclip/shopclip"
)

// codedError gives a backend's error a shopclip code: errors.As finds the
// *shopclip.Error, errors.Is the cause, and Error reads like the cause.
type codedError struct {
	code  *shopclip.Error
	cause error
}

// Coded returns cause with the shopclip code and message ("blob: "
// message) that Store's contract promises for it.
func Coded(code, message string, cause error) error {
	return &codedError{code: shopclip.Errorf(code, "blob: %s", message), cause: cause}
}

func (e *codedError) Error() string   { return e.cause.Error() }
func (e *codedError) Unwrap() []error { return []error{e.code, e.cause} }

// CtxError codes a context's error: a deadline that passed makes storage
// EUNAVAILABLE (retry later); a cancellation stays as it is.
func CtxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return Coded(shopclip.EUNAVAILABLE, "object storage timed out", err)
	}
	return err
}
