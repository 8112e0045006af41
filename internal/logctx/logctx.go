// Package logctx carries the IDs that let one grep follow an upload through
// shopclip's logs — the request ID, the clip ID and the task ID — in a
// context.Context, and adds them to every log line written with that
// context.
//
// The API gives every request a request ID (Requests), echoed in the
// X-Request-Id response header; the tasks a request enqueues carry it in
// their payload, and the workers put it back in the task's context with the
// task's and the clip's IDs. A logger whose handler is wrapped by
// NewHandler then writes request_id, clip_id and task_id on every line
// logged with a *Context method (InfoContext, Log); Logger returns a logger
// with them attached for code that logs without a context.
package logctx

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/clientip"
)

// The log keys of the IDs.
const (
	RequestIDKey = "request_id"
	ClipIDKey    = "clip_id"
	TaskIDKey    = "task_id"
)

// Header is the HTTP header a request ID travels in.
const Header = "X-Request-Id"

// id names one of the IDs a context carries.
type id int

const (
	requestID id = iota
	clipID
	taskID
	nIDs
)

var keys = [nIDs]string{RequestIDKey, ClipIDKey, TaskIDKey}

type ctxKey struct{ id id }

func with(ctx context.Context, i id, v string) context.Context {
	if v == "" {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{i}, v)
}

func get(ctx context.Context, i id) string {
	v, _ := ctx.Value(ctxKey{i}).(string)
	return v
}

// WithRequestID returns ctx carrying the request ID id ("" leaves ctx as it
// is).
func WithRequestID(ctx context.Context, id string) context.Context { return with(ctx, requestID, id) }

// WithClipID returns ctx carrying the clip ID id.
func WithClipID(ctx context.Context, id string) context.Context { return with(ctx, clipID, id) }

// WithTaskID returns ctx carrying the task ID id.
func WithTaskID(ctx context.Context, id string) context.Context { return with(ctx, taskID, id) }

// RequestID returns the request ID ctx carries, or "".
func RequestID(ctx context.Context) string { return get(ctx, requestID) }

// ClipID returns the clip ID ctx carries, or "".
func ClipID(ctx context.Context) string { return get(ctx, clipID) }

// TaskID returns the task ID ctx carries, or "".
func TaskID(ctx context.Context) string { return get(ctx, taskID) }

// Logger returns l with the IDs ctx carries attached, for code that logs
// without passing the context.
func Logger(ctx context.Context, l *slog.Logger) *slog.Logger {
	var args []any
	for i := range nIDs {
		if v := get(ctx, i); v != "" {
			args = append(args, slog.String(keys[i], v))
		}
	}
	if len(args) == 0 {
		return l
	}
	return l.With(args...)
}

// NewRequestID returns a new random request ID: "req_" and 26 base32
// characters (128 bits).
func NewRequestID() string { return shopclip.NewID("req") }

// MaxRequestIDLen bounds a request ID taken from a proxy.
const MaxRequestIDLen = 128

// ValidRequestID reports whether id is a well-formed request ID: 1 to 128
// ASCII letters, digits and "-_.:" (UUIDs, nginx's $request_id, and ours),
// so that it is safe to echo in a header and to write in a log line.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// Requests gives every request a request ID, in its context and echoed in
// the X-Request-Id response header: the one a trusted proxy sent in
// X-Request-Id when it is well-formed (see clientip: the peer must be one
// of http.trusted_proxies), a new one otherwise — a client's own header
// is never believed, so it cannot pass itself off as another request. A
// request that already has an ID (Requests applied twice) keeps it.
func Requests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if RequestID(r.Context()) != "" {
			next.ServeHTTP(w, r)
			return
		}
		id := r.Header.Get(Header)
		if !ValidRequestID(id) || !clientip.From(r).Proxy {
			id = NewRequestID()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(WithRequestID(r.Context(), id)))
	})
}

// Handler is a slog.Handler that adds the IDs a record's context carries
// (request_id, clip_id, task_id) to it before passing it on, unless the
// record or the logger already has an attribute of that name (an ID
// attached with Logger or With is not written twice). IDs of a logger with
// a group open are written in that group.
type Handler struct {
	next slog.Handler
	// have marks the IDs attached to the logger with WithAttrs.
	have [nIDs]bool
}

// NewHandler returns a Handler passing records on to next.
func NewHandler(next slog.Handler) *Handler { return &Handler{next: next} }

// Enabled reports whether next handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the context's IDs to r and passes it on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.next.Handle(ctx, r)
	}
	var add [nIDs]string
	n := 0
	for i := range nIDs {
		if !h.have[i] {
			if add[i] = get(ctx, i); add[i] != "" {
				n++
			}
		}
	}
	if n == 0 {
		return h.next.Handle(ctx, r)
	}
	r.Attrs(func(a slog.Attr) bool {
		for i := range nIDs {
			if add[i] != "" && a.Key == keys[i] {
				add[i] = ""
			}
		}
		return true
	})
	r = r.Clone()
	for i := range nIDs {
		if add[i] != "" {
			r.AddAttrs(slog.String(keys[i], add[i]))
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a Handler whose logger has attrs attached.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.next = h.next.WithAttrs(attrs)
	for _, a := range attrs {
		for i := range nIDs {
			if a.Key == keys[i] {
				h2.have[i] = true
			}
		}
	}
	return &h2
}

// WithGroup returns a Handler with a group open.
func (h *Handler) WithGroup(name string) slog.Handler {
	h2 := *h
	h2.next = h.next.WithGroup(name)
	return &h2
}
