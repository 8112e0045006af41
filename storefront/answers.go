package storefront

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/respcache"
)

// How long clients and CDNs may reuse the public reads' answers (a kept
// answer also tells them when it stops being true: never past that).
const (
	popupsMaxAge = 5 * time.Second
	feedMaxAge   = 5 * time.Second
	dealsMaxAge  = 5 * time.Second
	searchMaxAge = 30 * time.Second
)

// invalidate drops the kept answers that show clipID (its pop-ups, and the
// lists) here and in the other API processes; "" drops every answer. Every
// path that changes what a clip's pop-ups show calls it after its change is
// committed.
func (s *Server) invalidate(ctx context.Context, clipID string) {
	switch {
	case s.AnswerBus != nil:
		s.AnswerBus.Invalidate(ctx, clipID)
	case clipID == "":
		s.Answers.InvalidateAll()
	default:
		s.Answers.Invalidate(clipID)
	}
}

// jsonAnswer encodes v as writeJSON does, as an answer expiring at expires
// (zero: none of its own).
func jsonAnswer(v any, expires time.Time) (*respcache.Answer, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return respcache.NewAnswer(b.Bytes(), expires), nil
}

// writeAnswer writes a JSON answer with its ETag, 304 when the client holds
// it already. Viewers' answers may be reused for maxAge, never past the
// answer's expiry; a signed-in caller's are not stored (wrap said so).
func (s *Server) writeAnswer(w http.ResponseWriter, r *http.Request, a *respcache.Answer, maxAge time.Duration) error {
	h := w.Header()
	h.Set("ETag", a.ETag)
	if account(r) == nil {
		if !a.Expires.IsZero() {
			maxAge = min(maxAge, a.Expires.Sub(s.now()))
		}
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(max(0, int(maxAge/time.Second))))
	}
	if etagMatch(r.Header.Get("If-None-Match"), a.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(a.Body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(a.Body)
	return err
}

// writeFile writes a file kept in memory (a segment, a poster, a ready
// playlist) with its ETag and the given Cache-Control and Content-Type:
// 304 when the client holds it, in one write otherwise. Range requests and
// the other conditional headers go through http.ServeContent.
func writeFile(w http.ResponseWriter, r *http.Request, a *respcache.Answer, cacheControl, contentType string) {
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("Content-Type", contentType)
	h.Set("ETag", a.ETag)
	if r.Header.Get("Range") != "" || r.Header.Get("If-Match") != "" || r.Header.Get("If-Unmodified-Since") != "" {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.Body))
		return
	}
	h.Set("Accept-Ranges", "bytes")
	if etagMatch(r.Header.Get("If-None-Match"), a.ETag) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			h.Del("Content-Type")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(a.Body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(a.Body)
	}
}

// etagMatch reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// viewerLookupAge bounds how long a clip, tag or product read for viewers'
// requests (media, events, buy) is reused. Changes made through the API
// drop them at once; a worker's (a clip published again) shows within it.
const viewerLookupAge = 5 * time.Second

// readyClipForViewers returns clip id if it is ready, from memory when it
// was read in the last few seconds; ENOTFOUND otherwise.
func (s *Server) readyClipForViewers(ctx context.Context, id string) (*shopclip.Clip, error) {
	a, err := s.Answers.Get(ctx, respcache.Clip, id+"/clip", func(ctx context.Context) (*respcache.Answer, error) {
		c, err := s.Store.Clip(ctx, id)
		if err != nil {
			return nil, err
		}
		expires := s.now().Add(viewerLookupAge)
		if c.Status != shopclip.ClipReady {
			expires = s.now() // not kept
		}
		return &respcache.Answer{Value: c, Expires: expires}, nil
	})
	if err != nil {
		return nil, err
	}
	c := a.Value.(*shopclip.Clip)
	if c.Status != shopclip.ClipReady {
		return nil, notFound("Clip", id)
	}
	return c, nil
}

// lookup returns the object get reads, from memory when it was read in the
// last few seconds and no change has been made through the API since
// (every invalidation drops these).
func lookup[T any](s *Server, ctx context.Context, key string, get func(context.Context) (T, error)) (T, error) {
	a, err := s.Answers.Get(ctx, respcache.List, key, func(ctx context.Context) (*respcache.Answer, error) {
		v, err := get(ctx)
		if err != nil {
			return nil, err
		}
		return &respcache.Answer{Value: v, Expires: s.now().Add(viewerLookupAge)}, nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return a.Value.(T), nil
}

// viewerTag returns tag id for a viewer's request (see lookup).
func (s *Server) viewerTag(ctx context.Context, id string) (*shopclip.Tag, error) {
	return lookup(s, ctx, "tag\x00"+id, func(ctx context.Context) (*shopclip.Tag, error) { return s.Store.Tag(ctx, id) })
}

// viewerProduct returns product id for a viewer's request (see lookup).
func (s *Server) viewerProduct(ctx context.Context, id string) (*shopclip.Product, error) {
	return lookup(s, ctx, "product\x00"+id, func(ctx context.Context) (*shopclip.Product, error) { return s.Store.Product(ctx, id) })
}
