// Package storefront is shopclip's HTTP API: creators upload clips and
// approve tags, brands keep their catalog and tag products into clips, and
// viewers (no key) read the feed, stream HLS and get the pop-ups live now.
// Every route declares the roles it admits in one table (routes.go), so a
// test can walk it, and GET /openapi.json serves the OpenAPI document
// generated from that table and the Go types of its bodies (openapi.go);
// errors are mapped to HTTP statuses in one place (errors.go).
package storefront

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/internal/logctx"
	"github.com/shopclip/shopclip/internal/metrics"
	"github.com/shopclip/shopclip/live"
	"github.com/shopclip/shopclip/ratelimit"
	"github.com/shopclip/shopclip/respcache"
	"github.com/shopclip/shopclip/upload"
)

// Queue enqueues background work.
type Queue interface {
	EnqueueTranscode(ctx context.Context, clipID string) error
	EnqueueTag(ctx context.Context, clipID string) error
	// RetryTranscode enqueues a failed clip's transcode again, with a fresh
	// retry budget.
	RetryTranscode(ctx context.Context, clipID string) error
}

// Check is a readiness check of one dependency.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Server serves the API. Set the fields, then call Handler.
type Server struct {
	Store shopclip.Store
	// Auth tells who calls (API keys and session cookies) and signs
	// accounts up and in. Without it only API keys are known, and the
	// /v1/auth routes answer 503.
	Auth *auth.Service
	// Discovery serves search and deals.
	Discovery shopclip.Discovery
	// Idempotency makes uploads with an Idempotency-Key safe to repeat;
	// without it the header is checked but not honoured.
	Idempotency shopclip.Idempotency
	// Uploads serves resumable (tus) uploads at /v1/uploads/; NewUploads
	// makes it. Without it those routes answer 503.
	Uploads *upload.Service
	// Reprocessing lets creators retry clips that failed for reasons not
	// their files'; without it POST /v1/clips/{id}/retry answers 503.
	Reprocessing shopclip.Reprocessing
	// Analytics serves the daily stats (the .../stats/daily routes);
	// without it they answer 503.
	Analytics shopclip.Analytics
	// Webhooks manages the callers' webhook endpoints (/v1/webhooks);
	// without it those routes answer 503.
	Webhooks WebhookService
	// Answers keeps the answers of the hottest public reads — pop-ups,
	// feed, deals, search — in memory (package respcache); without it they
	// are built for each request. AnswerBus, when set, carries this
	// process's invalidations to the other API processes.
	Answers   *respcache.Cache
	AnswerBus *respcache.Bus
	// Events records viewers' events (POST /v1/events, buy clicks) in
	// group commits (package eventbatch); without it each is a
	// transaction of its own.
	Events EventRecorder
	// Live streams clip status changes (GET /v1/clips/live) and is told of
	// the API's own; without it that route answers 503.
	Live  *live.Hub
	Blobs blob.Store
	Queue Queue
	// Checks are run by /readyz, each with a short timeout.
	Checks []Check
	// MaxUploadBytes bounds one upload. Default 1 GiB.
	MaxUploadBytes int64
	// Quotas counts what accounts' uploads hold, for UploadQuota; without
	// it (or with a zero UploadQuota) no quota is checked.
	Quotas shopclip.UploadQuotas
	// UploadQuota bounds each account's stored bytes and uploads a day.
	UploadQuota UploadQuota
	// MaxConcurrentUploads bounds the uploads receiving bytes at once in
	// this process (POST /v1/clips bodies and tus PATCHes): past it, 503
	// with Retry-After. Default 64.
	MaxConcurrentUploads int
	// MaxConcurrentUploadsPerAccount bounds one account's uploads
	// receiving bytes at once in this process: past it, 429 with
	// Retry-After. Default 4.
	MaxConcurrentUploadsPerAccount int
	// PublicURL, when set, makes returned URLs absolute.
	PublicURL string
	// SignedURLTTL is the life of presigned segment URLs when the blob
	// store can sign them. Default 1h.
	SignedURLTTL time.Duration
	Logger       *slog.Logger
	// Now is the clock pop-ups are priced at. Default time.Now.
	Now func() time.Time

	// Timeouts bound slow clients: how long a request's body may take to
	// arrive and a response's writes to be taken (deadlines.go).
	Timeouts Timeouts

	// EventRate and BuyRate bound, per client address, POST /v1/events and
	// buy clicks a second (bursts of 5x are allowed). Defaults 20 and 5.
	EventRate, BuyRate float64

	// Metrics is the process's metrics registry: the API's collectors
	// join it and GET /metrics serves it. Default a registry of its own.
	Metrics *metrics.Registry

	metrics      *metrics.HTTP
	openAPIJSON  []byte // the OpenAPI document, built by Handler
	eventLimiter *ratelimit.Limiter
	buyLimiter   *ratelimit.Limiter
	uploadGate   *ratelimit.Gate
	// unsigned is set once the blob store said it cannot sign URLs (the
	// local directory): it is not asked again for every segment.
	unsigned atomic.Bool
}

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

