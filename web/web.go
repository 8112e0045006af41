// Package web serves shopclip's pages for viewers: the feed (/), a clip's
// watch page with its pop-up cards (/watch/{id}), the deals area (/deals), a
// creator's page (/creators/{id}), search (/search) and the bare player for
// a brand's iframe (/embed/{id}).
//
// Pages are html/template, rendered on the server from the same store the
// API reads, and read well before any script runs (posters, titles, the shop
// list with its buy links, "more" links for the next page). Small ES modules
// (static/js) add what must be live: the HLS player (hls.js, vendored from
// web/package-lock.json into static/vendor; Safari's native HLS where hls.js
// cannot run), the pop-up cards driven by the playback clock through a hidden
// metadata text track, the feed's autoplay and endless scroll, countdowns,
// and viewers' events. Templates and assets are embedded in the binary;
// assets are served under a versioned path with Cache-Control: immutable.
//
// Every page carries one strict Content-Security-Policy (no inline script,
// no eval) and refuses framing, except /embed/{id}, which admits the
// configured frame ancestors.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
)

// Server serves the pages. Set the fields, then call Handler.
type Server struct {
	Store     shopclip.Store
	Discovery shopclip.Discovery
	// Analytics draws the studio's charts of stats per day; without it
	// the stats pages show the totals only.
	Analytics shopclip.Analytics
	// Auth signs creators and brands up and in, for the studio (/studio);
	// without it the studio answers 503.
	Auth *auth.Service
	// PublicURL, when set, is the server's base URL for the absolute links
	// of Open Graph tags (https://clips.example.com); otherwise they are
	// made from the request's Host.
	PublicURL string
	// MediaOrigins are origins other than the server's own that playback
	// comes from, such as the object store presigned media URLs point at
	// (http://minio:9000). The Content-Security-Policy admits them for
	// media, images and fetches.
	MediaOrigins []string
	// FrameAncestors are the origins that may show /embed/{id} in an
	// iframe besides the server's own (a brand's store:
	// https://shop.example.com). Every other page refuses to be framed.
	FrameAncestors []string
	// MaxUploadBytes is the largest upload, as the studio tells creators.
	// Default 1 GiB.
	MaxUploadBytes int64
	// Now is the clock pages are priced at. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	assets   *assets
	pages    *pages
	csp      string // every page's Content-Security-Policy
	embedCSP string // /embed/{id}'s
}

