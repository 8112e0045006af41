package storefront_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/local"
	"github.com/shopclip/shopclip/eventbatch"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/live"
	"github.com/shopclip/shopclip/respcache"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/storefront"
	"github.com/shopclip/shopclip/upload"
	"github.com/shopclip/shopclip/workers"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is a storefront served by httptest over a real SQLite store, a local
// blob directory and asynq on a real Redis.
type env struct {
	t         testing.TB
	auth      *auth.Service
	srv       *httptest.Server
	api       *storefront.Server
	store     *store.DB
	blobs     *local.Store
	inspector *asynq.Inspector
	now       time.Time
	uploadDir string // the tus uploads' local backend
	live      *live.Hub
	keys      map[string]string // account name → API key
	accounts  map[string]*shopclip.Account
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "shopclip.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := local.New(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	addr, dbn := testenv.Redis(t)
	opt := asynq.RedisClientOpt{Addr: addr, DB: dbn}
	queue := workers.NewClient(opt, workers.ClientConfig{})
	t.Cleanup(func() { queue.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })

	e := &env{t: t, store: db, blobs: blobs, inspector: insp, keys: map[string]string{}, accounts: map[string]*shopclip.Account{},
		now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	// The store stamps CreatedAt by the same clock the server prices by:
	// price honesty compares a discount's creation with its window.
	db.Now = func() time.Time { return e.now }
	// Sign-in with cheap password hashing (the costs are auth's to test),
	// on the store's clock.
	e.auth = &auth.Service{Store: db, Identity: db, Hasher: &auth.Hasher{Params: auth.Params{Memory: 64, Time: 1, Threads: 1}},
		Now: func() time.Time { return e.now }}
	e.auth.Init()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: dbn})
	t.Cleanup(func() { rdb.Close() })
	e.live = live.New(rdb, nil)
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() { e.live.Run(hubCtx); close(hubDone) }()
	t.Cleanup(func() { stopHub(); <-hubDone })
	// The viewers' answers are kept, on the server's clock, as in
	// production: every test of a public read runs through the cache.
	answers := respcache.New()
	answers.Now = func() time.Time { return e.now }
	// Viewers' events go through group commits, as in production.
	events := eventbatch.New(db, eventbatch.Config{})
	evCtx, stopEvents := context.WithCancel(ctx)
	evDone := make(chan struct{})
	go func() { events.Run(evCtx); close(evDone) }()
	t.Cleanup(func() { stopEvents(); <-evDone })
	e.api = &storefront.Server{
		Events:         events,
		Answers:        answers,
		Store:          db,
		Reprocessing:   db,
		Analytics:      db,
		Live:           e.live,
		Discovery:      db,
		Idempotency:    db,
		Auth:           e.auth,
		Blobs:          blobs,
		Queue:          queue,
		MaxUploadBytes: 2 << 20,
		Now:            func() time.Time { return e.now },
		Checks:         []storefront.Check{{Name: "database", Check: db.Ping}, {Name: "blobs", Check: blobs.Ping}},
	}
	e.uploadDir = filepath.Join(t.TempDir(), "uploads")
	backend, err := upload.Local(e.uploadDir)
	if err != nil {
		t.Fatal(err)
	}
	if e.api.Uploads, err = e.api.NewUploads(backend); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.api.Handler())
	t.Cleanup(e.srv.Close)
	for _, a := range []struct {
		name string
		role shopclip.Role
	}{{"alice", shopclip.RoleCreator}, {"bob", shopclip.RoleCreator}, {"acme", shopclip.RoleBrand}, {"globex", shopclip.RoleBrand}, {"root", shopclip.RoleAdmin}} {
		e.addAccount(a.name, a.role)
	}
	return e
}

func (e *env) addAccount(name string, role shopclip.Role) {
	ctx := context.Background()
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: name, Role: role}
	if err := e.store.CreateAccount(ctx, a); err != nil {
		e.t.Fatal(err)
	}
	key, hash := shopclip.NewAPIKey()
	if err := e.store.CreateAPIKey(ctx, &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: a.ID, Hash: hash}); err != nil {
		e.t.Fatal(err)
	}
	e.keys[name], e.accounts[name] = key, a
}

// response is a decoded API response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// errCode returns the error code of an error response.
func (r response) errCode() string {
	var b struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

func (r response) errMessage() string {
	var b struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(r.Body, &b)
	return b.Error.Message
}

// do sends a request as user ("" for a viewer without a key). A body that is
// not an io.Reader is sent as JSON.
func (e *env) do(user, method, path string, body any, header ...string) response {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		js, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[user])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// status sends a request without a body as user and returns the status
// of the answer without reading it: streams (GET /v1/clips/live) never
// end.
func (e *env) status(user, method, path string) int {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[user])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// upload posts a multipart clip upload as user.
func (e *env) upload(user, title string, file []byte) response {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if title != "" {
		mw.WriteField("title", title)
	}
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	fw.Write(file)
	mw.Close()
	return e.do(user, "POST", "/v1/clips", &buf, "Content-Type", mw.FormDataContentType())
}

// fakeMP4 is the start of an ISO-BMFF file: enough for the upload's sniffing
// (the transcoder is not part of these tests).
func fakeMP4(size int) []byte {
	b := make([]byte, size)
	copy(b, "\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")
	return b
}

// readyClip uploads a clip as user and publishes it through the store as a
// finished transcode would, with a master playlist in the blob store.
func (e *env) readyClip(user string) *shopclip.Clip {
	e.t.Helper()
	resp := e.upload(user, "ready clip", fakeMP4(4096))
	if resp.Status != http.StatusAccepted {
		e.t.Fatalf("upload: %d %s", resp.Status, resp.Body)
	}
	var c shopclip.Clip
	resp.json(e.t, &c)
	ctx := context.Background()
	attempt := shopclip.NewID(shopclip.PrefixAttempt)
	if _, err := e.store.StartClipAttempt(ctx, c.ID, attempt); err != nil {
		e.t.Fatal(err)
	}
	prefix := shopclip.GenerationPrefix(c.ID, attempt)
	master := "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=720x1280\n720p/index.m3u8\n"
	for key, body := range map[string]string{prefix + "master.m3u8": master, prefix + "720p/seg_00000.m4s": strings.Repeat("s", 1000)} {
		if err := e.blobs.Put(ctx, key, strings.NewReader(body), int64(len(body)), blobOpts); err != nil {
			e.t.Fatal(err)
		}
	}
	pub := &shopclip.Publication{Generation: attempt, OutputPrefix: prefix, DurationMS: 10_000, Width: 720, Height: 1280,
		Renditions: []shopclip.Rendition{{Name: "720p", Width: 720, Height: 1280, Bandwidth: 1_000_000}}}
	if err := e.store.PublishClip(ctx, c.ID, attempt, pub); err != nil {
		e.t.Fatal(err)
	}
	got, err := e.store.Clip(ctx, c.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// product creates a product as brand.
func (e *env) product(brand string, priceMinor int64) *shopclip.Product {
	e.t.Helper()
	resp := e.do(brand, "POST", "/v1/products", map[string]any{
		"sku": "SKU-" + brand, "title": "Sneaker 运动鞋", "currency": "USD", "price_minor": priceMinor,
		"url": "https://shop.example.com/p/1", "image_url": "https://cdn.example.com/p/1.jpg",
	})
	if resp.Status != http.StatusCreated {
		e.t.Fatalf("create product: %d %s", resp.Status, resp.Body)
	}
	var p shopclip.Product
	resp.json(e.t, &p)
	return &p
}

var blobOpts = blob.PutOptions{}