// url makes path absolute when a PublicURL is configured.
func (s *Server) url(path string) string {
	return strings.TrimSuffix(s.PublicURL, "/") + path
}

// optURL is url for a path that may be empty (an output a clip lacks).
func (s *Server) optURL(path string) string {
	if path == "" {
		return ""
	}
	return s.url(path)
}

// Handler returns the API's http.Handler. Call it once, after setting the
// fields.
func (s *Server) Handler() http.Handler {
	s.MaxUploadBytes = s.maxUploadBytes()
	s.SignedURLTTL = cmp.Or(s.SignedURLTTL, time.Hour)
	s.Timeouts = s.Timeouts.withDefaults()
	s.EventRate = cmp.Or(s.EventRate, 20)
	s.BuyRate = cmp.Or(s.BuyRate, 5)
	s.eventLimiter = ratelimit.New(s.EventRate, 5*s.EventRate)
	s.buyLimiter = ratelimit.New(s.BuyRate, 5*s.BuyRate)
	s.MaxConcurrentUploads = cmp.Or(s.MaxConcurrentUploads, defaultMaxConcurrentUploads)
	s.MaxConcurrentUploadsPerAccount = cmp.Or(s.MaxConcurrentUploadsPerAccount, defaultMaxConcurrentUploadsPerAccount)
	s.uploadGate = ratelimit.NewGate(s.MaxConcurrentUploadsPerAccount, s.MaxConcurrentUploads)
	if s.Auth == nil {
		s.Auth = &auth.Service{Store: s.Store}
		s.Auth.Init()
	}
	if s.Metrics == nil {
		s.Metrics = metrics.NewRegistry()
	}
	s.metrics = metrics.NewHTTP(s.Metrics)
	s.openAPIJSON = s.buildOpenAPI()
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	return logctx.Requests(s.recoverer(s.unmatched(mux)))
}

// unmatched answers requests no route matches with the API's JSON errors:
// 405 with Allow when the path exists for other methods, 404 otherwise.
// ServeMux's own redirects (to a cleaned path) pass through. The mux is
// asked once: a route's handler (wrap) takes the real writer back from
// routeWriter at once; what reaches routeWriter is the mux's own fallback,
// recorded and answered here.
func (s *Server) unmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &routeWriter{ResponseWriter: w}
		mux.ServeHTTP(rw, r)
		if rw.routed {
			return
		}
		rec := &rw.fallback
		switch {
		case rec.code == http.StatusMethodNotAllowed:
			w.Header().Set("Allow", rec.Header().Get("Allow"))
			writeError(w, r, shopclip.Errorf(shopclip.EMETHOD, "%s is not allowed on %s; allowed: %s.", r.Method, r.URL.Path, rec.Header().Get("Allow")), s.logger())
		case rec.code >= 300 && rec.code < 400:
			http.Redirect(w, r, rec.Header().Get("Location"), rec.code)
		default:
			writeError(w, r, shopclip.Errorf(shopclip.ENOTFOUND, "No route for %s %s.", r.Method, r.URL.Path), s.logger())
		}
	})
}

