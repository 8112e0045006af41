package queueconsole_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/queueconsole"
	"github.com/shopclip/shopclip/storefront"
	"github.com/shopclip/shopclip/web"
	"github.com/shopclip/shopclip/workers"
)

// TestAccess: only admins, by API key or session, see the console: its
// page, its assets and its API. Anonymous callers get 401 (a browser asking
// for the page goes to the studio's sign-in), creators and brands 403, and
// none of them any of the console.
func TestAccess(t *testing.T) {
	e := newEnv(t, false)
	admin := e.do("GET", queueconsole.Path+"/", e.as("admin", "key")...)
	script := regexp.MustCompile(`src="(` + queueconsole.Path + `/static/js/main\.[0-9a-f]+\.chunk\.js)"`).FindStringSubmatch(admin.body)
	if admin.status != 200 || script == nil {
		t.Fatalf("admin's page: %d, no main script in %.300s", admin.status, admin.body)
	}
	asset := script[1]
	html := []string{"Accept", "text/html,application/xhtml+xml"}
	for _, tc := range []struct {
		name       string
		role, cred string // role "" for anonymous
		path       string
		header     []string
		status     int
	}{
		{name: "anonymous page", path: queueconsole.Path, status: 401},
		{name: "anonymous page slash", path: queueconsole.Path + "/", status: 401},
		{name: "anonymous api", path: queueconsole.Path + "/api/queues", status: 401},
		{name: "anonymous api as a browser", path: queueconsole.Path + "/api/queues", header: html, status: 401},
		{name: "anonymous asset", path: asset, status: 401},
		{name: "anonymous spa route", path: queueconsole.Path + "/queues/transcode", status: 401},
		{name: "bad key", path: queueconsole.Path + "/api/queues", header: []string{"Authorization", "Bearer sc_nope"}, status: 401},
		{name: "unknown session", path: queueconsole.Path + "/api/queues", header: []string{"Cookie", "shopclip_session=ss_nope"}, status: 401},
		{name: "creator key page", role: "creator", cred: "key", path: queueconsole.Path, status: 403},
		{name: "creator key api", role: "creator", cred: "key", path: queueconsole.Path + "/api/queues", status: 403},
		{name: "creator key asset", role: "creator", cred: "key", path: asset, status: 403},
		{name: "creator session page", role: "creator", cred: "cookie", path: queueconsole.Path, header: html, status: 403},
		{name: "creator session api", role: "creator", cred: "cookie", path: queueconsole.Path + "/api/queues", status: 403},
		{name: "brand key page", role: "brand", cred: "key", path: queueconsole.Path, status: 403},
		{name: "brand key api", role: "brand", cred: "key", path: queueconsole.Path + "/api/queues", status: 403},
		{name: "brand session page", role: "brand", cred: "cookie", path: queueconsole.Path, header: html, status: 403},
		{name: "brand session api", role: "brand", cred: "cookie", path: queueconsole.Path + "/api/queues", status: 403},
		{name: "admin key page", role: "admin", cred: "key", path: queueconsole.Path, status: 200},
		{name: "admin key api", role: "admin", cred: "key", path: queueconsole.Path + "/api/queues", status: 200},
		{name: "admin key asset", role: "admin", cred: "key", path: asset, status: 200},
		{name: "admin session page", role: "admin", cred: "cookie", path: queueconsole.Path + "/", header: html, status: 200},
		{name: "admin session spa route", role: "admin", cred: "cookie", path: queueconsole.Path + "/queues/transcode", header: html, status: 200},
		{name: "admin session api", role: "admin", cred: "cookie", path: queueconsole.Path + "/api/queues", status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.do("GET", tc.path, append(e.as(tc.role, tc.cred), tc.header...)...)
			if got.status != tc.status {
				t.Fatalf("GET %s: %d %.200s, want %d", tc.path, got.status, got.body, tc.status)
			}
			if tc.status != 200 {
				if consoleContent(got.body) {
					t.Errorf("GET %s (%d) served console content: %.300s", tc.path, got.status, got.body)
				}
				return
			}
			if !consoleContent(got.body) {
				t.Errorf("GET %s: no console content in %.300s", tc.path, got.body)
			}
		})
	}

	// A browser navigating to the console signed out is sent to sign in,
	// and back to the console after.
	got := e.do("GET", queueconsole.Path+"/queues/transcode", html...)
	if got.status != http.StatusSeeOther || got.header.Get("Location") != "/studio/login?next="+url.QueryEscape(queueconsole.Path+"/queues/transcode") || consoleContent(got.body) {
		t.Errorf("signed-out browser: %d Location %q body %.200s, want 303 to the sign-in", got.status, got.header.Get("Location"), got.body)
	}

	// The API's answer lists shopclip's queues.
	var queues []struct {
		Queue string `json:"queue"`
		Size  int    `json:"size"`
	}
	got = e.do("GET", queueconsole.Path+"/api/queues", e.as("admin", "key")...)
	if err := json.Unmarshal([]byte(got.body), &struct{ Queues any }{&queues}); err != nil {
		t.Fatalf("queues: %v: %s", err, got.body)
	}
	var names []string
	for _, q := range queues {
		names = append(names, q.Queue)
		if q.Size != 1 {
			t.Errorf("queue %s: size %d, want 1", q.Queue, q.Size)
		}
	}
	slices.Sort(names)
	if want := []string{workers.QueueShare, workers.QueueTag, workers.QueueTranscode}; !slices.Equal(names, want) {
		t.Errorf("queues %v, want %v", names, want)
	}
}

