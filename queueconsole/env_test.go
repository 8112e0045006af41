package queueconsole_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/queueconsole"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/storefront"
	"github.com/shopclip/shopclip/web"
	"github.com/shopclip/shopclip/workers"
)

func TestMain(m *testing.M) {
	code := testenv.Run(m)
	stopBrowser()
	os.Exit(code)
}

// password of every test account.
const password = "correct horse battery staple"

// env is shopclip's HTTP side as cmd/shopclip wires it (the API, the pages
// and the console on one server) over a SQLite store and asynq on a real
// Redis holding a task in each of shopclip's queues.
type env struct {
	t       testing.TB
	db      *store.DB
	auth    *auth.Service
	srv     *httptest.Server
	insp    *asynq.Inspector
	logs    *testenv.SyncBuffer
	users   map[string]*user // by role
	pending map[string]string
}

// user is an account with an API key and a signed-in session.
type user struct {
	account *shopclip.Account
	email   string
	key     string
	session string // the session cookie's value
}

func newEnv(t testing.TB, write bool) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, users: map[string]*user{}, pending: map[string]string{}, logs: &testenv.SyncBuffer{}}
	var err error
	if e.db, err = store.Open(ctx, filepath.Join(t.TempDir(), "shopclip.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	e.auth = &auth.Service{Store: e.db, Identity: e.db, Hasher: &auth.Hasher{Params: auth.Params{Memory: 64, Time: 1, Threads: 1}}}
	e.auth.Init()

	addr, dbn := testenv.Redis(t)
	opt := asynq.RedisClientOpt{Addr: addr, DB: dbn}
	q := workers.NewClient(opt, workers.ClientConfig{})
	t.Cleanup(func() { q.Close() })
	clip := shopclip.NewID(shopclip.PrefixClip)
	for _, enqueue := range []func() error{
		func() error { return q.EnqueueTranscode(ctx, clip) },
		func() error { return q.EnqueueTag(ctx, clip) },
		func() error { return q.EnqueueShare(ctx, clip, 0) },
	} {
		if err := enqueue(); err != nil {
			t.Fatal(err)
		}
	}
	e.insp = asynq.NewInspector(opt)
	t.Cleanup(func() { e.insp.Close() })
	for _, queue := range []string{workers.QueueTranscode, workers.QueueTag, workers.QueueShare} {
		tasks, err := e.insp.ListPendingTasks(queue)
		if err != nil || len(tasks) != 1 {
			t.Fatalf("queue %s: %d pending tasks, %v", queue, len(tasks), err)
		}
		e.pending[queue] = tasks[0].ID
	}

	for _, role := range []shopclip.Role{shopclip.RoleAdmin, shopclip.RoleCreator, shopclip.RoleBrand} {
		e.users[string(role)] = e.newUser(role)
	}

	console, err := queueconsole.New(queueconsole.Config{Redis: opt, Auth: e.auth, Write: write, Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { console.Close() })
	api := &storefront.Server{Store: e.db, Discovery: e.db, Auth: e.auth, Queue: q}
	pages := &web.Server{Store: e.db, Discovery: e.db, Auth: e.auth}
	ph, err := pages.Handler()
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(queueconsole.Mount(web.Mount(api.Handler(), ph), console))
	t.Cleanup(e.srv.Close)
	return e
}

// newUser makes an account of role with a password, an API key and a
// session.
func (e *env) newUser(role shopclip.Role) *user {
	e.t.Helper()
	ctx := context.Background()
	u := &user{email: string(role) + "@example.com"}
	u.account = &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "The " + string(role), Role: role}
	hash, err := e.auth.Hasher.Hash(ctx, password)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.CreateAccountLogin(ctx, u.account, &shopclip.Login{AccountID: u.account.ID, Email: u.email, PasswordHash: hash}, "", time.Now()); err != nil {
		e.t.Fatal(err)
	}
	if u.key, _, err = e.auth.NewKey(ctx, u.account.ID, "console test"); err != nil {
		e.t.Fatal(err)
	}
	if _, u.session, _, err = e.auth.LogIn(ctx, u.email, password, auth.Client{Addr: "127.0.0.1"}); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   string
}

// do makes a request without following redirects; header holds name, value
// pairs.
func (e *env) do(method, path string, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

// as returns the header pairs that make a request as role by cred ("key" or
// "cookie"); none for an anonymous one.
func (e *env) as(role, cred string) []string {
	u := e.users[role]
	switch {
	case u == nil:
		return nil
	case cred == "key":
		return []string{"Authorization", "Bearer " + u.key}
	default:
		return []string{"Cookie", auth.CookieName + "=" + u.session}
	}
}

// consoleContent reports whether body holds anything of asynqmon's: its page
// or its API's answers.
func consoleContent(body string) bool {
	for _, s := range []string{"FLAG_ROOT_PATH", "Asynq", "webpackJsonp", `"queues"`, `"queue":`} {
		if strings.Contains(body, s) {
			return true
		}
	}
	return false
}
