package shopclip

import "context"

// Reprocessing sends a failed clip through the transcoder again, for
// failures that were not the file's fault (a storage outage that outlasted
// the retries, a bug since fixed). One implementation (package store)
// serves SQLite and PostgreSQL; store/storetest.RunReprocessing holds both to
// this contract.
type Reprocessing interface {
	// ReprocessClip puts a failed clip back in status uploaded, with no
	// error, progress, attempts, crashes or owning attempt, and returns it.
	// ECONFLICT when the clip is not failed, ENOTFOUND when there is none.
	ReprocessClip(ctx context.Context, id string) (*Clip, error)
}

// Reprocessable reports whether a clip that failed with e may be sent
// through the transcoder again: when the failure was not the file's (media
// errors are, and would fail again).
func Reprocessable(e *Error) bool {
	return e == nil || !IsMediaError(e.Code)
}
