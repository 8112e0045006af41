// Package queueconsole is the operator's view of the job queue: asynqmon
// (github.com/hibiken/asynqmon), the asynq web console, served at
// /admin/queues by the API process for admin accounts only.
//
// Who may see it is shopclip's to say, not asynqmon's: every request is
// authenticated as the API and the pages are (an API key in
// "Authorization: Bearer", or the studio's session cookie), anonymous
// callers get 401 (a browser asking for a page is sent to the studio's
// sign-in instead), creators and brands 403. The console is read-only
// unless Config.Write is set (admin.queue_console_write); then its
// state-changing requests (pause a queue, run, archive or delete tasks)
// are refused when a browser sends them from another site
// (auth.Service.CheckSameOrigin, net/http's CrossOriginProtection), and
// each is logged with the admin who made it.
//
// The console is a React application with two inline scripts in its page:
// the page carries a Content-Security-Policy of its own that admits exactly
// those scripts by their hashes and the styles Material-UI injects by a
// nonce fresh for each page (the page's <meta property="csp-nonce">, which
// JSS reads). The page's links to Google Fonts are dropped, so the console
// makes no request outside this server.
//
// The console is mounted beside the API and the pages (Mount), as the pages
// are, and is not in storefront's route table: that table is shopclip's
// JSON API and writes its OpenAPI document, while the console's paths (its
// page, its hashed assets, and asynqmon's own API with routes such as
// POST /admin/queues/api/queues/{qname}:pause) are asynqmon's, change with
// its version, and are no API of shopclip's. No route of the table or page
// lies under /admin/queues (a test checks it).
package queueconsole

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
)

// Path is where the console is served; its pages, assets and API are all
// below it.
const Path = "/admin/queues"

// Authenticator tells who a request comes from, as auth.Service does.
type Authenticator interface {
	// Authenticate finds r's caller: nil for an anonymous one.
	Authenticate(r *http.Request) (*auth.Caller, error)
	// CheckSameOrigin refuses a state-changing request a browser sends
	// from another site.
	CheckSameOrigin(r *http.Request) error
}

// Config is what a Console needs.
type Config struct {
	// Redis is asynq's Redis.
	Redis asynq.RedisConnOpt
	// Auth authenticates callers; required.
	Auth Authenticator
	// Write lets admins change the queues from the console (pause, run,
	// archive, delete); otherwise it only shows them.
	Write  bool
	Logger *slog.Logger
}

// Console serves asynqmon at Path to admins. It is an http.Handler; Close
// it when done.
type Console struct {
	mon    *asynqmon.HTTPHandler
	auth   Authenticator
	write  bool
	log    *slog.Logger
	index  []byte // the console's page, without the Google Fonts links
	hashes string // CSP sources of the page's inline scripts
}

