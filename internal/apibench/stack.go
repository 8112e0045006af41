package apibench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopclip/shopclip/internal/clipform"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

// SeedClip is the clip the stack serves: 3.4 s of H.264, 480x270, no
// audio; it transcodes in a few seconds.
const SeedClip = "h264_noaudio_480x270_koala.mp4"

// SearchWord is a word of the seed clip's title, for GET /v1/search.
const SearchWord = "koala"

// Stack is shopclip as a user runs it: `shopclip serve` built from this
// tree, on 127.0.0.1, against its config file (SQLite or PostgreSQL, Redis,
// a local blob directory, 127.0.0.1 as the trusted proxy), seeded through
// its CLI and API with a creator, a brand, a ready clip, three products
// (one on sale) and three live tags. A `shopclip worker` transcodes the
// clip and renders its timeline and share MP4, and is stopped once the
// clip has settled, so that the benchmark measures the API alone.
type Stack struct {
	// DB is "sqlite" or "postgres".
	DB string
	// Base is shopclip's base URL (http://127.0.0.1:port).
	Base string
	// Clip, Tags and Products are what was seeded.
	Clip     string
	Tags     []string
	Products []string
	// Media is the clip's published media path
	// (/v1/clips/{id}/media/{gen}/), Variant and Segment a variant playlist
	// and a segment under it.
	Media, Variant, Segment string

	tb             testing.TB
	bin, dir       string
	config         string
	hc             *http.Client
	creator, brand string
	serve, worker  *proc

	sessions atomic.Uint64
	mu       sync.Mutex
	answered map[string]int // events answered 202 with recorded=true, by type
}

// StackConfig says what to start.
type StackConfig struct {
	DB  string // "sqlite" or "postgres"
	Bin string // the shopclip binary (BuildShopclip)
	// Logf reports progress; default tb.Logf.
	Logf func(format string, args ...any)
}

// BuildShopclip builds the shopclip binary from this tree into a
// directory of tb's and returns its path.
func BuildShopclip(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "shopclip")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/shopclip/shopclip/cmd/shopclip").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build ./cmd/shopclip: %v\n%s", err, out)
	}
	return bin
}

