package blob

import (
	"context"
	"io"
	"time"
)

// ObserveFunc is told of each operation of a Store: its name (one of
// Operations), how long it took and its error (nil on success). It must
// not block.
type ObserveFunc func(op string, took time.Duration, err error)

// Operations are the names ObserveFunc is given: the Store methods'.
var Operations = []string{"put", "open", "stat", "delete", "list", "list_page", "delete_prefix", "signed_url", "ping"}

// Observe returns s with every operation reported to observe, for metrics.
// The result keeps s's optional interfaces (LocalFiler, io.Closer): code
// that asks for them sees no difference; Unwrap returns s.
func Observe(s Store, observe ObserveFunc) Store {
	o := &observed{s: s, observe: observe}
	lf, isFiler := s.(LocalFiler)
	c, isCloser := s.(io.Closer)
	switch {
	case isFiler && isCloser:
		return struct {
			*observed
			LocalFiler
			io.Closer
		}{o, lf, c}
	case isFiler:
		return struct {
			*observed
			LocalFiler
		}{o, lf}
	case isCloser:
		return struct {
			*observed
			io.Closer
		}{o, c}
	}
	return o
}

type observed struct {
	s       Store
	observe ObserveFunc
}

// Unwrap returns the store s wraps (the backend behind an Observe), or s
// itself: code that needs a backend's own methods asks it.
func Unwrap(s Store) Store {
	for {
		u, ok := s.(interface{ Unwrap() Store })
		if !ok {
			return s
		}
		s = u.Unwrap()
	}
}

func (o *observed) Unwrap() Store { return o.s }

func (o *observed) done(op string, start time.Time, err error) {
	o.observe(op, time.Since(start), err)
}

func (o *observed) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (err error) {
	defer func(start time.Time) { o.done("put", start, err) }(time.Now())
	return o.s.Put(ctx, key, r, size, opts)
}

func (o *observed) Open(ctx context.Context, key string) (_ Object, err error) {
	defer func(start time.Time) { o.done("open", start, err) }(time.Now())
	return o.s.Open(ctx, key)
}

func (o *observed) Stat(ctx context.Context, key string) (_ Info, err error) {
	defer func(start time.Time) { o.done("stat", start, err) }(time.Now())
	return o.s.Stat(ctx, key)
}

func (o *observed) Delete(ctx context.Context, key string) (err error) {
	defer func(start time.Time) { o.done("delete", start, err) }(time.Now())
	return o.s.Delete(ctx, key)
}

func (o *observed) List(ctx context.Context, prefix string) (_ []Info, err error) {
	defer func(start time.Time) { o.done("list", start, err) }(time.Now())
	return o.s.List(ctx, prefix)
}

func (o *observed) ListPage(ctx context.Context, prefix, after string, limit int) (_ []Info, err error) {
	defer func(start time.Time) { o.done("list_page", start, err) }(time.Now())
	return o.s.ListPage(ctx, prefix, after, limit)
}

func (o *observed) DeletePrefix(ctx context.Context, prefix string) (err error) {
	defer func(start time.Time) { o.done("delete_prefix", start, err) }(time.Now())
	return o.s.DeletePrefix(ctx, prefix)
}

func (o *observed) SignedURL(ctx context.Context, key string, ttl time.Duration) (_ string, err error) {
	defer func(start time.Time) { o.done("signed_url", start, err) }(time.Now())
	return o.s.SignedURL(ctx, key, ttl)
}

func (o *observed) Ping(ctx context.Context) (err error) {
	defer func(start time.Time) { o.done("ping", start, err) }(time.Now())
	return o.s.Ping(ctx)
}