// Patterns lists the method-and-path patterns Handler serves, for mounting it
// beside the API on one http.ServeMux.
func Patterns() []string {
	ps := []string{
		"GET /{$}",
		"GET /watch/{id}",
		"GET /embed/{id}",
		"GET /deals",
		"GET /creators/{id}",
		"GET /search",
		"GET /static/{version}/{name...}",
	}
	for p := range studioPatterns {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// Mount serves pages (a Server's Handler) at the pages' paths and api at
// every other path, on one handler.
func Mount(api, pages http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	for _, p := range Patterns() {
		mux.Handle(p, pages)
	}
	return mux
}

// Handler returns the pages' handler. Call it once, after setting the
// fields.
func (s *Server) Handler() (http.Handler, error) {
	if s.Store == nil || s.Discovery == nil {
		return nil, fmt.Errorf("web: Server needs a Store and a Discovery")
	}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, fmt.Errorf("web: load assets: %w", err)
	}
	if s.pages, err = parsePages(s.assets); err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	media, err := origins(s.MediaOrigins)
	if err != nil {
		return nil, fmt.Errorf("web: media origin: %w", err)
	}
	frames, err := origins(s.FrameAncestors)
	if err != nil {
		return nil, fmt.Errorf("web: frame ancestor: %w", err)
	}
	s.csp = contentSecurityPolicy(media, "'none'")
	s.embedCSP = contentSecurityPolicy(media, strings.Join(append([]string{"'self'"}, frames...), " "))

	mux := http.NewServeMux()
	mux.Handle("GET /static/{version}/{name...}", s.assets)
	for pattern, h := range map[string]func(http.ResponseWriter, *http.Request) error{
		"GET /{$}":           s.feed,
		"GET /watch/{id}":    s.watch,
		"GET /embed/{id}":    s.embed,
		"GET /deals":         s.deals,
		"GET /creators/{id}": s.creator,
		"GET /search":        s.search,
	} {
		mux.Handle(pattern, s.page(h))
	}
	for pattern, h := range studioPatterns {
		mux.Handle(pattern, s.page(func(w http.ResponseWriter, r *http.Request) error { return h(s, w, r) }))
	}
	return mux, nil
}

// origins checks that each of list is a bare http(s) origin (scheme and
// host, a trailing slash at most), so none can smuggle another directive
// into a policy, and returns them without the slash.
func origins(list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, o := range list {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.ContainsAny(o, " ;,'\"*") {
			return nil, fmt.Errorf("%q is not an origin such as https://shop.example.com", o)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}

// contentSecurityPolicy is the policy of every page: scripts, styles and
// fonts only from this server; media, posters and playlists from this server
// and the media origins (hls.js plays through blob: URLs); product images
// from any https origin; framing by the frameAncestors source list only.
func contentSecurityPolicy(media []string, frameAncestors string) string {
	extra := ""
	if len(media) > 0 {
		extra = " " + strings.Join(media, " ")
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' https:" + extra,
		"media-src 'self' blob:" + extra,
		"connect-src 'self'" + extra,
		"font-src 'self'",
		"manifest-src 'self'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors " + frameAncestors,
	}, "; ")
}

// AssetURL is the path the embedded asset name (below static/, such as
// "vendor/hls.min.js") is served at. Call it after Handler.
func (s *Server) AssetURL(name string) string { return s.assets.URL(name) }

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// page wraps a page handler: security headers on every answer, and errors
// rendered as an HTML page with the status their code maps to.
func (s *Server) page(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", s.csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		// No Cross-Origin-Opener-Policy: it makes the browser change
		// processes on navigation (about 100 ms more to the first frame
		// here, make bench-web), and these pages hold nothing private.
		// Prices and lists change: pages are revalidated, never kept.
		hd.Set("Cache-Control", "no-cache")
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger().ErrorContext(r.Context(), "web: panic serving a page", "path", r.URL.Path, "panic", v)
				s.renderError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

// renderError answers with the error page. Internal errors are logged and
// shown without their details.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := shopclip.ErrorCode(err)
	status := http.StatusInternalServerError
	msg := "Something went wrong on our side. Please try again in a moment."
	switch code {
	case shopclip.ENOTFOUND:
		status, msg = http.StatusNotFound, "This page does not exist, or the clip is not available any more."
	case shopclip.EINVALID:
		status, msg = http.StatusBadRequest, shopclip.ErrorMessage(err)
	case shopclip.EFORBIDDEN:
		status, msg = http.StatusForbidden, shopclip.ErrorMessage(err)
	case shopclip.EUNAUTHORIZED:
		status, msg = http.StatusUnauthorized, shopclip.ErrorMessage(err)
	case shopclip.ECONFLICT:
		status, msg = http.StatusConflict, shopclip.ErrorMessage(err)
	case shopclip.ERATELIMITED:
		status, msg = http.StatusTooManyRequests, shopclip.ErrorMessage(err)
	case shopclip.EUNAVAILABLE:
		status, msg = http.StatusServiceUnavailable, "shopclip is busy right now. Please try again in a moment."
	}
	if status == http.StatusInternalServerError {
		if r.Context().Err() != nil {
			return // the viewer left
		}
		s.logger().ErrorContext(r.Context(), "web: page", "path", r.URL.Path, "err", err)
	}
	s.render(w, r, status, "error", &pageData{Title: http.StatusText(status), Main: errorPage{Status: status, Message: msg}})
}

// errorPage is the error template's data.
type errorPage struct {
	Status  int
	Message string
}

// absURL makes a path absolute for tags read by other sites (Open Graph).
func (s *Server) absURL(r *http.Request, path string) string {
	if path == "" || strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	base := strings.TrimSuffix(s.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + path
}

// accountNames looks up the names of accounts, once each, for a page's
// cards; an account that cannot be read shows without a name.
func (s *Server) accountNames(ctx context.Context, ids ...string) map[string]string {
	names := map[string]string{}
	for _, id := range ids {
		if _, ok := names[id]; ok || id == "" {
			continue
		}
		a, err := s.Store.Account(ctx, id)
		if err != nil {
			if ctx.Err() == nil && shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
				s.logger().WarnContext(ctx, "web: account name", "account_id", id, "err", err)
			}
			names[id] = ""
			continue
		}
		names[id] = a.Name
	}
	return names
}

// limits of lists on pages.
const (
	feedPageSize     = 12
	searchLimit      = 40
	dealsLimit       = 60
	creatorPageSize  = 24
	creatorProducts  = 24
	featuredCreators = 8
	featuredWindow   = 30 * 24 * time.Hour
)
