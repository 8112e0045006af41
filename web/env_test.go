package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/local"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/live"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/storefront"
	"github.com/shopclip/shopclip/transcode"
	"github.com/shopclip/shopclip/transcode/ffmpeg"
	"github.com/shopclip/shopclip/upload"
	"github.com/shopclip/shopclip/web"
	"github.com/shopclip/shopclip/workers"
)

func TestMain(m *testing.M) {
	code := testenv.Run(m)
	stopBrowser()
	cleanupMedia()
	cleanupNPM()
	os.Exit(code)
}

// The clip every test plays: 8 s of a vertical 360x640 test pattern with a
// tone, transcoded once per test run by the real engine (in this process).
var media struct {
	once sync.Once
	src  string // the test clip
	dir  string // the engine's output directory
	rep  *transcode.Report
	err  error
}

func cleanupMedia() {
	if media.dir != "" {
		os.RemoveAll(filepath.Dir(media.dir))
	}
}

// transcoded returns the output directory and report of the test clip.
func transcoded(t testing.TB) (string, *transcode.Report) {
	t.Helper()
	ff := testenv.Tool(t, "ffmpeg")
	media.once.Do(func() {
		dir, err := os.MkdirTemp("", "shopclip-web-media-")
		if err != nil {
			media.err = err
			return
		}
		media.src = filepath.Join(dir, "clip.mp4")
		cmd := exec.Command(ff, "-nostdin", "-v", "error", "-y",
			"-f", "lavfi", "-i", "testsrc2=size=360x640:rate=30:duration=8",
			"-f", "lavfi", "-i", "sine=frequency=440:duration=8",
			"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", media.src)
		if out, err := cmd.CombinedOutput(); err != nil {
			media.err = fmt.Errorf("make the test clip: %v: %s", err, out)
			return
		}
		media.dir = filepath.Join(dir, "out")
		media.rep, media.err = ffmpeg.Transcode(context.Background(), media.src, media.dir, transcode.Config{}, nil)
	})
	if media.err != nil {
		t.Fatalf("test clip: %v", media.err)
	}
	return media.dir, media.rep
}

// world is the product's HTTP side as shopclip serves it: the API and the
// pages on one server, over a real SQLite store, a local blob directory and
// asynq on a real Redis, with clips published from real transcoder output.
type world struct {
	t      testing.TB
	db     *store.DB
	blobs  *local.Store
	srv    *httptest.Server
	auth   *auth.Service
	api    *storefront.Server
	pages  *web.Server
	live   *live.Hub
	keys   map[string]string // account ID → API key
	clipN  int
	mu     sync.Mutex
	nowFn  func() time.Time
	frames []string
}

type worldOption func(*world)

// framedBy admits origin as a frame ancestor of /embed/{id}.
func framedBy(origin string) worldOption {
	return func(w *world) { w.frames = append(w.frames, origin) }
}

func newWorld(t testing.TB, opts ...worldOption) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, keys: map[string]string{}, nowFn: time.Now}
	for _, o := range opts {
		o(w)
	}
	var err error
	if w.db, err = store.Open(ctx, filepath.Join(t.TempDir(), "shopclip.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.db.Close() })
	if w.blobs, err = local.New(filepath.Join(t.TempDir(), "blobs")); err != nil {
		t.Fatal(err)
	}
	addr, dbn := testenv.Redis(t)
	opt := asynq.RedisClientOpt{Addr: addr, DB: dbn}
	queue := workers.NewClient(opt, workers.ClientConfig{})
	t.Cleanup(func() { queue.Close() })
	// Sign-in with cheap password hashing (its costs are auth's to test).
	w.auth = &auth.Service{Store: w.db, Identity: w.db, Hasher: &auth.Hasher{Params: auth.Params{Memory: 64, Time: 1, Threads: 1}}, Now: w.now}
	w.auth.Init()
	// Live status, resumable uploads and retries, as the studio uses them.
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: dbn})
	t.Cleanup(func() { rdb.Close() })
	w.live = live.New(rdb, nil)
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() { w.live.Run(hubCtx); close(hubDone) }()
	t.Cleanup(func() { stopHub(); <-hubDone })
	w.api = &storefront.Server{Store: w.db, Discovery: w.db, Idempotency: w.db, Reprocessing: w.db, Live: w.live, Auth: w.auth,
		Blobs: w.blobs, Queue: queue, Now: w.now, EventRate: 1000, BuyRate: 1000}
	backend, err := upload.Local(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	if w.api.Uploads, err = w.api.NewUploads(backend); err != nil {
		t.Fatal(err)
	}
	w.pages = &web.Server{Store: w.db, Discovery: w.db, Analytics: w.db, Auth: w.auth, Now: w.now, FrameAncestors: w.frames}
	ph, err := w.pages.Handler()
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(web.Mount(w.api.Handler(), ph))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *world) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nowFn()
}

// account makes an account with an API key.
func (w *world) account(role shopclip.Role, name string) *shopclip.Account {
	w.t.Helper()
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: name, Role: role}
	if err := w.db.CreateAccount(context.Background(), a); err != nil {
		w.t.Fatal(err)
	}
	key, hash := shopclip.NewAPIKey()
	if err := w.db.CreateAPIKey(context.Background(), &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: a.ID, Hash: hash}); err != nil {
		w.t.Fatal(err)
	}
	w.keys[a.ID] = key
	return a
}

// clip publishes a ready clip of creator titled title, its outputs the test
// clip's, copied under its own generation prefix as a worker publishes them.
func (w *world) clip(creator *shopclip.Account, title string) *shopclip.Clip {
	w.t.Helper()
	dir, rep := transcoded(w.t)
	return w.publish(creator, title, dir, rep)
}