// StartStack starts and seeds a stack; everything stops when tb ends.
func StartStack(tb testing.TB, cfg StackConfig) *Stack {
	tb.Helper()
	logf := cfg.Logf
	if logf == nil {
		logf = tb.Logf
	}
	s := &Stack{DB: cfg.DB, tb: tb, bin: cfg.Bin, dir: tb.TempDir(), answered: map[string]int{},
		hc: &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	tb.Cleanup(func() {
		if tb.Failed() {
			for _, name := range []string{"serve.log", "worker.log"} {
				if b, err := os.ReadFile(filepath.Join(s.dir, name)); err == nil {
					tb.Logf("%s (last 4 KiB):\n%s", name, b[max(0, len(b)-4096):])
				}
			}
		}
	})
	redisAddr, redisDB := testenv.Redis(tb)
	var database string
	switch cfg.DB {
	case "sqlite":
	case "postgres":
		database = fmt.Sprintf("database:\n  url: %q\n", testenv.Postgres(tb))
	default:
		tb.Fatalf("apibench: database %q: want sqlite or postgres", cfg.DB)
	}
	port, err := testenv.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.Base = "http://" + addr
	data := filepath.Join(s.dir, "data")
	s.config = filepath.Join(s.dir, "shopclip.yaml")
	yaml := fmt.Sprintf(`# written by internal/apibench
data_dir: %q
%sredis:
  url: redis://%s/%d
blob:
  dir: %q
worker:
  concurrency: 1
  metrics_addr: ""
http:
  # a CDN on this machine: the viewers' addresses come in X-Forwarded-For
  trusted_proxies:
    - 127.0.0.1
`, data, database, redisAddr, redisDB, filepath.Join(data, "blobs"))
	if err := os.WriteFile(s.config, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	logf("apibench: %s: starting shopclip serve on %s", cfg.DB, addr)
	s.serve = s.start("serve", "serve", "--config", s.config, "--addr", addr)
	if err := s.waitReady(ctx, 2*time.Minute); err != nil {
		tb.Fatalf("apibench: shopclip serve: %v", err)
	}
	s.worker = s.start("worker", "worker", "--config", s.config)
	s.creator = s.cli("account", "create", "--role", "creator", "--name", "bench-creator", "--config", s.config)
	s.brand = s.cli("account", "create", "--role", "brand", "--name", "bench-brand", "--config", s.config)

	if err := s.seed(ctx, logf); err != nil {
		tb.Fatalf("apibench: %s: seed: %v", cfg.DB, err)
	}
	s.worker.stop()
	return s
}

// seed uploads the clip, waits until it is ready, adds the products and
// the tags, and waits until the clip has settled.
func (s *Stack) seed(ctx context.Context, logf func(string, ...any)) error {
	media := testenv.Media(s.tb, SeedClip)
	logf("apibench: %s: uploading %s", s.DB, SeedClip)
	id, err := s.upload(ctx, media, "Koala lamp bench")
	if err != nil {
		return err
	}
	s.Clip = id
	var clip clipView
	if err := poll(ctx, 5*time.Minute, func() error {
		if err := s.getJSON(ctx, s.creator, "/v1/clips/"+id, &clip); err != nil {
			return err
		}
		switch clip.Status {
		case "ready":
			return nil
		case "failed":
			return errStop(fmt.Errorf("clip %s failed: %+v", id, clip.Error))
		}
		return fmt.Errorf("clip %s is %s", id, clip.Status)
	}); err != nil {
		return err
	}
	logf("apibench: %s: clip %s ready", s.DB, id)

	now := time.Now().UTC()
	for i, title := range []string{"Eucalyptus lamp", "Gum-leaf cushion", "Bark vase"} {
		var p struct{ ID string }
		if err := s.postJSON(ctx, s.brand, "/v1/products", map[string]any{"sku": fmt.Sprintf("BENCH-%d", i), "title": title,
			"currency": "EUR", "price_minor": 5000 + 1000*i, "url": "https://shop.example.com/p/" + strconv.Itoa(i)}, 201, &p); err != nil {
			return err
		}
		s.Products = append(s.Products, p.ID)
	}
	if err := s.postJSON(ctx, s.brand, "/v1/products/"+s.Products[0]+"/discounts", map[string]any{"kind": "percent", "percent_off": 20,
		"starts_at": now.Add(-time.Minute).Format(time.RFC3339), "ends_at": now.Add(12 * time.Hour).Format(time.RFC3339)}, 201, nil); err != nil {
		return err
	}
	for i, p := range s.Products {
		var tag struct{ ID string }
		if err := s.postJSON(ctx, s.brand, "/v1/clips/"+id+"/tags", map[string]any{"product_id": p,
			"start_ms": 1000 * i, "end_ms": 1000*i + 1000, "x": 0.2 + 0.3*float64(i), "y": 0.5}, 202, &tag); err != nil {
			return err
		}
		if err := s.postJSON(ctx, s.creator, "/v1/clips/"+id+"/tags/"+tag.ID+"/approve", nil, 200, nil); err != nil {
			return err
		}
		s.Tags = append(s.Tags, tag.ID)
	}

	// The worker renders the timeline and the share MP4 after the tags:
	// the clip (and so the feed) changes until it has. It has settled
	// when the clip shows a share and stays the same for 3 s.
	logf("apibench: %s: waiting for the clip to settle (timeline, share MP4)", s.DB)
	var last []byte
	same := 0
	if err := poll(ctx, 3*time.Minute, func() error {
		_, b, err := s.call(ctx, s.creator, "GET", "/v1/clips/"+id, nil, "")
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &clip); err != nil {
			return err
		}
		if bytes.Equal(b, last) {
			same++
		} else {
			same, last = 0, b
		}
		if clip.Playback.Share == "" || same < 3 {
			return fmt.Errorf("clip %s not settled: share %q", id, clip.Playback.Share)
		}
		return nil
	}); err != nil {
		return err
	}

	// The HLS: a variant playlist and its first segment.
	master := clip.Playback.HLS
	s.Media = master[:strings.LastIndex(master, "/")+1]
	_, b, err := s.call(ctx, "", "GET", master, nil, "")
	if err != nil {
		return err
	}
	m, err := transcode.ParseMasterPlaylist(b)
	if err != nil || len(m.Variants) == 0 {
		return fmt.Errorf("master playlist %s: %v (%d variants)", master, err, len(m.Variants))
	}
	s.Variant = path.Join(s.Media, m.Variants[0].URI)
	if _, b, err = s.call(ctx, "", "GET", s.Variant, nil, ""); err != nil {
		return err
	}
	mp, err := transcode.ParseMediaPlaylist(b)
	if err != nil || len(mp.Segments) == 0 {
		return fmt.Errorf("variant playlist %s: %v", s.Variant, err)
	}
	s.Segment = path.Join(path.Dir(s.Variant), mp.Segments[0].URI)
	return nil
}

// Targets are the requests the benchmark repeats, read paths first.
func (s *Stack) Targets() []Target {
	return []Target{
		{Name: "GET /v1/clips/{id}/popups", Method: "GET", Path: "/v1/clips/" + s.Clip + "/popups", Read: true},
		{Name: "GET /v1/feed", Method: "GET", Path: "/v1/feed", Read: true},
		{Name: "GET /v1/deals", Method: "GET", Path: "/v1/deals", Read: true},
		{Name: "GET /v1/search?q=" + SearchWord, Method: "GET", Path: "/v1/search?q=" + SearchWord, Read: true},
		{Name: "GET …/media/{gen}/" + strings.TrimPrefix(s.Variant, s.Media), Method: "GET", Path: s.Variant, Read: true},
		{Name: "GET …/media/{gen}/" + strings.TrimPrefix(s.Segment, s.Media), Method: "GET", Path: s.Segment, Read: true},
		{Name: "POST /v1/events", Method: "POST", Path: "/v1/events", Body: s.EventBody, Events: true},
		{Name: "GET /v1/buy/{tag}", Method: "GET", Path: "/v1/buy/" + s.Tags[0]},
	}
}

// EventBody is a viewer's event, each with a session of its own so that
// each is recorded: views of the clip and impressions of its pop-ups in
// turn.
func (s *Stack) EventBody(uint64) []byte {
	n := s.sessions.Add(1)
	if n%2 == 0 {
		return fmt.Appendf(nil, `{"type":"view","session_id":"bench%012d","clip_id":%q}`, n, s.Clip)
	}
	return fmt.Appendf(nil, `{"type":"popup_impression","session_id":"bench%012d","clip_id":%q,"tag_id":%q}`, n, s.Clip, s.Tags[n%uint64(len(s.Tags))])
}

// CountEvent counts an answer of POST /v1/events: 202 with recorded=true
// is an event the store must hold.
func (s *Stack) CountEvent(status int, body []byte) {
	if status != http.StatusAccepted {
		return
	}
	var r struct {
		Recorded bool
		Event    struct{ Type string }
	}
	if json.Unmarshal(body, &r) != nil || !r.Recorded {
		return
	}
	s.mu.Lock()
	s.answered[r.Event.Type]++
	s.mu.Unlock()
}

// EventsCheck compares the events answered as recorded with what the
// clip's stats (GET /v1/clips/{id}/stats, as its creator) count.
type EventsCheck struct {
	AnsweredViews, AnsweredImpressions int64
	StoredViews, StoredImpressions     int64
	Waited                             time.Duration
}

// Exact reports whether the store holds exactly the events answered.
func (c EventsCheck) Exact() bool {
	return c.AnsweredViews == c.StoredViews && c.AnsweredImpressions == c.StoredImpressions
}

func (c EventsCheck) String() string {
	verdict := "exact"
	if !c.Exact() {
		verdict = fmt.Sprintf("NOT EXACT: %+d views, %+d impressions", c.StoredViews-c.AnsweredViews, c.StoredImpressions-c.AnsweredImpressions)
	}
	return fmt.Sprintf("answered recorded=true: %d views, %d impressions; the clip's stats: %d views, %d impressions (after %s): %s",
		c.AnsweredViews, c.AnsweredImpressions, c.StoredViews, c.StoredImpressions, c.Waited.Round(time.Millisecond), verdict)
}

// CheckEvents reads the clip's stats until they count the events answered
// as recorded (batched writes may lag), for at most 15 s.
func (s *Stack) CheckEvents(ctx context.Context) (EventsCheck, error) {
	s.mu.Lock()
	c := EventsCheck{AnsweredViews: int64(s.answered["view"]), AnsweredImpressions: int64(s.answered["popup_impression"])}
	s.mu.Unlock()
	start := time.Now()
	var readErr error
	poll(ctx, 15*time.Second, func() error {
		var st struct {
			Views  int64
			Totals struct{ Impressions int64 }
		}
		if readErr = s.getJSON(ctx, s.creator, "/v1/clips/"+s.Clip+"/stats", &st); readErr != nil {
			return readErr
		}
		c.StoredViews, c.StoredImpressions = st.Views, st.Totals.Impressions
		if !c.Exact() {
			return errors.New(c.String())
		}
		return nil
	})
	c.Waited = time.Since(start)
	return c, readErr
}

// Capture makes one request of t to shopclip and keeps its answer for the
// floor.
func (s *Stack) Capture(ctx context.Context, t Target, addrs *Addresses) (Capture, error) {
	var body io.Reader
	if t.Body != nil {
		body = bytes.NewReader(t.Body(0))
	}
	req, err := http.NewRequestWithContext(ctx, t.Method, s.Base+t.Path, body)
	if err != nil {
		return Capture{}, err
	}
	req.Header.Set("X-Forwarded-For", addrs.Next())
	if t.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return Capture{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Capture{}, err
	}
	if t.Events {
		s.CountEvent(resp.StatusCode, b)
	}
	p, _, _ := strings.Cut(t.Path, "?")
	return Capture{Method: t.Method, Path: p, Status: resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"), Location: resp.Header.Get("Location"), Body: b}, nil
}

// ---- processes and the API ----------------------------------------------

// proc is a shopclip process of the stack, in its own process group, its
// output in a log file of the stack's directory.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (s *Stack) start(name string, args ...string) *proc {
	s.tb.Helper()
	log, err := os.Create(filepath.Join(s.dir, name+".log"))
	if err != nil {
		s.tb.Fatal(err)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Env = environ()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		s.tb.Fatalf("apibench: start shopclip %s: %v", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); log.Close(); close(p.done) }()
	s.tb.Cleanup(p.stop)
	return p
}

// stop sends SIGTERM to the process group, then SIGKILL after 20 s, and
// waits for the process.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// environ is the environment without SHOPCLIP_ variables: the config file
// says everything.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SHOPCLIP_") || strings.HasPrefix(kv, "SHOPCLIP_TEST_") {
			env = append(env, kv)
		}
	}
	return env
}