// New makes a console. It connects to Redis only when asked for data.
func New(cfg Config) (*Console, error) {
	if cfg.Redis == nil || cfg.Auth == nil {
		return nil, fmt.Errorf("queueconsole: Config needs Redis and Auth")
	}
	c := &Console{
		mon:   asynqmon.New(asynqmon.Options{RootPath: Path, RedisConnOpt: cfg.Redis, ReadOnly: !cfg.Write}),
		auth:  cfg.Auth,
		write: cfg.Write,
		log:   cfg.Logger,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	// The page is the same for every request (it depends on the options
	// only): render it once, to know its inline scripts.
	rec := newRecorder()
	c.mon.ServeHTTP(rec, httpRequest("GET", Path+"/"))
	if rec.status() != http.StatusOK || !isHTML(rec.header) {
		c.mon.Close()
		return nil, fmt.Errorf("queueconsole: asynqmon's page: %d %s", rec.status(), rec.header.Get("Content-Type"))
	}
	c.index = fontLinks.ReplaceAll(rec.body.Bytes(), nil)
	var srcs []string
	for _, m := range inlineScript.FindAllSubmatch(c.index, -1) {
		sum := sha256.Sum256(m[1])
		srcs = append(srcs, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	if len(srcs) == 0 || !bytes.Contains(c.index, []byte("<head>")) {
		c.mon.Close()
		return nil, fmt.Errorf("queueconsole: asynqmon's page has no inline script or <head>: its layout changed")
	}
	c.hashes = strings.Join(srcs, " ")
	return c, nil
}

var (
	// fontLinks are the page's stylesheets from Google Fonts (Roboto and
	// Material Icons; the system's sans-serif and Material-UI's SVG icons
	// do as well).
	fontLinks = regexp.MustCompile(`<link rel="stylesheet" href="https://fonts\.googleapis\.com/[^"]*"/?>`)
	// inlineScript is a <script> with no attributes and its text.
	inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
)

// Close closes the console's Redis connections.
func (c *Console) Close() error { return c.mon.Close() }

// Mount serves c at Path (and below it) and next everywhere else.
func Mount(next http.Handler, c *Console) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.Handle(Path, c)
	mux.Handle(Path+"/", c)
	return mux
}

// ServeHTTP authenticates the caller, admits admins only, and serves the
// console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if r.URL.Path != Path && !strings.HasPrefix(r.URL.Path, Path+"/") {
		c.fail(w, r, shopclip.Errorf(shopclip.ENOTFOUND, "No route for %s %s.", r.Method, r.URL.Path))
		return
	}
	caller, err := c.auth.Authenticate(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if caller == nil {
		if wantsPage(r) {
			http.Redirect(w, r, "/studio/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		c.fail(w, r, shopclip.Errorf(shopclip.EUNAUTHORIZED, "The queue console needs an admin's API key (\"Authorization: Bearer <key>\") or signed-in session."))
		return
	}
	if caller.Account.Role != shopclip.RoleAdmin {
		c.fail(w, r, shopclip.Errorf(shopclip.EFORBIDDEN, "The queue console is for admin accounts; yours is a %s account.", caller.Account.Role))
		return
	}
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	if !safe {
		// Authenticate refuses a cross-site request riding the cookie
		// already; the console's writes are refused so whatever the
		// credential.
		if err := c.auth.CheckSameOrigin(r); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	if strings.HasPrefix(r.URL.Path, Path+"/api/") {
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		if safe {
			c.mon.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		c.mon.ServeHTTP(sw, r)
		c.log.Info("queue console: change", "account_id", caller.Account.ID, "method", r.Method, "path", r.URL.Path,
			"status", sw.status(), "session", caller.Session != nil)
		return
	}
	if !safe {
		h.Set("Allow", "GET, HEAD")
		c.fail(w, r, shopclip.Errorf(shopclip.EMETHOD, "%s is not allowed on %s; allowed: GET, HEAD.", r.Method, r.URL.Path))
		return
	}
	c.serveUI(w, r)
}

// serveUI serves the console's page and assets: asynqmon answers, and its
// page is served with a fresh nonce and the policy naming it.
func (c *Console) serveUI(w http.ResponseWriter, r *http.Request) {
	rec := newRecorder()
	c.mon.ServeHTTP(rec, r)
	h := w.Header()
	if rec.status() == http.StatusOK && isHTML(rec.header) {
		nonce := newNonce()
		h.Set("Content-Security-Policy", c.policy(nonce))
		h.Set("Content-Type", "text/html; charset=utf-8")
		page := bytes.Replace(c.index, []byte("<head>"), []byte(`<head><meta property="csp-nonce" content="`+nonce+`"/>`), 1)
		w.Write(page)
		return
	}
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	ct := mime.TypeByExtension(path.Ext(r.URL.Path))
	if ct == "" {
		ct = rec.header.Get("Content-Type")
	}
	h.Set("Content-Type", ct)
	if rec.status() == http.StatusOK && strings.HasPrefix(r.URL.Path, Path+"/static/") {
		// Named by their content's hash.
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	}
	w.WriteHeader(rec.status())
	w.Write(rec.body.Bytes())
}

// policy is the page's Content-Security-Policy: scripts from this server
// and the page's own inline ones, styles from this server and those
// Material-UI injects with the nonce, nothing from elsewhere.
func (c *Console) policy(nonce string) string {
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self' " + c.hashes,
		"style-src 'self' 'nonce-" + nonce + "'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src 'self'",
		"manifest-src 'self'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// wantsPage reports whether r is a browser navigating to a page.
func wantsPage(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		!strings.HasPrefix(r.URL.Path, Path+"/api/") && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// fail answers with err as the API does ({"error":{"code","message"}}),
// or as text to a browser asking for a page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := shopclip.ErrorCode(err)
	status := http.StatusInternalServerError
	switch code {
	case shopclip.EUNAUTHORIZED:
		status = http.StatusUnauthorized
	case shopclip.EFORBIDDEN:
		status = http.StatusForbidden
	case shopclip.ENOTFOUND:
		status = http.StatusNotFound
	case shopclip.EMETHOD:
		status = http.StatusMethodNotAllowed
	case shopclip.ERATELIMITED:
		status = http.StatusTooManyRequests
	case shopclip.EUNAVAILABLE:
		status = http.StatusServiceUnavailable
	}
	if status == http.StatusInternalServerError {
		c.log.Error("queue console", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	msg := shopclip.ErrorMessage(err)
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if wantsPage(r) {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%d %s\n\n%s\n", status, http.StatusText(status), msg)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]*shopclip.Error{"error": {Code: code, Message: msg}})
}

func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func isHTML(h http.Header) bool { return strings.HasPrefix(h.Get("Content-Type"), "text/html") }

func httpRequest(method, target string) *http.Request {
	r, err := http.NewRequest(method, target, nil)
	if err != nil {
		panic(err)
	}
	return r
}

// recorder keeps what asynqmon answers, to be rewritten.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if r.header.Get("Content-Type") == "" {
		r.header.Set("Content-Type", http.DetectContentType(b))
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// statusWriter records the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