// publish makes a ready clip of creator's from the engine's output in dir.
func (w *world) publish(creator *shopclip.Account, title, dir string, rep *transcode.Report) *shopclip.Clip {
	w.t.Helper()
	ctx := context.Background()
	c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: creator.ID, Title: title}
	c.OriginalKey = shopclip.OriginalKey(c.ID)
	if err := w.db.CreateClip(ctx, c); err != nil {
		w.t.Fatal(err)
	}
	attempt := shopclip.NewID(shopclip.PrefixAttempt)
	if _, err := w.db.StartClipAttempt(ctx, c.ID, attempt); err != nil {
		w.t.Fatal(err)
	}
	prefix := shopclip.GenerationPrefix(c.ID, attempt)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		key := prefix + filepath.ToSlash(rel)
		return w.blobs.Put(ctx, key, bytes.NewReader(b), int64(len(b)), blob.PutOptions{ContentType: blob.ContentTypeByKey(key)})
	})
	if err != nil {
		w.t.Fatal(err)
	}
	pub := &shopclip.Publication{Generation: attempt, OutputPrefix: prefix, DurationMS: rep.DurationMS, Width: rep.Width, Height: rep.Height,
		Renditions: rep.Renditions, HasMP4: rep.MP4 != "", HasPoster: rep.Poster != "", HasStoryboard: rep.Storyboard != ""}
	if err := w.db.PublishClip(ctx, c.ID, attempt, pub); err != nil {
		w.t.Fatal(err)
	}
	got, err := w.db.Clip(ctx, c.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

// call makes an API request with key (none when empty) and a JSON body (none
// when nil), checks the status and decodes the answer into out (if not nil).
func (w *world) call(key, method, path string, body any, status int, out any) {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.srv.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		w.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, b, status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// product adds a product to brand's catalog through the API.
func (w *world) product(brand *shopclip.Account, title string, priceMinor int64, url, image string) *shopclip.Product {
	w.t.Helper()
	var p shopclip.Product
	w.call(w.keys[brand.ID], "POST", "/v1/products", map[string]any{
		"sku": fmt.Sprintf("SKU-%d", time.Now().UnixNano()), "title": title, "currency": "USD", "price_minor": priceMinor,
		"url": url, "image_url": image,
	}, 201, &p)
	return &p
}

// discount puts a percent discount on p from from to to.
func (w *world) discount(brand *shopclip.Account, p *shopclip.Product, pct int, from, to time.Time, flash bool, coupon string) {
	w.t.Helper()
	body := map[string]any{"kind": "percent", "percent_off": pct, "starts_at": from.UTC().Format(time.RFC3339Nano),
		"ends_at": to.UTC().Format(time.RFC3339Nano), "flash": flash}
	if coupon != "" {
		body["coupon_code"] = coupon
	}
	w.call(w.keys[brand.ID], "POST", "/v1/products/"+p.ID+"/discounts", body, 201, nil)
}

// tag tags p into c at [start, end) ms and (x, y), approved by c's creator.
func (w *world) tag(brand *shopclip.Account, c *shopclip.Clip, p *shopclip.Product, start, end int64, x, y float64) *shopclip.Tag {
	w.t.Helper()
	var tg shopclip.Tag
	w.call(w.keys[brand.ID], "POST", "/v1/clips/"+c.ID+"/tags", map[string]any{
		"product_id": p.ID, "start_ms": start, "end_ms": end, "x": x, "y": y,
	}, 202, &tg)
	if tg.Status != shopclip.TagActive {
		w.call(w.keys[c.CreatorID], "POST", "/v1/clips/"+c.ID+"/tags/"+tg.ID+"/approve", nil, 200, &tg)
	}
	return &tg
}

// get fetches path from the server without a key.
func (w *world) get(path string, header ...string) (*http.Response, string) {
	w.t.Helper()
	req, err := http.NewRequest("GET", w.srv.URL+path, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return res, string(b)
}

// shop is a brand's online store: an HTTP server on 127.0.0.1 that records
// the requests buy links land on.
type shop struct {
	*httptest.Server
	mu   sync.Mutex
	hits []*http.Request
}

func newShop(t testing.TB) *shop {
	s := &shop{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits = append(s.hits, r)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>Acme store</title><h1>Acme store: %s</h1>", strings.TrimPrefix(r.URL.Path, "/"))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *shop) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.hits...)
}

// scene is the cast most tests need: a world with a brand's shop, a creator
// ("alice") with one ready clip, and a brand ("acme").
type scene struct {
	*world
	shop    *shop
	creator *shopclip.Account
	brand   *shopclip.Account
	clip    *shopclip.Clip
}

func newScene(t testing.TB, clipTitle string, opts ...worldOption) *scene {
	t.Helper()
	w := newWorld(t, opts...)
	sc := &scene{world: w, shop: newShop(t)}
	sc.creator = w.account(shopclip.RoleCreator, "alice")
	sc.brand = w.account(shopclip.RoleBrand, "acme")
	sc.clip = w.clip(sc.creator, clipTitle)
	return sc
}

// productTag adds a product priced priceMinor (USD) to the brand's catalog,
// sold at the shop's path, and tags it into the scene's clip.
func (sc *scene) productTag(title string, priceMinor int64, path string, start, end int64, x, y float64) (*shopclip.Product, *shopclip.Tag) {
	sc.t.Helper()
	p := sc.product(sc.brand, title, priceMinor, sc.shop.URL+path, "")
	return p, sc.tag(sc.brand, sc.clip, p, start, end, x, y)
}