// TestReadOnly: by default the console changes nothing, for admins either.
func TestReadOnly(t *testing.T) {
	e := newEnv(t, false)
	id := e.pending[workers.QueueTranscode]
	for _, tc := range []struct{ method, path string }{
		{"DELETE", "/api/queues/transcode/pending_tasks/" + id},
		{"POST", "/api/queues/transcode/pending_tasks/" + id + ":archive"},
		{"DELETE", "/api/queues/transcode/pending_tasks:delete_all"},
		{"POST", "/api/queues/transcode:pause"},
		{"DELETE", "/api/queues/transcode"},
	} {
		for _, cred := range []string{"key", "cookie"} {
			got := e.do(tc.method, queueconsole.Path+tc.path, append(e.as("admin", cred), "Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin")...)
			if got.status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s by %s: %d %s, want 405", tc.method, tc.path, cred, got.status, got.body)
			}
		}
	}
	// Nor is the page's path a way in.
	if got := e.do("POST", queueconsole.Path+"/", e.as("admin", "key")...); got.status != http.StatusMethodNotAllowed {
		t.Errorf("POST to the page: %d, want 405", got.status)
	}
	if info, err := e.insp.GetTaskInfo(workers.QueueTranscode, id); err != nil || info.State.String() != "pending" {
		t.Errorf("the task after the refused writes: %+v, %v", info, err)
	}
	if qi, err := e.insp.GetQueueInfo(workers.QueueTranscode); err != nil || qi.Paused {
		t.Errorf("the queue after the refused writes: %+v, %v", qi, err)
	}
}

// TestWrite: with admin.queue_console_write admins change the queues, by key
// or by session from the console's own pages; a session riding a cross-site
// request is refused, and creators and brands still get nothing.
func TestWrite(t *testing.T) {
	e := newEnv(t, true)
	sameSite := []string{"Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin"}
	crossSite := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}

	// Refused: the task and the queue are as they were.
	tag := e.pending[workers.QueueTag]
	for _, tc := range []struct {
		name   string
		header []string
		status int
	}{
		{"admin session cross-site", append(e.as("admin", "cookie"), crossSite...), 403},
		{"admin session cross-site without Sec-Fetch-Site", append(e.as("admin", "cookie"), "Origin", "https://evil.example"), 403},
		{"creator key", append(e.as("creator", "key"), sameSite...), 403},
		{"brand session", append(e.as("brand", "cookie"), sameSite...), 403},
		{"anonymous", sameSite, 401},
	} {
		for _, w := range []struct{ method, path string }{
			{"DELETE", "/api/queues/tag/pending_tasks/" + tag},
			{"POST", "/api/queues/tag:pause"},
		} {
			if got := e.do(w.method, queueconsole.Path+w.path, tc.header...); got.status != tc.status {
				t.Errorf("%s: %s %s: %d %s, want %d", tc.name, w.method, w.path, got.status, got.body, tc.status)
			}
		}
	}
	if _, err := e.insp.GetTaskInfo(workers.QueueTag, tag); err != nil {
		t.Errorf("the tag task after refused deletes: %v", err)
	}
	if qi, err := e.insp.GetQueueInfo(workers.QueueTag); err != nil || qi.Paused {
		t.Errorf("the tag queue after refused pauses: %+v, %v", qi, err)
	}

	// Admitted: an admin's key, and its session from the console's page.
	if got := e.do("DELETE", queueconsole.Path+"/api/queues/tag/pending_tasks/"+tag, e.as("admin", "key")...); got.status != http.StatusNoContent {
		t.Fatalf("admin key delete: %d %s, want 204", got.status, got.body)
	}
	if _, err := e.insp.GetTaskInfo(workers.QueueTag, tag); err == nil {
		t.Errorf("the tag task is still there after the admin deleted it")
	}
	if got := e.do("POST", queueconsole.Path+"/api/queues/transcode:pause", append(e.as("admin", "cookie"), sameSite...)...); got.status != http.StatusNoContent {
		t.Fatalf("admin session pause: %d %s, want 204", got.status, got.body)
	}
	if qi, err := e.insp.GetQueueInfo(workers.QueueTranscode); err != nil || !qi.Paused {
		t.Errorf("the transcode queue after the admin paused it: %+v, %v", qi, err)
	}
	// Each change is logged with who made it.
	admin := e.users["admin"].account.ID
	for _, want := range []string{"method=DELETE path=" + queueconsole.Path + "/api/queues/tag/pending_tasks/" + tag, "path=" + queueconsole.Path + "/api/queues/transcode:pause status=204 session=true"} {
		if logs := e.logs.String(); !strings.Contains(logs, want) || !strings.Contains(logs, "account_id="+admin) {
			t.Errorf("logs lack %q by %s:\n%s", want, admin, logs)
		}
	}
}

