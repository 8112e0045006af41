package storefront

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/clientip"
	"github.com/shopclip/shopclip/internal/logctx"
)

// Every request has a request ID (logctx.Requests, in Handler), echoed in
// X-Request-Id and in its context: each line logged with the context — its
// own line below, its errors, the enqueue of the tasks it causes — carries
// it, and the tasks carry it on to the workers' lines.

// withClipID puts the clip a /v1/clips/{id}/… route is about in r's
// context, for its log lines.
func withClipID(r *http.Request, rt route) *http.Request {
	if !strings.HasPrefix(rt.Pattern, "/v1/clips/{id}") {
		return r
	}
	id := r.PathValue("id")
	if !shopclip.ValidID(shopclip.PrefixClip, id) {
		return r
	}
	return r.WithContext(logctx.WithClipID(r.Context(), id))
}

// quietRoutes are logged at debug level: probes and scrapes that come
// every few seconds.
var quietRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// logRequest writes the line of a request once it is answered: its route,
// status and duration, the caller's account and the client's address,
// with the request ID (and the clip's) from its context. The query is left
// out: it may hold a cursor or a share token.
func (s *Server) logRequest(r *http.Request, rt route, status int, d time.Duration) {
	level := slog.LevelInfo
	if quietRoutes[rt.Pattern] {
		level = slog.LevelDebug
	}
	log := s.logger()
	if !log.Enabled(r.Context(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("route", rt.Pattern),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Float64("seconds", d.Seconds()))
	if a := account(r); a != nil {
		attrs = append(attrs, slog.String("account_id", a.ID))
	}
	if ip := clientip.Of(r); ip.IsValid() {
		attrs = append(attrs, slog.String("client", ip.String()))
	}
	log.LogAttrs(r.Context(), level, "request", attrs...)
}