// routeWriter is the writer the mux gets: a route's handler takes the real
// one back (routed, in wrap); anything else written to it — the mux's 404,
// 405 and redirects — is recorded in fallback.
type routeWriter struct {
	http.ResponseWriter
	routed   bool
	fallback headerRecorder
}

func (w *routeWriter) Header() http.Header         { return w.fallback.Header() }
func (w *routeWriter) Write(b []byte) (int, error) { return w.fallback.Write(b) }
func (w *routeWriter) WriteHeader(code int)        { w.fallback.WriteHeader(code) }

// routed marks w routed and returns the writer the handler is to use.
func routed(w http.ResponseWriter) http.ResponseWriter {
	if rw, ok := w.(*routeWriter); ok {
		rw.routed = true
		return rw.ResponseWriter
	}
	return w
}

// headerRecorder records what ServeMux's fallback handlers write.
type headerRecorder struct {
	header http.Header
	code   int
}

func (h *headerRecorder) Header() http.Header {
	if h.header == nil {
		h.header = http.Header{}
	}
	return h.header
}
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int)        { h.code = code }

// ctxKey keys request-scoped values.
type ctxKey int

const callerKey ctxKey = iota

// caller returns who made r (its account, and its session when it came
// with the session cookie), or nil for a viewer.
func caller(r *http.Request) *auth.Caller {
	c, _ := r.Context().Value(callerKey).(*auth.Caller)
	return c
}

// account returns the authenticated account of r, or nil for a viewer.
func account(r *http.Request) *shopclip.Account {
	if c := caller(r); c != nil {
		return c.Account
	}
	return nil
}

// wrap applies authentication, role checks, error writing and metrics to a
// route's handler.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w = routed(w)
		r = withClipID(r, rt)
		w, r = s.Timeouts.deadlines(w, r, rt.bodyClass())
		sw := &statusWriter{ResponseWriter: w}
		w = sw
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if rt.Public() {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		r, err := s.authorize(r, rt)
		if err == nil {
			if a := account(r); a != nil {
				w.Header().Set("Cache-Control", "no-store")
			}
			err = rt.Handle(s, w, r)
		}
		if err != nil {
			if wait, ok := auth.RetryAfter(err); ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			} else if wait, ok := retryAfter(err); ok {
				setRetryAfter(w, wait)
			}
			writeError(w, r, err, s.logger())
		}
		s.metrics.Request(rt.Method+" "+rt.Pattern, sw.status(), time.Since(start))
		s.logRequest(r, rt, sw.status(), time.Since(start))
	})
}

// authorize finds r's caller (an API key, or the session cookie) and checks
// the route's roles. It returns r with the caller in its context.
func (s *Server) authorize(r *http.Request, rt route) (*http.Request, error) {
	c, err := s.Auth.Authenticate(r)
	if err != nil {
		return r, err
	}
	if c == nil {
		if rt.Public() {
			return r, nil
		}
		return r, shopclip.Errorf(shopclip.EUNAUTHORIZED, "This route needs an API key (\"Authorization: Bearer <key>\") or a signed-in session.")
	}
	r = r.WithContext(context.WithValue(r.Context(), callerKey, c))
	a := c.Account
	if !rt.Admits(a.Role) {
		return r, shopclip.Errorf(shopclip.EFORBIDDEN, "This route is for %s accounts; yours is a %s account.", rt.roleList(), a.Role)
	}
	return r, nil
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger().ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeError(w, r, shopclip.Errorf(shopclip.EINTERNAL, "Internal error."), s.logger())
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = cmp.Or(w.code, code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.code = cmp.Or(w.code, http.StatusOK)
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