// TestPagePolicy: the console's page carries a Content-Security-Policy that
// admits its inline scripts by hash, and Material-UI's styles by a nonce
// fresh each time, given to them in the page; it loads nothing from
// elsewhere.
func TestPagePolicy(t *testing.T) {
	e := newEnv(t, false)
	var nonces []string
	for range 2 {
		got := e.do("GET", queueconsole.Path+"/", e.as("admin", "key")...)
		csp := got.header.Get("Content-Security-Policy")
		if got.status != 200 || csp == "" || !strings.HasPrefix(got.header.Get("Content-Type"), "text/html") {
			t.Fatalf("page: %d %q %q", got.status, got.header.Get("Content-Type"), csp)
		}
		directives := map[string]string{}
		for d := range strings.SplitSeq(csp, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(got.body, -1)
		if len(scripts) == 0 {
			t.Fatalf("no inline script in %.300s", got.body)
		}
		for _, s := range scripts {
			sum := sha256.Sum256([]byte(s[1]))
			if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(directives["script-src"], h) {
				t.Errorf("script-src %q lacks %s, the hash of %.80q", directives["script-src"], h, s[1])
			}
		}
		if strings.Contains(directives["script-src"], "unsafe") || directives["default-src"] != "'none'" || directives["frame-ancestors"] != "'none'" {
			t.Errorf("policy %q", csp)
		}
		m := regexp.MustCompile(`<meta property="csp-nonce" content="([A-Za-z0-9_-]{16,})"/>`).FindStringSubmatch(got.body)
		if m == nil || directives["style-src"] != "'self' 'nonce-"+m[1]+"'" {
			t.Fatalf("nonce meta %v, style-src %q", m, directives["style-src"])
		}
		nonces = append(nonces, m[1])
		if strings.Contains(got.body, "googleapis") || strings.Contains(got.body, "https://") {
			t.Errorf("the page loads from elsewhere: %.600s", got.body)
		}
		if got.header.Get("X-Frame-Options") != "DENY" || got.header.Get("Cache-Control") != "no-store" {
			t.Errorf("headers %v", got.header)
		}
	}
	if nonces[0] == nonces[1] {
		t.Errorf("the same nonce twice: %s", nonces[0])
	}
}

// TestMount: the console answers at /admin/queues and below only; every
// other path is the API's or the pages', and none of those is under it.
func TestMount(t *testing.T) {
	e := newEnv(t, false)
	for _, tc := range []struct {
		path    string
		console bool
	}{
		{queueconsole.Path, true},
		{queueconsole.Path + "/", true},
		{queueconsole.Path + "/api/servers", true},
		{queueconsole.Path + "x", false},
		{"/admin", false},
		{"/v1/feed", false},
		{"/openapi.json", false},
	} {
		got := e.do("GET", tc.path, e.as("admin", "key")...)
		if tc.console != (got.status == 200 && got.header.Get("Content-Security-Policy") != "" && !strings.Contains(got.body, `"error"`) && got.header.Get("X-Frame-Options") == "DENY") {
			t.Errorf("GET %s: %d %.120s; console: want %v", tc.path, got.status, got.body, tc.console)
		}
	}
	if got := e.do("GET", queueconsole.Path+"x", e.as("admin", "key")...); got.status != 404 || !strings.Contains(got.body, `"not_found"`) {
		t.Errorf("GET %sx: %d %s, want the API's 404", queueconsole.Path, got.status, got.body)
	}
	var paths []string
	for _, rt := range (&storefront.Server{}).Routes() {
		paths = append(paths, rt.Pattern)
	}
	for _, p := range web.Patterns() {
		_, path, _ := strings.Cut(p, " ")
		paths = append(paths, path)
	}
	for _, p := range paths {
		if p == queueconsole.Path || strings.HasPrefix(p, queueconsole.Path+"/") {
			t.Errorf("route %s is under the console's path", p)
		}
	}
}
