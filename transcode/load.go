package transcode

import (
	"errors"

	"github.com/shopclip/shopclip"
)

// loadError is a resource-limit error whose cause may be the machine rather
// than the file: the child ran past its wall-clock deadline (a busy machine
// is slower), or something outside its own limits killed it (the kernel's
// OOM killer picks the largest process when the machine runs short).
type loadError struct{ err *shopclip.Error }

func (e *loadError) Error() string { return e.err.Error() + " (possibly because the machine was busy)" }
func (e *loadError) Unwrap() error { return e.err }

// UnderLoad reports whether err is a verdict that load on the machine may
// have caused: the caller should try again (a bounded number of times, as
// for crashes) before blaming the file.
func UnderLoad(err error) bool {
	var e *loadError
	return errors.As(err, &e)
}

// Loaded marks err as a verdict that load on the machine may have caused
// (UnderLoad reports true for it and anything wrapping it).
func Loaded(err *shopclip.Error) error { return &loadError{err} }