// cli runs a shopclip command and returns what it printed.
func (s *Stack) cli(args ...string) string {
	s.tb.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		s.tb.Fatalf("apibench: shopclip %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

func (s *Stack) waitReady(ctx context.Context, timeout time.Duration) error {
	return poll(ctx, timeout, func() error {
		if s.serve.exited() {
			return errStop(errors.New("exited (see serve.log)"))
		}
		status, _, err := s.call(ctx, "", "GET", "/readyz", nil, "")
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("readyz: %d", status)
		}
		return nil
	})
}

// clipView is the part of a clip the stack reads.
type clipView struct {
	ID, Status string
	Error      *struct{ Code, Message string }
	Playback   struct{ HLS, Share string }
}

// call makes one request; body is JSON unless it is an io.Reader (then ct
// names its type).
func (s *Stack) call(ctx context.Context, key, method, p string, body any, ct string) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		js, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd, ct = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, s.Base+p, rd)
	if err != nil {
		return 0, nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

func (s *Stack) getJSON(ctx context.Context, key, p string, out any) error {
	status, b, err := s.call(ctx, key, "GET", p, nil, "")
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", p, status, b)
	}
	return json.Unmarshal(b, out)
}

func (s *Stack) postJSON(ctx context.Context, key, p string, in any, want int, out any) error {
	status, b, err := s.call(ctx, key, "POST", p, in, "")
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("POST %s: %d %s, want %d", p, status, b, want)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// upload posts file as a clip (multipart) and returns its ID.
func (s *Stack) upload(ctx context.Context, file, title string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	body, contentType := clipform.New(f, filepath.Base(file), title)
	defer body.Close()
	status, b, err := s.call(ctx, s.creator, "POST", "/v1/clips", body, contentType)
	if err != nil {
		return "", err
	}
	if status != http.StatusAccepted {
		return "", fmt.Errorf("upload: %d %s", status, b)
	}
	var c clipView
	if err := json.Unmarshal(b, &c); err != nil {
		return "", err
	}
	return c.ID, nil
}

// stopError ends a poll at once.
type stopError struct{ error }

func errStop(err error) error { return stopError{err} }

// poll calls ok every 200 ms until it returns nil or a stop error, ctx
// ends or timeout passes; it returns ok's last error.
func poll(ctx context.Context, timeout time.Duration, ok func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ok()
		var stop stopError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &stop):
			return stop.error
		case time.Now().After(deadline):
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
