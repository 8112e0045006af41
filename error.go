package shopclip

import (
	"errors"
	"fmt"
)

// Error codes. Each adapter translates its vendor errors into one of these;
// storefront maps them to HTTP statuses in one place.
const (
	ECONFLICT     = "conflict"     // the request conflicts with the current state
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // the input is malformed or out of range
	ENOTFOUND     = "not_found"    // no such object (or not visible to the caller)
	ETOOLARGE     = "too_large"    // the request body exceeds a limit
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retry later
	EUNSUPPORTED  = "unsupported"  // a media type or feature we do not accept
	ERATELIMITED  = "rate_limited" // too many requests
	EMETHOD       = "method_not_allowed"
)

// Media error codes: why an upload could not be transcoded. They end a clip in
// status failed and are shown to its creator with Error.Message.
const (
	EMEDIAEMPTY      = "media_empty"          // zero-byte upload
	EMEDIAUNREADABLE = "media_unreadable"     // not a container we can open, or corrupt
	EMEDIAFORMAT     = "media_format"         // a container outside the allowlist
	EMEDIACODEC      = "media_codec"          // a codec outside the allowlist
	EMEDIANOVIDEO    = "media_no_video"       // no video stream (audio-only and the like)
	EMEDIADECODE     = "media_decode"         // the video stream yields no decodable frames
	EMEDIADIMENSIONS = "media_dimensions"     // too large or too small a picture
	EMEDIADURATION   = "media_duration"       // too long (or no duration at all)
	EMEDIASTREAMS    = "media_streams"        // too many streams
	EMEDIAFRAMERATE  = "media_frame_rate"     // frame rate out of range
	EMEDIAAUDIO      = "media_audio"          // audio channels or sample rate out of range
	EMEDIALIMIT      = "media_resource_limit" // the transcoder hit a CPU, memory or time cap
	EMEDIACRASH      = "media_crash"          // the transcoder crashed on this input, repeatedly
)

// Error is an application error: a stable machine-readable Code and a Message
// a person understands. Wrap it with %w to add operation context for logs;
// ErrorCode and ErrorMessage find it again.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("shopclip error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the *Error in err's chain, or a generic
// message for other errors, which may hold details not meant for users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// IsMediaError reports whether code says the upload itself is unusable, so
// retrying the transcode cannot help.
func IsMediaError(code string) bool {
	switch code {
	case EMEDIAEMPTY, EMEDIAUNREADABLE, EMEDIAFORMAT, EMEDIACODEC, EMEDIANOVIDEO,
		EMEDIADECODE, EMEDIADIMENSIONS, EMEDIADURATION, EMEDIASTREAMS,
		EMEDIAFRAMERATE, EMEDIAAUDIO, EMEDIALIMIT, EMEDIACRASH:
		return true
	}
	return false
}
